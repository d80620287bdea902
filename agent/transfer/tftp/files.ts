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

/** Bytes read from disk at a time: a few windows, so a 1-block window does not cost one read per block. */
const READ_AHEAD_BYTES = 256 * 1024;

/** Positional reads that are mostly sequential, served from one read-ahead buffer. */
export class ReadAhead {
  readonly #buffer: Uint8Array;
  #start = 0;
  #length = 0;

  constructor(
    private readonly file: FileHandle,
    maxRead: number,
  ) {
    this.#buffer = new Uint8Array(Math.max(READ_AHEAD_BYTES, maxRead));
  }

  /** Up to `length` bytes at `position` (fewer at end of file), in a fresh array the caller may keep. */
  async read(position: number, length: number): Promise<Uint8Array> {
    if (position < this.#start || position + length > this.#start + this.#length) {
      const { bytesRead } = await this.file.read(this.#buffer, 0, this.#buffer.length, position);
      this.#start = position;
      this.#length = bytesRead;
    }
    const from = position - this.#start;
    return this.#buffer.slice(from, Math.min(from + length, this.#length));
  }
}
