import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { engineSetup, fingerprint, image, NEW, OLD, tempDir } from "./support.js";

/** A real ENOSPC: the AP's state directory on a tmpfs of `kib` KiB (root, as CI runs). */
function smallDisk(kib: number): string {
  const dir = tempDir("small-disk");
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir]);
  mounts.push(dir);
  return dir;
}
const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
});

describe("disk full: ABORT cleans up, nothing half-written remains, the partitions are as they were", () => {
  it.each([
    ["while the download is staged in /tmp", 400, false],
    ["while PREDOWNLOAD extracts into the standby partition", 1_100, true],
  ])("%s", async (_when, kib, reachesPredownload) => {
    const setup = engineSetup({ stateDir: smallDisk(kib) });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    const active = fingerprint(engine.flash.partitionDir("part2"));
    const bytes = readFileSync((await image("ap1g8", NEW, 512 * 1024)).path);
    const sink = engine.downloadSink("join");
    let error: Error | undefined;
    try {
      await sink.precheck!();
      await sink.begin({ name: "ap1g8", size: bytes.length });
      for (let i = 0; i < bytes.length; i += 1377) await sink.write(bytes.subarray(i, i + 1377));
      await sink.finish();
    } catch (err) {
      error = err as Error;
      await sink.abort(error.message);
    }
    expect(error?.message).toMatch(/ENOSPC|no space/i);
    expect(setup.lines.includes("upgrade.sh: Script called with args:[PREDOWNLOAD]")).toBe(reachesPredownload);
    expect(setup.lines).toContain("upgrade.sh: Script called with args:[ABORT]");
    expect(readdirSync(engine.flash.tmpDir)).toEqual([]);
    // "owner" is the running engine's claim on the flash; nothing else may remain.
    expect(readdirSync(join(setup.options.stateDir, "flash")).sort()).toEqual(["boot", "owner", "part1", "part2", "tmp"]);
    expect(readdirSync(engine.flash.partitionDir("part1"))).toEqual([]);
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(active);
    expect((await setup.boot()).state).toMatchObject({ active: "part2", running: OLD });
  });
});
