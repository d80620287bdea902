/**
 * `fetchHttp`: download one image by HTTP or HTTPS (undici) into an
 * ImageSink, streaming — each chunk is written, and the next read only once
 * the sink took it, so memory never grows with the image. Redirects are
 * followed (at most MAX_REDIRECTS); a connection that breaks mid-body is
 * resumed with `Range`/`If-Range` when the server offered it (at most
 * MAX_RESUMES); the byte count is checked against Content-Length. Proxies
 * come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY. Fails with an ImageSourceError
 * carrying the seam's reason, after aborting the sink.
 */
import { type Dispatcher, EnvHttpProxyAgent, request } from "undici";
import { ConfigError, describeError } from "../../core/index.js";
import type { ImageSink, ImageSinkResult } from "../sink.js";
import { ImageSourceError } from "../source.js";
import { decodedPart, redactCredentials } from "../url.js";
import { errorFailure, isConnectionBreak, statusFailure } from "./failures.js";
import { DEFAULT_HTTP_TIMEOUT_MS, MAX_REDIRECTS, MAX_RESUMES, REDIRECT_STATUSES } from "./limits.js";

export interface FetchHttpOptions {
  signal?: AbortSignal;
  onProgress?(bytes: number, total?: number): void;
  /** PEM of a private CA (or chain of CAs), trusted instead of the system's roots. */
  ca?: string;
  /** Connect, response-headers and body-silence timeout; default DEFAULT_HTTP_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The image's name for the sink; default the URL's last path segment. */
  name?: string;
  /** An Authorization header value (a bearer token), in place of the URL's credentials; a secret, never shown. */
  authorization?: string;
  /** Connect from this address (an AP's one interface: the address its controller knows it by). */
  localAddress?: string;
  /** Errors name the URL first ("https://host/path: HTTP 404"); false when the caller has shown it already. */
  urlInErrors?: boolean;
}

export interface FetchHttpResult extends ImageSinkResult {
  bytes: number;
  /** Ranged requests it took after broken connections. */
  resumes: number;
}

/** An http(s) URL split into where to send the request and the credentials it carried (sent as Basic auth, never printed). */
export interface HttpTarget {
  url: URL;
  authorization?: string;
}

export function parseHttpUrl(url: string): HttpTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`"${redactCredentials(url)}" is not http(s)://host[:port]/path`);
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    throw new ConfigError(`"${redactCredentials(url)}" is not http(s)://host[:port]/path`);
  }
  decodedPart(parsed.pathname, "path", url);
  if (parsed.username === "" && parsed.password === "") return { url: parsed };
  const credentials = `${decodedPart(parsed.username, "user name", url)}:${decodedPart(parsed.password, "password", url)}`;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

type Headers = Record<string, string | string[] | undefined>;

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Content-Length as a number, when the server sent a sane one. */
function contentLength(headers: Headers): number | undefined {
  const text = header(headers, "content-length");
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** What a ranged retry sends as If-Range, so a changed file is sent whole rather than spliced: a strong ETag, else Last-Modified. */
export function resumeValidator(headers: Headers): string | undefined {
  const etag = header(headers, "etag");
  if (etag !== undefined && !etag.startsWith("W/")) return etag;
  return header(headers, "last-modified");
}

/** The first byte a 206 answer holds (`Content-Range: bytes FIRST-LAST/TOTAL`). */
export function rangeStart(headers: Headers): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header(headers, "content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

function dispatcherFor(o: FetchHttpOptions): Dispatcher {
  const timeout = o.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  // A given CA is the only trust, as curl's --cacert: the AP trusts its controller's CA, not the public roots.
  const tls = o.ca === undefined ? {} : { ca: o.ca };
  const from = o.localAddress === undefined ? {} : { localAddress: o.localAddress };
  return new EnvHttpProxyAgent({ ...from, connect: { ...tls, timeout }, requestTls: { ...tls, timeout }, headersTimeout: timeout, bodyTimeout: timeout });
}

async function intoSink<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new ImageSourceError("sink", `sink refused the image: ${describeError(err)}`, { cause: err });
  }
}

export async function fetchHttp(url: string, sink: ImageSink, o: FetchHttpOptions = {}): Promise<FetchHttpResult> {
  const target = parseHttpUrl(url);
  const where = o.urlInErrors === false ? "" : `${redactCredentials(url)}: `;
  if (o.signal?.aborted) throw new ImageSourceError("aborted", `${where}download cancelled`);
  const dispatcher = dispatcherFor(o);
  try {
    return await new Download(target, sink, dispatcher, o).run();
  } catch (err) {
    const failure = o.signal?.aborted
      ? { reason: "aborted" as const, message: "download cancelled" }
      : err instanceof ImageSourceError
        ? { reason: err.reason, message: err.message }
        : errorFailure(err);
    await sink.abort(failure.message).catch(() => {});
    throw new ImageSourceError(failure.reason, `${where}${failure.message}`, { cause: err });
  } finally {
    await dispatcher.destroy().catch(() => {});
  }
}

