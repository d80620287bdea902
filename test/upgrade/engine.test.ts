import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { ConfigError, createLog } from "../../agent/core/index.js";
import { engineSetup, expiredImage, feed, fingerprint, image, NEW, OLD, testPki } from "./support.js";

describe("upgrade engine on a flash (upgrade.sh)", () => {
  it("boots the factory image, downloads, PRECHECK → PREDOWNLOAD → ACTIVATE, reboots into the new image", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    expect(engine.state).toMatchObject({ active: "part2", boot: "part2", running: OLD, backup: "0.0.0.0" });
    const active = fingerprint(engine.flash.partitionDir("part2"));

    const sink = await feed(engine, "join", readFileSync((await image("ap1g8", NEW)).path));
    const result = await sink.finish();
    expect(result).toMatchObject({ reboot: true, version: NEW });
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(active); // the active partition was never written
    expect(readdirSync(engine.flash.tmpDir)).toEqual([]);

    const rebooted = await setup.boot();
    expect(rebooted.state).toMatchObject({ active: "part1", boot: "part1", running: NEW, backup: OLD, lastReloadReason: "Image upgrade" });
    expect(setup.lines).toEqual(
      expect.arrayContaining([
        "upgrade.sh: Script called with args:[PRECHECK]",
        "do PRECHECK, part2 is active part",
        "upgrade.sh: Cleanup tmp files ...",
        expect.stringMatching(/^upgrade\.sh: \/tmp space: OK available \d+, required 50000 $/),
        "upgrade.sh: Script called with args:[PREDOWNLOAD]",
        "do PREDOWNLOAD, part2 is active part",
        "upgrade.sh: Creating before-upgrade.log",
        "upgrade.sh: part to upgrade is part1",
        "Image signing verify success.",
        `upgrade.sh: AP version1: ${NEW}, version2: ${OLD}`,
        "upgrade.sh: Script called with args:[ACTIVATE]",
        "activate part1, set BOOT to part1",
      ]),
    );
    expect(existsSync(join(setup.options.stateDir, "before-upgrade.log"))).toBe(true);
  });

  it("a predownload leaves the image standing by; ACTIVATE later switches BOOT", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    const result = await (await feed(engine, "predownload", readFileSync((await image("ap1g8", NEW)).path))).finish();
    expect(result.reboot).toBe(false);
    expect(engine.pending).toEqual({ version: NEW, family: "ap1g8" });
    expect((await setup.boot()).state).toMatchObject({ active: "part2", running: OLD, backup: NEW });
    await engine.activate("swap");
    expect((await setup.boot()).state).toMatchObject({ active: "part1", running: NEW, backup: OLD, lastReloadReason: "swap" });
  });

  it("sink storage mode verifies as it streams and keeps only what each partition holds", async () => {
    const setup = engineSetup({ storage: "sink" });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    const result = await (await feed(engine, "join", readFileSync((await image("ap1g8", NEW)).path))).finish();
    expect(result).toMatchObject({ reboot: true, version: NEW });
    for (const p of ["part1", "part2"] as const) expect(readdirSync(engine.flash.partitionDir(p))).toEqual(["image.json"]);
    expect((await setup.boot()).state).toMatchObject({ active: "part1", running: NEW, backup: OLD });
  });

  it("a sink-mode record whose version is no string is no image: boot falls back to the other partition", async () => {
    const setup = engineSetup({ storage: "sink" });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", NEW)).path);
    writeFileSync(join(setup.options.stateDir, "flash", "part1", "image.json"), '{"version":5,"family":"ap1g8"}');
    const engine = await setup.boot();
    expect(engine.state).toMatchObject({ active: "part2", boot: "part1", running: OLD, fellBack: "part1: image.json names no version and family" });
    await engine.close();
  });

  it.each(["flash", "sink"] as const)("from the console (%s): staged as /tmp/cli_part.tar, `-c PREDOWNLOAD`, ACTIVATE, no reboot asked, its lines in the download's log", async (storage) => {
    const setup = engineSetup({ storage });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    setup.lines.length = 0;
    const lines: string[] = [];
    const sink = await feed(engine, "cli", readFileSync((await image("ap1g8", NEW)).path), { log: createLog({ console: (l) => lines.push(l.replace(/^\[\*[^\]]+\] /, "")) }) });
    expect(readdirSync(engine.flash.tmpDir)).toEqual(storage === "flash" ? ["cli_part.tar"] : []);
    expect(await sink.finish()).toEqual({ reboot: false, version: NEW });
    expect(engine.state).toMatchObject({ active: "part2", boot: "part1", backup: NEW });
    expect(readdirSync(engine.flash.tmpDir)).toEqual([]);
    expect(setup.lines).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "upgrade.sh: Script called with args:[PRECHECK]",
        "upgrade.sh: Script called with args:[-c PREDOWNLOAD]",
        "do PREDOWNLOAD, part2 is active part",
        "upgrade.sh: Start doing upgrade arg1=PREDOWNLOAD arg2=,from_cli arg3= ...",
        "upgrade.sh: Using image /tmp/cli_part.tar on ap1g8 ...",
        "Image signing verify success.",
        "activate part1, set BOOT to part1",
      ]),
    );
    expect((await setup.boot()).state).toMatchObject({ active: "part1", running: NEW, backup: OLD });
  });

  it("from the console, a version the standby partition holds already is kept as it is unless /overwrite", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", NEW)).path);
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    expect(engine.state).toMatchObject({ active: "part1", backup: NEW });
    const bytes = readFileSync((await image("ap1g8", NEW)).path);
    const standby = () => statSync(engine.flash.partitionDir("part2")).ino;
    const before = standby();
    await (await feed(engine, "cli", bytes)).finish();
    expect(standby()).toBe(before);
    expect(setup.lines).toContain(`upgrade.sh: ${NEW} is already present in part2: kept (/overwrite replaces it)`);
    expect(engine.state).toMatchObject({ boot: "part2" });
    setup.lines.length = 0;
    await (await feed(engine, "cli", bytes, { overwrite: true })).finish();
    expect(standby()).not.toBe(before);
    expect(setup.lines.filter((l) => l.includes("already present"))).toEqual([]);
    expect((await setup.boot()).state).toMatchObject({ active: "part2", running: NEW, backup: OLD });
  });

  it("NO_UPGRADE is logged when versions match", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    (await setup.boot()).noUpgrade();
    expect(setup.lines.slice(-2)).toEqual(["upgrade.sh: Script called with args:[NO_UPGRADE]", "do NO_UPGRADE, part2 is active part"]);
  });

  it("boot falls back to the other partition when the one BOOT names fails verification, and says so", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    await (await feed(engine, "join", readFileSync((await image("ap1g8", NEW)).path))).finish();
    const part1 = engine.flash.partitionDir("part1");
    const bin = join(part1, "part.bin");
    const bytes = readFileSync(bin);
    bytes[100]! ^= 0xff;
    writeFileSync(bin, bytes);
    const rebooted = await setup.boot();
    expect(rebooted.state).toMatchObject({ active: "part2", boot: "part1", running: OLD, backup: "0.0.0.0" });
    expect(rebooted.state.fellBack).toMatch(/^part1: /);
    expect(setup.lines.some((l) => /^verify signature failed for \/bootpart\/part1\/: .*part\.bin/.test(l))).toBe(true);
  });

  it.each([
    ["a certificate that is no CA", () => testPki().signing.cert, /^image-signing trust: trusted root .* is not a CA certificate$/],
    ["no certificate at all", () => "not a PEM file\n", /^image-signing trust: /],
  ])("a trust file holding %s is the operator's mistake (ConfigError), not a broken flash", async (_what, trust, message) => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const bad = { ...setup.options, trust: trust() };
    for (const attempt of [UpgradeEngine.boot(bad), UpgradeEngine.provision(bad, (await image("ap1g8", NEW)).path)]) {
      const err = await attempt.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
    }
    expect((await setup.boot()).state).toMatchObject({ active: "part2", running: OLD, backup: "0.0.0.0" });
  });

  it("boot verifies the partition it runs; the backup is named by its info and verified before ACTIVATE uses it", async () => {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    await (await feed(engine, "predownload", readFileSync((await image("ap1g8", NEW)).path))).finish();
    const bin = join(engine.flash.partitionDir("part1"), "part.bin");
    const bytes = readFileSync(bin);
    bytes[100]! ^= 0xff;
    writeFileSync(bin, bytes); // the backup rots after its install
    const rebooted = await setup.boot();
    expect(rebooted.state).toMatchObject({ active: "part2", boot: "part2", running: OLD, backup: NEW });
    await expect(rebooted.activate("swap")).rejects.toThrow(/^part1 fails verification: .*part\.bin/);
    expect((await setup.boot()).state).toMatchObject({ active: "part2", boot: "part2", running: OLD });
  });

  it("refuses a flash with no valid image at all", async () => {
    const setup = engineSetup();
    await expect(setup.boot()).rejects.toThrow(/^no bootable image: part2: .*; part1: /);
  });
});

