/**
 * A flash damaged in ways no power cut leaves (found by test/fuzz/flash-boot):
 * boot reads what it can and refuses the rest with one ConfigError, and
 * never destroys an image on the way.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../agent/core/index.js";
import { Flash } from "../../platform/flash/index.js";
import { tempDir } from "../support/temp.js";

describe("a damaged flash", () => {
  it("recover() refuses a partition that is a plain file, and keeps the previous image beside it", async () => {
    const flash = new Flash(tempDir("flash-damaged"), 1024);
    await flash.recover();
    const part1 = flash.partitionDir("part1");
    mkdirSync(`${part1}.old`);
    writeFileSync(join(`${part1}.old`, "image.json"), "previous");
    rmSync(part1, { recursive: true });
    writeFileSync(part1, "not a directory");
    const refused = await flash.recover().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toBe(`${part1} is not a directory: the flash is damaged (move it away to boot)`);
    expect(readFileSync(join(`${part1}.old`, "image.json"), "utf8")).toBe("previous");
  });

  it("recover() restores only a directory as the previous image: a plain file part1.old is removed, part1 made empty", async () => {
    const flash = new Flash(tempDir("flash-damaged"), 1024);
    await flash.recover();
    const part1 = flash.partitionDir("part1");
    rmSync(part1, { recursive: true });
    writeFileSync(`${part1}.old`, "not a partition");
    expect(await flash.recover()).toEqual(["part1: removed the replaced image left by an interrupted swap"]);
    expect(readdirSync(part1)).toEqual([]);
    expect(existsSync(`${part1}.old`)).toBe(false);
  });

  it("readBoot() takes a damaged reload count as 0 and a reason that is no string as unknown", async () => {
    const flash = new Flash(tempDir("flash-damaged"), 1024);
    await flash.recover();
    for (const reloads of ['"many"', "-1", "1.5", "1e400", "null"]) {
      writeFileSync(join(flash.root, "boot"), `{"boot":"part1","reloads":${reloads},"lastReloadReason":{"x":1}}`);
      expect(await flash.readBoot()).toEqual({ boot: "part1", reloads: 0, lastReloadReason: "unknown" });
    }
    writeFileSync(join(flash.root, "boot"), '{"boot":"part2","reloads":3,"lastReloadReason":"swap"}');
    expect(await flash.readBoot()).toEqual({ boot: "part2", reloads: 3, lastReloadReason: "swap" });
    expect(existsSync(join(flash.root, "boot"))).toBe(true);
  });
});
