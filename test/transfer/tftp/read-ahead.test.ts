/** The server's read-ahead: runs of blocks read in order from chunks read ahead, as views that stay valid while the transfer keeps them. */
import { writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ReadAhead } from "../../../agent/transfer/tftp/files.js";
import { tempDir } from "../../support/temp.js";
import { content } from "./support.js";

/** How many runs of the last readAsTransfer readHeld answered at once. */
let heldRuns = 0;

/** Read `file` as a transfer does (runs of `count` blocks, one after another, each run kept; at once when held, else by read()), and return the runs. */
async function readAsTransfer(bytes: Uint8Array, blockSize: number, count: number): Promise<Uint8Array[]> {
  heldRuns = 0;
  const path = join(tempDir("tftp-read-ahead"), "image");
  writeFileSync(path, bytes);
  const file = await open(path, "r");
  try {
    const reader = new ReadAhead(file, blockSize * count);
    const runs: Uint8Array[] = [];
    for (let position = 0; ; position += blockSize * count) {
      const held = reader.readHeld(position, blockSize * count);
      if (held) heldRuns++;
      const run = held ?? (await reader.read(position, blockSize * count));
      runs.push(run);
      if (run.length < blockSize * count) return runs;
    }
  } finally {
    await file.close();
  }
}

describe("ReadAhead", () => {
  it("gives a 1 MB file back exactly, in runs that cross its read-ahead chunks, every run still intact after the later reads", async () => {
    const bytes = content(1024 * 1024 + 333);
    const runs = await readAsTransfer(bytes, 1468, 16);
    expect(Buffer.concat(runs).equals(Buffer.from(bytes))).toBe(true);
    let at = 0;
    for (const run of runs) {
      expect(Buffer.from(run).equals(Buffer.from(bytes.subarray(at, at + run.length)))).toBe(true);
      at += run.length;
    }
  });

  it("answers a run at once when the chunk being served holds it, and leaves a run crossing into the next chunk to read()", async () => {
    // 128 KB chunks hold 5.6 runs of 16 × 1468 bytes: of the 45 runs of 1 MB, the 8 that cross a chunk boundary and the first wait.
    const runs = await readAsTransfer(content(1024 * 1024), 1468, 16);
    expect(runs.length).toBe(45);
    expect(heldRuns).toBe(36);
  });

  it("an exact multiple of the run ends with an empty read at the end of the file", async () => {
    const runs = await readAsTransfer(content(512 * 4 * 128), 512, 4);
    expect(runs.at(-1)!.length).toBe(0);
    expect(runs.slice(0, -1).every((r) => r.length === 2048)).toBe(true);
  });

  it("reads again from the file when asked for an earlier position", async () => {
    const bytes = content(400_000);
    const path = join(tempDir("tftp-read-ahead"), "image");
    writeFileSync(path, bytes);
    const file = await open(path, "r");
    try {
      const reader = new ReadAhead(file, 1024);
      await reader.read(300_000, 1024);
      expect(Buffer.from(await reader.read(10, 1024)).equals(Buffer.from(bytes.subarray(10, 1034)))).toBe(true);
    } finally {
      await file.close();
    }
  });
});