describe("tampered and untrusted images: refused, BOOT unchanged, the active partition byte-identical", () => {
  async function attempt(bytes: Uint8Array) {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    const active = fingerprint(engine.flash.partitionDir("part2"));
    const standby = fingerprint(engine.flash.partitionDir("part1"));
    const sink = await feed(engine, "join", bytes);
    let error: Error | undefined;
    try {
      await sink.finish();
    } catch (err) {
      error = err as Error;
      await sink.abort(error.message);
    }
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(active);
    expect(fingerprint(engine.flash.partitionDir("part1"))).toBe(standby);
    expect(readdirSync(engine.flash.tmpDir)).toEqual([]);
    expect((await setup.boot()).state).toMatchObject({ active: "part2", boot: "part2", running: OLD });
    return error;
  }

  it("one byte flipped in each member is refused", async () => {
    const built = await image("ap1g8", NEW);
    const original = readFileSync(built.path);
    let offset = 0;
    expect(built.members.map((m) => m.name)).toEqual(["info", "part.bin", "ramfs_data_cisco.squashfs", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]);
    for (const m of built.members) {
      const dataAt = offset + 512;
      offset = dataAt + Math.ceil(m.size / 512) * 512;
      const tampered = Uint8Array.from(original);
      tampered[dataAt + Math.floor(m.size / 2)]! ^= 0x01;
      const error = await attempt(tampered);
      expect(error, m.name).toBeDefined();
      expect(error!.message.split("\n")).toHaveLength(1);
    }
  });

  it.each([
    ["an expired signing certificate", async () => readFileSync((await expiredImage("ap1g8", NEW)).path), /certificate|expired|not valid/i],
    ["a missing signature", async () => dropMember(await image("ap1g8", NEW), "final_hash.sig"), /final_hash\.sig/],
    ["a missing certificate", async () => dropMember(await image("ap1g8", NEW), "signing_cert.pem"), /signing_cert\.pem/],
    ["another class's image", async () => readFileSync((await image("ap1g7", NEW)).path), /ap1g7|family/],
  ])("%s is refused", async (_name, make, reason) => {
    const error = await attempt(await make());
    expect(error?.message).toMatch(reason);
  });
});

