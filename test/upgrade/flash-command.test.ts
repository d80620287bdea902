import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { engineSetup, fingerprint, image, NEW, OLD, tempDir, testPki } from "./support.js";

/** The built CLI (npm test builds first), as a second process would run it. */
const VAP = join(import.meta.dirname, "../../dist/cli/vap.js");
const trustFile = join(tempDir("flash-trust"), "image-ca.pem");
writeFileSync(trustFile, testPki().trust);

function vapFlash(command: string, stateDir: string, ...rest: string[]) {
  const r = spawnSync(process.execPath, [VAP, "flash", command, ...rest, "--state", stateDir, "--class", "ap1g8", "--trust", trustFile], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vap flash against an AP's flash", () => {
  it("refuses to upgrade a flash a running AP holds, and works once the AP is off", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const running = await setup.boot(); // this process is the running AP
    const active = fingerprint(running.flash.partitionDir("part2"));
    const refused = vapFlash("upgrade", setup.options.stateDir, (await image("ap1g8", NEW)).path);
    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr).toBe(`vap flash upgrade: ${join(setup.options.stateDir, "flash")} is in use by process ${process.pid} (a running AP): stop it first\n`);
    expect(fingerprint(running.flash.partitionDir("part2"))).toBe(active);

    await running.close();
    expect(vapFlash("upgrade", setup.options.stateDir, (await image("ap1g8", NEW)).path).code).toBe(0);
    expect((await setup.boot()).state).toMatchObject({ active: "part1", running: NEW, backup: OLD });
  });

  it("show verifies and reports while the AP runs, and writes nothing", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const running = await setup.boot();
    const staged = running.flash.stagedImage; // a download in progress
    writeFileSync(staged, "half an image");
    const show = vapFlash("show", setup.options.stateDir);
    expect(show).toMatchObject({ code: 0, stderr: "" });
    expect(show.stdout).toContain(`AP Running Image     : ${OLD}`);
    expect(readFileSync(staged, "utf8")).toBe("half an image");
    await running.close();
  });

  it("show on a directory with no flash says so", () => {
    const r = vapFlash("show", tempDir("no-flash"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vap flash show: .* holds no flash\n$/);
  });

  it("install after a boot fallback writes the standby partition, never the one running", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    const sink = engine.downloadSink("join");
    await sink.begin({ name: "ap1g8" });
    await sink.write(readFileSync((await image("ap1g8", NEW)).path));
    await sink.finish(); // BOOT → part1 (NEW)
    await engine.close();
    rmSync(join(engine.flash.partitionDir("part1"), "part.bin")); // part1 breaks: boot falls back to part2
    const fellBack = await setup.boot();
    expect(fellBack.state).toMatchObject({ active: "part2", boot: "part1", running: OLD });
    await fellBack.close();
    const running = fingerprint(engine.flash.partitionDir("part2"));

    const installed = vapFlash("install", setup.options.stateDir, (await image("ap1g8", NEW)).path);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toMatch(/Booting part2 instead of part1\n(.*\n)*installed ap1g8 17\.12\.1\.5\n$/);
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(running);
    expect((await setup.boot()).state).toMatchObject({ active: "part1", boot: "part1", running: NEW, backup: OLD });
  });
});
