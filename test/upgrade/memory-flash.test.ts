import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../agent/core/index.js";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { MemoryFlash } from "../../platform/flash/index.js";
import { engineSetup, feed, image, NEW, OLD } from "./support.js";

describe("a volatile flash in memory (a fleet AP's: sink storage, nothing on disk)", () => {
  it("boots its factory record, takes a signed download into the standby partition and boots it after the reload, touching no file", async () => {
    const setup = engineSetup({ storage: "sink", stateDir: "/nonexistent/vap-fleet-ap" });
    const flash = new MemoryFlash(setup.options.hardwareClass.tmpKiB, { version: OLD, family: "ap1g8" });
    const options = { ...setup.options, flash };
    const engine = await UpgradeEngine.boot(options);
    expect(engine.state).toMatchObject({ active: "part2", running: OLD, backup: "0.0.0.0" });
    expect(await (await feed(engine, "join", readFileSync((await image("ap1g8", NEW)).path))).finish()).toMatchObject({ reboot: true, version: NEW });
    expect(JSON.parse(flash.beforeUpgradeLog)).toMatchObject({ active: "part2", running: OLD });
    const rebooted = await UpgradeEngine.boot(options);
    expect(rebooted.state).toMatchObject({ active: "part1", running: NEW, backup: OLD });
    expect(existsSync("/nonexistent")).toBe(false);
  });

  it("refuses a tampered image and keeps both partitions as they were", async () => {
    const setup = engineSetup({ storage: "sink", stateDir: "/nonexistent/vap-fleet-ap" });
    const flash = new MemoryFlash(setup.options.hardwareClass.tmpKiB, { version: OLD, family: "ap1g8" });
    const engine = await UpgradeEngine.boot({ ...setup.options, flash });
    const bytes = new Uint8Array(readFileSync((await image("ap1g8", NEW)).path));
    bytes[bytes.length >> 1]! ^= 0xff;
    const sink = await feed(engine, "join", bytes).catch((err: Error) => err);
    const refused = sink instanceof Error ? sink : await sink.finish().catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    expect(await flash.partitionEmpty("part1")).toBe(true);
    expect((await UpgradeEngine.boot({ ...setup.options, flash })).state).toMatchObject({ active: "part2", running: OLD, backup: "0.0.0.0" });
  });

  it("is for sink storage only: flash storage, staging and partition directories are refused with one clear line", async () => {
    const setup = engineSetup({ storage: "flash" });
    const flash = new MemoryFlash(setup.options.hardwareClass.tmpKiB, { version: OLD, family: "ap1g8" });
    await expect(UpgradeEngine.boot({ ...setup.options, flash })).rejects.toThrow(/volatile flash holds sink-mode records only: give it storage sink/);
    expect(() => flash.partitionDir()).toThrow(UsageError);
    await expect(flash.openStagedImage()).rejects.toThrow(/verified as they stream, not staged/);
    expect(existsSync(join(setup.options.stateDir, "flash"))).toBe(false);
  });
});