/** The image without one member (the archive stays well formed, the member is simply absent). */
function dropMember(built: { path: string; members: { name: string; size: number }[] }, name: string): Uint8Array {
  const original = readFileSync(built.path);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const m of built.members) {
    const end = offset + 512 + Math.ceil(m.size / 512) * 512;
    if (m.name !== name) parts.push(original.subarray(offset, end));
    offset = end;
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

describe("no room", () => {
  it("/tmp smaller than the class requires: PRECHECK refuses, nothing is written", async () => {
    const setup = engineSetup({ hardwareClass: { tmpKiB: 10_000, tmpRequiredKiB: 50_000 } });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    await expect(engine.downloadSink("join").precheck!()).rejects.toThrow("/tmp space: available 10000 KiB, required 50000 KiB");
    expect(setup.lines).toContain("upgrade.sh: /tmp space: NOT OK available 10000, required 50000");
  });

  it("an image larger than /tmp is refused before a byte is stored", async () => {
    const factory = engineSetup();
    await UpgradeEngine.provision(factory.options, (await image("ap1g8", OLD)).path);
    const setup = engineSetup({ stateDir: factory.options.stateDir, hardwareClass: { tmpKiB: 60, tmpRequiredKiB: 10 } });
    const engine = await setup.boot();
    const sink = engine.downloadSink("join");
    await sink.precheck!();
    await expect(sink.begin({ name: "ap1g8", size: 96 * 1024 })).rejects.toThrow(/does not fit in \/tmp \(60 KiB available\)/);
    await sink.abort("refused");
    expect(readdirSync(engine.flash.tmpDir)).toEqual([]);
  });
});

describe("ABORT whenever the session drops: one step at a time, nothing left behind", () => {
  async function started() {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    return { setup, engine, bytes: readFileSync((await image("ap1g8", NEW)).path), active: fingerprint(engine.flash.partitionDir("part2")) };
  }
  const tmpFiles = (engine: UpgradeEngine) => (existsSync(engine.flash.tmpDir) ? readdirSync(engine.flash.tmpDir) : []);

  it("while the staged file is being opened: it is closed and removed, later steps are refused", async () => {
    const { setup, engine, bytes } = await started();
    const sink = engine.downloadSink("join");
    const begun = sink.begin({ name: "ap1g8", size: bytes.length });
    // PRECHECK has run; the staged file is being opened.
    while (!setup.lines.some((l) => l.startsWith("upgrade.sh: /tmp space: OK"))) await new Promise((r) => setImmediate(r));
    const aborted = sink.abort("session lost");
    await Promise.allSettled([begun]);
    await aborted;
    expect(tmpFiles(engine)).toEqual([]);
    await expect(sink.write(bytes.subarray(0, 1377))).rejects.toThrow("download aborted: session lost");
    expect(tmpFiles(engine)).toEqual([]);
  });

  it("while PREDOWNLOAD installs: the install completes in the standby partition, ACTIVATE does not run, BOOT stays", async () => {
    const { setup, engine, bytes, active } = await started();
    const sink = await feed(engine, "join", bytes);
    const finishing = sink.finish();
    while (!setup.lines.includes("upgrade.sh: part to upgrade is part1")) await new Promise((r) => setImmediate(r));
    const aborted = sink.abort("session lost");
    await expect(finishing).rejects.toThrow("download aborted: session lost");
    await aborted;
    expect(setup.lines).toContain(`upgrade.sh: ABORT (session lost) came during PREDOWNLOAD: ${NEW} stays in part1, BOOT unchanged`);
    expect(setup.lines).not.toContain("upgrade.sh: Script called with args:[ACTIVATE]");
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(active);
    expect(tmpFiles(engine)).toEqual([]);
    expect((await setup.boot()).state).toMatchObject({ active: "part2", boot: "part2", running: OLD, backup: NEW });
  });

  it("told twice (a source aborts its sink, then the WTP's starter does): ABORT runs once", async () => {
    const { setup, engine, bytes, active } = await started();
    const sink = await feed(engine, "join", bytes.subarray(0, 40 * 1377));
    await Promise.all([sink.abort("HTTP 404"), sink.abort("HTTP 404")]);
    await sink.abort("HTTP 404");
    expect(setup.lines.filter((l) => l === "upgrade.sh: Script called with args:[ABORT]")).toHaveLength(1);
    expect(tmpFiles(engine)).toEqual([]);
    expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(active);
  });

  it("the next download waits for the last one's ABORT, which cannot clean up the new image", async () => {
    const { setup, engine, bytes } = await started();
    const old = await feed(engine, "join", bytes.subarray(0, 40 * 1377));
    const aborted = old.abort("session lost");
    const fresh = await feed(engine, "join", bytes);
    expect(await fresh.finish()).toMatchObject({ reboot: true, version: NEW });
    await aborted;
    expect((await setup.boot()).state).toMatchObject({ active: "part1", running: NEW });
  });
});
