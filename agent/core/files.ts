import { readFileSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
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
