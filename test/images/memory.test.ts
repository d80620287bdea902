/**
 * The verifier streams: a 50 MB image fed in 1 KiB chunks (fileSource: one
 * reused buffer, so any copy the verifier kept would show) reaches the sink in
 * pieces no larger than the chunks, and ArrayBuffer memory stays flat while
 * the whole image goes through.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, directorySink, fileSource, verifyImage, type MemberSink } from "../../images/index.js";
import { Sandbox, tempDir, testPki } from "./support.js";

const IMAGE_BYTES = 50 * 1024 * 1024;
const CHUNK = 1024;
const MiB = 1024 * 1024;

let dir: string;
let image: string;
beforeAll(async () => {
  dir = tempDir("image-memory");
  image = join(dir, "ap1g6");
  await buildImage({ class: "ap1g6", version: "17.12.1.5", out: image, signer: testPki().signer, size: IMAGE_BYTES });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("memory", () => {
  it("verifies and extracts a 50 MB image from 1 KiB chunks without holding a member", async () => {
    const sandbox = new Sandbox(dir, "extract");
    const inner = directorySink(sandbox.target);
    const before = process.memoryUsage();
    const peak = { arrayBuffers: before.arrayBuffers, heapUsed: before.heapUsed };
    const writes = new Map<string, { count: number; largest: number }>();
    let sampled = 0;
    const sink: MemberSink = {
      ...inner,
      async open(name, size) {
        const file = await inner.open(name, size);
        const stats = { count: 0, largest: 0 };
        writes.set(name, stats);
        return {
          async write(chunk) {
            stats.count++;
            stats.largest = Math.max(stats.largest, chunk.length);
            if (++sampled % 1024 === 0) {
              const m = process.memoryUsage();
              peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
              peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
            }
            await file.write(chunk);
          },
          close: () => file.close(),
        };
      },
    };
    const result = await verifyImage(fileSource(image, CHUNK), { trust: testPki().trust, limits: { imageBytes: 64 * MiB, extractBytes: 64 * MiB }, sink });
    const part = result.members.find((m) => m.name === "part.bin")!;
    expect(part.size).toBeGreaterThan(IMAGE_BYTES - 64 * 1024);
    // part.bin arrived in ~size/1 KiB writes of at most 1 KiB: never as one buffered piece.
    expect(writes.get("part.bin")!.largest).toBeLessThanOrEqual(CHUNK);
    expect(writes.get("part.bin")!.count).toBeGreaterThanOrEqual(Math.floor(part.size / CHUNK));
    const growth = { arrayBuffers: (peak.arrayBuffers - before.arrayBuffers) / MiB, heapUsed: (peak.heapUsed - before.heapUsed) / MiB };
    console.log(`memory while verifying ${IMAGE_BYTES / MiB} MiB in ${CHUNK}-byte chunks: peak growth ${growth.arrayBuffers.toFixed(2)} MiB ArrayBuffers, ${growth.heapUsed.toFixed(1)} MiB heap (${sampled} sink writes)`);
    expect(growth.arrayBuffers).toBeLessThan(4);
    // The heap holds garbage between collections; a buffered member would be 50 MiB on top.
    expect(growth.heapUsed).toBeLessThan(40);
    expect(sandbox.problems(true)).toEqual([]);
  }, 120_000);
});
