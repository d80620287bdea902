import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDurableFile, writeFileDurably } from "../../agent/core/index.js";
import { tempDir } from "../support/temp.js";

describe("durable files", () => {
  it("stream chunks, then commit; discard after commit changes nothing", async () => {
    const path = join(tempDir("durable"), "part.tar");
    const file = await createDurableFile(path, 0o600);
    await file.write(Buffer.from("staged "));
    await file.write(Buffer.from("image"));
    await file.commit();
    await file.discard();
    expect(readFileSync(path, "utf8")).toBe("staged image");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("writeFileDurably runs `written` once the bytes are written, before the fsync, and replaces what was there", async () => {
    const path = join(tempDir("durable"), "boot.tmp");
    await writeFileDurably(path, "a longer record than the next", { mode: 0o644 });
    let seen: string | undefined;
    await writeFileDurably(path, '{"boot":"part1"}', { mode: 0o644, written: () => (seen = readFileSync(path, "utf8")) });
    expect(seen).toBe('{"boot":"part1"}');
    expect(readFileSync(path, "utf8")).toBe('{"boot":"part1"}');
  });

  it("a failure at open or between write and fsync reaches the caller", async () => {
    const path = join(tempDir("durable"), "boot.tmp");
    const cut = new Error("cut");
    const failpoint = () => {
      throw cut;
    };
    await expect(writeFileDurably(path, "{}", { mode: 0o644, written: failpoint })).rejects.toBe(cut);
    await expect(writeFileDurably(join(path, "missing", "file"), "{}", { mode: 0o644 })).rejects.toMatchObject({ code: "ENOTDIR" });
  });
});
