/** The file sink behind `vap fetch`: batches and order, FILE.part until finish, nothing left after abort. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSink } from "../../../agent/transfer/index.js";
import { tempDir } from "../../support/temp.js";
import { content, sha256 } from "./support.js";

describe("fileSink", () => {
  it("writes every chunk in order across many batches, one larger than a batch, and renames FILE.part on finish", async () => {
    const file = join(tempDir("tftp-sink"), "image");
    const sink = fileSink(file);
    const bytes = content(7_000_000);
    await sink.begin({ name: "image", size: bytes.length });
    const sizes = [1468, 512, 2_500_000, 8, 65464];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, bytes.length - at);
      await sink.write(bytes.subarray(at, at + n));
      at += n;
    }
    expect(existsSync(`${file}.part`)).toBe(true);
    expect(existsSync(file)).toBe(false);
    await sink.finish();
    expect(existsSync(`${file}.part`)).toBe(false);
    expect(sha256(readFileSync(file))).toBe(sha256(bytes));
  });

  it("abort removes FILE.part and leaves no FILE", async () => {
    const file = join(tempDir("tftp-sink"), "image");
    const sink = fileSink(file);
    await sink.begin({ name: "image" });
    for (let i = 0; i < 1000; i++) await sink.write(content(1468, i));
    await sink.abort("test");
    await sink.abort("twice is harmless");
    expect(existsSync(`${file}.part`) || existsSync(file)).toBe(false);
  });

  it("a FILE whose folder is missing fails at begin", async () => {
    await expect(fileSink(join(tempDir("tftp-sink"), "no", "image")).begin({ name: "image" })).rejects.toThrow(/ENOENT/);
  });
});
