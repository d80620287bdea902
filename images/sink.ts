/**
 * Where a verified image's members go. The verifier opens one file per
 * member, in archive order, streams its bytes, and at the end either commits
 * (every check passed) or discards (anything failed). Bytes reach the sink
 * before the signature at the end of the archive is checked, so a sink must
 * keep them somewhere that is thrown away on discard — the standby
 * partition, never the active one.
 */
import { constants } from "node:fs";
import { lstat, open, realpath, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { failpoint, UsageError, writeAll } from "../agent/core/index.js";
import { unsafeNameReason } from "./format.js";

export interface MemberFile {
  /** The next bytes of the member; the verifier awaits each call (backpressure) and may reuse `chunk` after. */
  write(chunk: Uint8Array): Promise<void>;
  /** All `size` bytes were written. */
  close(): Promise<void>;
}

export interface MemberSink {
  /** A member, with the size its header declares, about to stream. */
  open(name: string, size: number): Promise<MemberFile>;
  /** Every check passed: make what was written durable. */
  commit(): Promise<void>;
  /** The image was refused or the stream failed: remove what was written. Safe to call more than once. */
  discard(): Promise<void>;
}

const nothing: MemberFile = { write: async () => {}, close: async () => {} };

/** Keeps nothing: verify only (the fleet's `sink` storage mode, `vap image verify`). */
export function hashOnlySink(): MemberSink {
  return { open: async () => nothing, commit: async () => {}, discard: async () => {} };
}

// O_NOFOLLOW: never write through a symlink someone planted; O_EXCL: never
// reuse a file that was there before the image.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REOPEN = constants.O_RDONLY | constants.O_NOFOLLOW;

/**
 * Writes members as files directly inside `dir` (the standby partition),
 * which must exist and must not already hold a member's name. Defence in
 * depth behind the verifier's own name checks: each name is checked again,
 * resolved, and must land directly in `dir`; files are created exclusively
 * and never through symlinks. commit() fsyncs every file (the directory's
 * own entries are the owner's to sync: Flash.replacePartition does, before it
 * swaps the partition in); discard() unlinks exactly the files this sink
 * created.
 */
export function directorySink(dir: string): MemberSink {
  const created: string[] = [];
  const openHandles = new Set<FileHandle>();
  let base: Promise<string> | undefined;
  const resolveBase = async () => {
    const real = await realpath(dir);
    if (!(await lstat(real)).isDirectory()) throw new UsageError(`${dir} is not a directory`);
    return real;
  };

  return {
    async open(name) {
      base ??= resolveBase();
      const root = await base;
      const reason = unsafeNameReason(name);
      if (reason) throw new UsageError(`directory sink: refusing ${JSON.stringify(name)}: ${reason}`);
      const path = join(root, name);
      if (dirname(path) !== root) throw new UsageError(`directory sink: ${JSON.stringify(name)} resolves outside ${root}`);
      let fh: FileHandle;
      try {
        fh = await open(path, CREATE, 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`${path} already exists: clear the partition before extracting into it`);
        throw err;
      }
      created.push(path);
      openHandles.add(fh);
      return {
        write: (chunk) => writeAll(fh, chunk),
        async close() {
          openHandles.delete(fh);
          await fh.close();
          failpoint("image.member-written");
        },
      };
    },

    async commit() {
      for (const path of created) {
        const fh = await open(path, REOPEN);
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    },

    async discard() {
      for (const fh of openHandles) await fh.close().catch(() => {});
      openHandles.clear();
      for (const path of created.splice(0)) {
        await unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        });
      }
    },
  };
}
