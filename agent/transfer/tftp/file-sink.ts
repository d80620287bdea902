/**
 * An ImageSink that writes a plain file (`vap fetch`): into FILE.part,
 * renamed to FILE only when the whole image arrived, so a failed download
 * never leaves a truncated FILE behind. Blocks are gathered into larger
 * writes (one fs call per TFTP block would cost more than the network).
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { writeAll } from "../../core/index.js";
import type { ImageSink, ImageSinkResult } from "../sink.js";

/** Bytes gathered before one write to disk. */
const WRITE_BATCH_BYTES = 1024 * 1024;

export function fileSink(path: string): ImageSink {
  const partial = `${path}.part`;
  let file: FileHandle | undefined;
  const batch = new Uint8Array(WRITE_BATCH_BYTES);
  let batched = 0;

  async function flush(): Promise<void> {
    if (batched === 0 || !file) return;
    await writeAll(file, batch.subarray(0, batched));
    batched = 0;
  }

  return {
    async begin() {
      file = await open(partial, "w");
    },
    async write(chunk) {
      if (batched + chunk.length > batch.length) await flush();
      if (chunk.length > batch.length) return writeAll(file!, chunk);
      batch.set(chunk, batched);
      batched += chunk.length;
    },
    async finish(): Promise<ImageSinkResult> {
      await flush();
      await file!.sync();
      await file!.close();
      file = undefined;
      await rename(partial, path);
      return {};
    },
    async abort() {
      const open = file;
      file = undefined;
      await open?.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
