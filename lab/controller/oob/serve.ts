/**
 * Serving one image file over HTTP: GET and HEAD, a single byte range
 * (RFC 9110 §14), If-Range, streamed from the file through its own read
 * stream (never read whole), shaped by a body fault. The embedded server
 * answers the AP with it; with nginx, the controller's upstream for the body
 * faults does.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { bodyPlan, corruptChunk, type OobFault } from "./faults.js";
import { IMAGE_NAME } from "./tokens.js";

/** What a response sent: its body bytes written so far, and how many it meant to send. */
export interface Tally {
  bytes: number;
  length: number;
}

/** A request's target: an image, or why none (the status to answer). */
export type RequestTarget = { image: string; file: string } | { status: 400 | 404; file: string };

/** How much of a strange path a log line shows. */
const SHOWN_PATH = 120;

/** `/images/<class>` and nothing else: a percent-encoded name is decoded first, so "/images/%2e%2e" names no class either. */
export function requestTarget(url: string): RequestTarget {
  const path = url.split("?", 1)[0]!;
  const file = path.slice(0, SHOWN_PATH);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { status: 400, file };
  }
  const image = /^\/images\/([^/]*)$/.exec(decoded)?.[1];
  return image !== undefined && IMAGE_NAME.test(image) ? { image, file: image } : { status: 404, file };
}

export type RangeRequest = { kind: "whole" } | { kind: "range"; start: number; end: number } | { kind: "unsatisfiable" };

/**
 * RFC 9110 §14.1.2: one `bytes=` range, `a-b`, `a-` or `-n`. Several ranges,
 * another unit or bad syntax are ignored (the whole file, 200), as a server
 * may; a range that starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  const spec = header === undefined ? null : /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!spec || (spec[1] === "" && spec[2] === "")) return { kind: "whole" };
  if (spec[1] === "") {
    const suffix = Number(spec[2]);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === "" ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (spec[2] !== "" && Number(spec[2]) < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}

/** nginx's validators, so both servers answer If-Range alike: ETag "<mtime hex>-<size hex>", Last-Modified to the second. */
function validators(size: number, mtimeMs: number): { etag: string; lastModified: string; modifiedMs: number } {
  const seconds = Math.floor(mtimeMs / 1000);
  return { etag: `"${seconds.toString(16)}-${size.toString(16)}"`, lastModified: new Date(seconds * 1000).toUTCString(), modifiedMs: seconds * 1000 };
}

/** RFC 9110 §13.1.5: a range applies only if the representation is still the one If-Range names (strong ETag, or exact date). */
function ifRangeHolds(ifRange: string | undefined, v: ReturnType<typeof validators>): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === v.etag;
  return Date.parse(value) === v.modifiedMs;
}

/** A short answer with no file behind it (401, 403, 404, 405, 416…), its text as body. */
export function answer(res: ServerResponse, status: number, tally: Tally, headers: Record<string, string> = {}): void {
  const body = `${status} ${STATUS_CODES[status] ?? ""}\n`;
  const head = res.req.method === "HEAD";
  res.writeHead(status, { ...headers, "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
  tally.length = tally.bytes = head ? 0 : Buffer.byteLength(body);
  res.end(head ? undefined : body);
}

/** Send the file at `path` (a name already confined to the bundle) as the answer to `req`, shaped by `fault`. */
export async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, fault: OobFault | undefined, tally: Tally): Promise<void> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO in the bundle must not hang the request.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return answer(res, 404, tally);
  }
  let streaming = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || res.destroyed) return answer(res, 404, tally);
    const v = validators(stat.size, stat.mtimeMs);
    const ifRange = req.headers["if-range"];
    // Sent twice, it names no one representation: the whole file.
    const range = typeof ifRange !== "object" && ifRangeHolds(ifRange, v) ? parseRange(req.headers.range, stat.size) : { kind: "whole" as const };
    const headers = { "Accept-Ranges": "bytes", ETag: v.etag, "Last-Modified": v.lastModified };
    if (range.kind === "unsatisfiable") return answer(res, 416, tally, { ...headers, "Content-Range": `bytes */${stat.size}` });
    const [start, end] = range.kind === "range" ? [range.start, range.end] : [0, stat.size - 1];
    const length = end - start + 1;
    res.writeHead(range.kind === "range" ? 206 : 200, {
      ...headers,
      "Content-Type": "application/octet-stream",
      "Content-Length": length,
      ...(range.kind === "range" ? { "Content-Range": `bytes ${start}-${end}/${stat.size}` } : {}),
    });
    tally.length = req.method === "HEAD" ? 0 : length;
    const plan = bodyPlan(fault, tally.length);
    if (plan.send === 0) return finish(res, plan.then);
    streaming = true;
    streamBody(res, handle, { start, send: plan.send, then: plan.then, fileSize: stat.size, corrupt: fault === "corrupt" }, tally);
  } finally {
    if (!streaming) await handle.close();
  }
}

function finish(res: ServerResponse, then: "end" | "close" | "hold"): void {
  if (then === "end") res.end();
  // The announced length is not reached: the client sees the connection close mid-body.
  else if (then === "close") res.socket?.end();
  // "hold": the connection stays open in silence until the client or close() ends it.
}

/** Bytes [start, start + send) of the file to `res`, at the pace the client reads (the read stream pauses while the socket is full). */
function streamBody(res: ServerResponse, handle: FileHandle, o: { start: number; send: number; then: "end" | "close" | "hold"; fileSize: number; corrupt: boolean }, tally: Tally): void {
  // The stream owns the handle from here: it closes it at its end, or when destroyed.
  const source = handle.createReadStream({ start: o.start, end: o.start + o.send - 1 });
  let position = o.start;
  source.on("data", (chunk) => {
    const bytes = chunk as Buffer;
    if (o.corrupt) corruptChunk(bytes, position, o.fileSize);
    position += bytes.length;
    tally.bytes += bytes.length;
    if (!res.write(bytes)) source.pause();
  });
  res.on("drain", () => source.resume());
  res.once("close", () => source.destroy());
  source.once("end", () => finish(res, o.then));
  // A read error mid-body: the client must see a broken transfer, not a short one that looks whole.
  source.once("error", () => res.destroy());
}
