/**
 * The server's view of its directory: names confined to it the way
 * tftpd-hpa --secure confines them, and files read in order through a
 * small read-ahead buffer (never the whole image).
 */
import { constants } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import { sep } from "node:path";
import { ConfigError } from "../../core/index.js";
import { TftpErrorCode } from "./packet.js";

/** Why a name was refused, as the ERROR to answer with. */
export interface Refusal {
  code: TftpErrorCode;
  message: string;
}

/** The served directory, resolved once so that every name is checked against its real path. */
export async function servedRoot(dir: string): Promise<string> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch (err) {
    throw new ConfigError(`cannot serve ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (!(await stat(root)).isDirectory()) throw new ConfigError(`cannot serve ${dir} (not a directory)`);
  return root;
}

/**
 * Open `name` for reading inside `root`, or say why not. The name is
 * relative (an absolute one is refused, not re-rooted) and has no ".."
 * part; its real path, after every symlink, must still lie under root; and
 * it must be a regular file.
 */
export async function openServedFile(root: string, name: string): Promise<{ file: FileHandle; size: number } | Refusal> {
  const parts = name.split(/[/\\]/);
  if (name.startsWith("/") || name.startsWith("\\") || parts.includes("..")) return { code: TftpErrorCode.AccessViolation, message: "Access violation" };
  let real: string;
  try {
    real = await realpath(`${root}${sep}${parts.join(sep)}`);
  } catch {
    return { code: TftpErrorCode.FileNotFound, message: "File not found" };
  }
  if (!real.startsWith(`${root}${sep}`)) return { code: TftpErrorCode.AccessViolation, message: "Access violation" };
  let file: FileHandle;
  try {
    // O_NOFOLLOW: a symlink swapped in after realpath is refused, not followed out of root.
    file = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return { code: TftpErrorCode.AccessViolation, message: "Access violation" };
  }
  const info = await file.stat();
  if (!info.isFile()) {
    await file.close();
    return { code: TftpErrorCode.FileNotFound, message: "File not found" };
  }
  return { file, size: info.size };
}

/**
 * Bytes read from disk at a time: several windows, so a 1-block window does
 * not cost one read per block; small enough that a server at its transfer
 * limit holds little (each transfer keeps at most three chunks: the one
 * being served, the next being read, and a previous one its unacknowledged
 * blocks still point into).
 */
const READ_AHEAD_BYTES = 128 * 1024;

/** File bytes from `start`; shorter than a full chunk only at the end of the file. */
interface Chunk {
  start: number;
  bytes: Uint8Array;
}

/**
 * Positional reads that are mostly sequential, served from read-ahead
 * chunks: while one chunk is served, the next is already being read, so a
 * sequential reader (a transfer sending window after window) never waits
 * for the disk or the thread pool. Chunks are never reused, so what `read`
 * returns is a view the caller may keep without a copy.
 */
export class ReadAhead {
  readonly #chunkBytes: number;
  #current: Chunk | undefined;
  /** The chunk after #current, being read. */
  #next: Promise<Chunk> | undefined;

  constructor(
    private readonly file: FileHandle,
    maxRead: number,
  ) {
    this.#chunkBytes = Math.max(READ_AHEAD_BYTES, maxRead);
  }

  /**
   * read()'s answer without waiting, when the chunk being served holds the
   * whole run (the usual case: a 128 KB chunk serves many windows); else
   * undefined, and read() is the way.
   */
  readHeld(position: number, length: number): Uint8Array | undefined {
    const c = this.#current;
    if (!c || !this.#holds(c, position)) return undefined;
    const end = c.start + c.bytes.length;
    if (position + length > end && !this.#isLast(c)) return undefined;
    this.#prefetch();
    return c.bytes.subarray(position - c.start, Math.min(position + length, end) - c.start);
  }

  /** Up to `length` bytes at `position` (fewer at end of file); the caller may keep them. */
  async read(position: number, length: number): Promise<Uint8Array> {
    const first = this.#current && this.#holds(this.#current, position) ? this.#current : await this.#chunkAt(position);
    this.#current = first;
    const end = position + length;
    const firstEnd = first.start + first.bytes.length;
    if (end <= firstEnd || this.#isLast(first)) {
      this.#prefetch();
      return first.bytes.subarray(position - first.start, Math.min(end, firstEnd) - first.start);
    }
    // The run spans two chunks: join its two parts (once per chunk, at most a window).
    const second = await this.#chunkAt(firstEnd);
    this.#current = second;
    this.#prefetch();
    const tail = second.bytes.subarray(0, end - firstEnd);
    const run = new Uint8Array(firstEnd - position + tail.length);
    run.set(first.bytes.subarray(position - first.start));
    run.set(tail, firstEnd - position);
    return run;
  }

  #isLast(c: Chunk): boolean {
    return c.bytes.length < this.#chunkBytes;
  }

  /** Whether `c` has the byte at `position` (or `position` is the end of the file `c` ends). */
  #holds(c: Chunk, position: number): boolean {
    const end = c.start + c.bytes.length;
    return position >= c.start && (position < end || (position === end && this.#isLast(c)));
  }

  /** The chunk at `position`: the prefetched one when it starts there, else a fresh read. */
  async #chunkAt(position: number): Promise<Chunk> {
    const next = this.#next;
    this.#next = undefined;
    const fetched = next && (await next);
    return fetched?.start === position ? fetched : this.#readChunk(position);
  }

  /** Start reading the chunk after the current one, unless it is read already or the file ends. */
  #prefetch(): void {
    const current = this.#current!;
    if (this.#next || this.#isLast(current)) return;
    this.#next = this.#readChunk(current.start + current.bytes.length);
    // Its failure surfaces when the chunk is needed; a transfer that ends first never asks.
    this.#next.catch(() => {});
  }

  async #readChunk(start: number): Promise<Chunk> {
    const bytes = new Uint8Array(this.#chunkBytes);
    const { bytesRead } = await this.file.read(bytes, 0, bytes.length, start);
    return { start, bytes: bytes.subarray(0, bytesRead) };
  }
}
