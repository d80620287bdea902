/** teeSink: a primary AP's download goes into the upgrade engine and into a kept file, paced by the slower, kept only when the engine accepts it. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSink, type ImageSink, teeSink } from "../../agent/transfer/index.js";
import { tempDir } from "../support/temp.js";
import { content, RecordingSink, sha256 } from "./tftp/support.js";

/** Stream `bytes` into `sink` in TFTP-sized blocks, one write at a time as a source does. */
async function stream(sink: ImageSink, bytes: Uint8Array, block = 1468): Promise<void> {
  await sink.begin({ name: "ap1g8", size: bytes.length });
  for (let at = 0; at < bytes.length; at += block) await sink.write(bytes.subarray(at, at + block));
}

/** A main sink that installs what it got, as the upgrade engine does (its result names the version). */
class InstallingSink extends RecordingSink {
  override async finish() {
    await super.finish();
    return { version: "17.12.1.5" };
  }
}

describe("teeSink", () => {
  it("the kept file equals the bytes streamed into the main sink, which finishes first and gives the result", async () => {
    const dir = tempDir("tee");
    const main = new InstallingSink();
    const bytes = content(3_000_000);
    const sink = teeSink(main, fileSink(join(dir, "ap1g8")));
    await stream(sink, bytes);
    expect(existsSync(join(dir, "ap1g8"))).toBe(false);
    await expect(sink.finish()).resolves.toEqual({ version: "17.12.1.5" });
    expect(main.sha256).toBe(sha256(bytes));
    expect(sha256(readFileSync(join(dir, "ap1g8")))).toBe(sha256(bytes));
    expect(readdirSync(dir)).toEqual(["ap1g8"]);
  });

  it("a write resolves only when both sinks took the chunk: the slower sets the pace, nothing piles up in between", async () => {
    const dir = tempDir("tee");
    const main = new RecordingSink(2);
    const sink = teeSink(main, fileSink(join(dir, "ap1g8")));
    await sink.begin({ name: "ap1g8" });
    let settled = false;
    const writing = sink.write(content(1468)).then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(main.writing).toBe(1);
    expect(settled).toBe(false);
    await writing;
    expect(main.writing).toBe(0);
    await sink.abort("done");
  });

  it("the main sink refuses the image at finish (a bad signature): the copy is thrown away, the refusal goes on", async () => {
    const dir = tempDir("tee");
    const main = new RecordingSink();
    const refusing: ImageSink = { begin: (i) => main.begin(i), write: (c) => main.write(c), finish: () => Promise.reject(new Error("Image signing verify failed")), abort: (r) => main.abort(r) };
    const sink = teeSink(refusing, fileSink(join(dir, "ap1g8")));
    await stream(sink, content(100_000));
    await expect(sink.finish()).rejects.toThrow("Image signing verify failed");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("abort aborts both and leaves no file", async () => {
    const dir = tempDir("tee");
    const main = new RecordingSink();
    const sink = teeSink(main, fileSink(join(dir, "ap1g8")));
    await stream(sink, content(2_000_000));
    await sink.abort("superseded");
    expect(main.calls).toEqual(["begin", "abort: superseded"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a copy that cannot begin fails the begin, with the main sink's begin done (an abort then finds nothing running)", async () => {
    const main = new RecordingSink();
    const sink = teeSink(main, fileSink(join(tempDir("tee"), "missing", "ap1g8")));
    await expect(sink.begin({ name: "ap1g8" })).rejects.toThrow(/ENOENT/);
    expect(main.calls).toEqual(["begin"]);
  });
});
