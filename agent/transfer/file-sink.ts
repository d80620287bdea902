/**
 * An ImageSink that writes a plain file (`vap fetch`): into FILE.part,
 * renamed to FILE only when the whole image arrived, so a failed download
 * never leaves a truncated FILE behind. Bytes are gathered into 64 KiB
 * writes (one fs call per TFTP block or HTTP chunk would cost more than the
 * network), and a full batch goes to disk while the next one fills: a write
 * waits only when the disk is a whole batch behind, so the source's ACKs
 * are not held up by every flush. Every few batches the file is synced in
 * the background, so the sync that makes it durable before the rename
 * finds little left to write back instead of the whole image (it was a
 * tenth of a 50 MB TFTP fetch on loopback).
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { writeAll } from "../core/index.js";
import type { ImageSink, ImageSinkResult } from "./sink.js";

/**
 * Bytes gathered before one write to disk. Not more: on the CI host, 50 MB
 * written into the page cache took 11–98 ms in 64 KiB writes and 126–685 ms
 * in 128 KiB or 1 MiB ones, and with 1 MiB batches vap's TFTP client wrote
 * slower than it received.
 */
const WRITE_BATCH_BYTES = 64 * 1024;

/** Bytes written after which a background fdatasync starts (one at a time). */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024;

export function fileSink(path: string): ImageSink {
  const partial = `${path}.part`;
  let file: FileHandle | undefined;
  let filling = new Uint8Array(WRITE_BATCH_BYTES);
  let spare = new Uint8Array(WRITE_BATCH_BYTES);
  let filled = 0;
  /** The batch on its way to disk, if any. */
  let flushing: Promise<void> = Promise.resolve();
  /** Bytes written since the last background sync started. */
  let unsynced = 0;
  /** The background sync, if any; its failure surfaces at finish. */
  let syncing: Promise<void> = Promise.resolve();

  /** After a batch is written: start a background sync once enough is unsynced and none runs. */
  function written(target: FileHandle, bytes: number): void {
    unsynced += bytes;
    if (unsynced < SYNC_EVERY_BYTES) return;
    unsynced = 0;
    syncing = syncing.then(() => target.datasync());
    syncing.catch(() => {});
  }

  /** Send the filling batch to disk (after the previous one) and start filling the spare. */
  async function flush(): Promise<void> {
    await flushing;
    if (filled === 0) return;
    const batch = filling.subarray(0, filled);
    const target = file!;
    [filling, spare] = [spare, filling];
    filled = 0;
    flushing = writeAll(target, batch).then(() => written(target, batch.length));
    // Its failure surfaces at the next write or at finish; until then it is not "unhandled".
    flushing.catch(() => {});
  }

  return {
    async begin() {
      file = await open(partial, "w");
    },
    async write(chunk) {
      for (let at = 0; at < chunk.length; ) {
        if (filled === filling.length) await flush();
        const taken = Math.min(chunk.length - at, filling.length - filled);
        filling.set(chunk.subarray(at, at + taken), filled);
        filled += taken;
        at += taken;
      }
    },
    async finish(): Promise<ImageSinkResult> {
      await flush();
      await flushing;
      await syncing;
      await file!.sync();
      await file!.close();
      file = undefined;
      await rename(partial, path);
      return {};
    },
    async abort() {
      const open = file;
      file = undefined;
      await flushing.catch(() => {});
      await syncing.catch(() => {});
      await open?.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