type Response = Dispatcher.ResponseData;

/** One download: the first response (after redirects), its body, and a ranged request for each break. */
class Download {
  #url: URL;
  #authorization: string | undefined;
  #written = 0;

  constructor(
    target: HttpTarget,
    private readonly sink: ImageSink,
    private readonly dispatcher: Dispatcher,
    private readonly o: FetchHttpOptions,
  ) {
    this.#url = target.url;
    this.#authorization = o.authorization ?? target.authorization;
  }

  #get(extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...extra };
    if (this.#authorization) headers.authorization = this.#authorization;
    return request(this.#url, { method: "GET", headers, dispatcher: this.dispatcher, signal: this.o.signal });
  }

  /** GET, following redirects; the 200 that holds the image, or a typed failure. */
  async #firstResponse(): Promise<Response> {
    for (let redirects = 0; ; redirects++) {
      const response = await this.#get();
      if (REDIRECT_STATUSES.has(response.statusCode)) {
        await response.body.dump();
        const location = header(response.headers, "location");
        if (location === undefined) throw new ImageSourceError("network", `HTTP ${response.statusCode} without a Location`);
        if (redirects >= MAX_REDIRECTS) throw new ImageSourceError("network", `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, this.#url);
        if (next.protocol !== "http:" && next.protocol !== "https:") throw new ImageSourceError("refused", `redirected to ${next.protocol}// (only http:// and https://)`);
        // Credentials go only to the origin they were given for.
        if (next.origin !== this.#url.origin) this.#authorization = undefined;
        this.#url = next;
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        const failure = statusFailure(response.statusCode, "");
        throw new ImageSourceError(failure.reason, failure.message);
      }
      return response;
    }
  }

  /** The rest of the image from byte #written on, or a typed failure if the server will not (or the file changed). */
  async #resume(validator: string | undefined): Promise<Response> {
    const response = await this.#get({ range: `bytes=${this.#written}-`, ...(validator ? { "if-range": validator } : {}) });
    if (response.statusCode === 206 && rangeStart(response.headers) === this.#written) return response;
    await response.body.dump();
    if (response.statusCode === 200) throw new ImageSourceError("integrity", `the file changed on the server while resuming at byte ${this.#written}`);
    const failure = response.statusCode === 206 ? { reason: "integrity" as const, message: `resumed at the wrong byte (${header(response.headers, "content-range")})` } : statusFailure(response.statusCode, "");
    throw new ImageSourceError(failure.reason, `resuming at byte ${this.#written}: ${failure.message}`);
  }

  async run(): Promise<FetchHttpResult> {
    let response = await this.#firstResponse();
    const total = contentLength(response.headers);
    const validator = resumeValidator(response.headers);
    const resumable = header(response.headers, "accept-ranges") === "bytes" || validator !== undefined;
    const last = this.#url.pathname.split("/").pop() ?? "";
    // A redirect may name a path with a bad %-escape: the name is then shown as sent.
    const name = this.o.name ?? (safeDecode(last) || this.#url.hostname);
    await intoSink(() => this.sink.begin({ name, ...(total === undefined ? {} : { size: total }) }));
    let resumes = 0;
    for (;;) {
      try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          await intoSink(() => this.sink.write(chunk));
          this.#written += chunk.length;
          this.o.onProgress?.(this.#written, total);
        }
        break;
      } catch (err) {
        const canResume = resumable && resumes < MAX_RESUMES && !this.o.signal?.aborted && !(err instanceof ImageSourceError) && isConnectionBreak(err);
        if (!canResume) throw brokenBody(err, this.#written, total);
        resumes++;
        response = await this.#resume(validator);
      }
    }
    if (total !== undefined && this.#written !== total) throw new ImageSourceError("integrity", `truncated: ${this.#written} of ${total} bytes`);
    const result = await intoSink(() => this.sink.finish());
    return { ...result, bytes: this.#written, resumes };
  }
}

/** A body that stopped early and could not be resumed: a known size makes it a truncated image. */
function brokenBody(err: unknown, written: number, total: number | undefined): unknown {
  if (err instanceof ImageSourceError) return err;
  const failure = errorFailure(err);
  if (failure.reason !== "network" || total === undefined) return err;
  return new ImageSourceError("integrity", `truncated: ${written} of ${total} bytes (${failure.message})`, { cause: err });
}
