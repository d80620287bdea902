import { readFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { ConfigError } from "./errors.js";

/**
 * Read a text file the operator named (a config, a certificate, a trust
 * store). One that cannot be read is their mistake to fix: a one-line
 * ConfigError naming the setting, the path and the reason (ENOENT, EACCES…).
 */
export function readOperatorFile(path: string, setting?: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`${setting ? `${setting}: ` : ""}cannot read ${path} (${reason})`, { cause: err });
  }
}

/** fs writes may be partial; loop until the whole chunk is on its way to disk. */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.length; ) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
}

/**
 * A file on its way to the disk: open, write every byte, fsync, close. What
 * must survive a power cut is written through one of these — a file is
 * durable only once commit() resolved. Making its name durable is the
 * caller's part (fsync the directory after a rename or a create).
 */
export interface DurableFile {
  write(chunk: Uint8Array): Promise<void>;
  /** fsync, then close. */
  commit(): Promise<void>;
  /** Close without fsync: the caller is about to remove the file or give up on it. Safe after commit() and more than once. */
  discard(): Promise<void>;
}

/** Create (or truncate; with `exclusive`, refuse an existing) `path` for durable writing. */
export async function createDurableFile(path: string, mode: number, o: { exclusive?: boolean } = {}): Promise<DurableFile> {
  const fh = await open(path, o.exclusive ? "wx" : "w", mode);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fh.close();
  };
  return {
    write: (chunk) => writeAll(fh, chunk),
    async commit() {
      try {
        await fh.sync();
      } finally {
        await close();
      }
    },
    discard: () => close().catch(() => undefined),
  };
}

/**
 * Write `content` to `path` through a DurableFile. `written` runs between
 * the write and the fsync (a crash test's failpoint goes there).
 */
export async function writeFileDurably(path: string, content: string | Uint8Array, o: { mode: number; written?: () => void }): Promise<void> {
  const file = await createDurableFile(path, o.mode);
  try {
    await file.write(typeof content === "string" ? Buffer.from(content) : content);
    o.written?.();
    await file.commit();
  } finally {
    await file.discard();
  }
}
