import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { engineSetup, fingerprint, image, NEW, OLD, tempDir, testPki } from "./support.js";
import { writeFileSync } from "node:fs";

/** The built CLI (npm test builds first): a separate process we can kill -9. */
const VAP = join(import.meta.dirname, "../../dist/cli/vap.js");

interface Run {
  signal: NodeJS.Signals | null;
  code: number | null;
  ms: number;
  output: string;
  /** When each upgrade.sh phase began, ms after the spawn. */
  phaseAt: Record<string, number>;
}

/** `killAfterMs` after the run printed PREDOWNLOAD's start: timed from the phase, not the spawn, so a slow process start on a loaded machine does not shift the cuts. */
function upgrade(stateDir: string, imagePath: string, trust: string, o: { failpoints?: string; killAfterMs?: number } = {}): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [VAP, "flash", "upgrade", imagePath, "--state", stateDir, "--class", "ap1g8", "--trust", trust], {
    env: { ...process.env, VAP_FAILPOINTS: o.failpoints ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const phaseAt: Record<string, number> = {};
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on("data", (d: Buffer) => {
    output += d;
    for (const [, phase] of output.matchAll(/args:\[(\w+)\]/g)) phaseAt[phase!] ??= Date.now() - started;
    if (phaseAt.PREDOWNLOAD !== undefined && o.killAfterMs !== undefined) timer ??= setTimeout(() => child.kill("SIGKILL"), o.killAfterMs);
  });
  child.stderr.on("data", (d: Buffer) => (output += d));
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, output, phaseAt });
    }),
  );
}

describe("power cut: kill -9 during PREDOWNLOAD and ACTIVATE, then boot", () => {
  const trustFile = join(tempDir("trust"), "image-ca.pem");
  writeFileSync(trustFile, testPki().trust);

  /** A freshly provisioned AP at OLD; returns its state dir and its active partition's fingerprint. */
  async function factoryAp() {
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD, 2 * 1024 * 1024)).path);
    return { setup, active: fingerprint(join(setup.options.stateDir, "flash", "part2")) };
  }

  /** After any cut: a verified partition boots, and the version it reports is that partition's. */
  async function bootsConsistently(setup: Awaited<ReturnType<typeof factoryAp>>["setup"], activeBefore: string): Promise<string> {
    const engine = await setup.boot();
    const { active, running, images } = engine.state;
    expect(running).toBe(images[active]!.version);
    expect([OLD, NEW]).toContain(running);
    if (running === OLD) {
      expect(active).toBe("part2");
      expect(fingerprint(engine.flash.partitionDir("part2"))).toBe(activeBefore);
    } else {
      expect(active).toBe("part1");
    }
    return running;
  }

  const NAMED = [
    // info, part.bin, ramfs_data_cisco.squashfs, iox.tar.gz, file_hashes, final_hash, final_hash.sig, signing_cert.pem, info.ver
    ...Array.from({ length: 9 }, (_, i) => `image.member-written#${i + 1}`),
    "flash.partition-filled",
    "flash.partition-moved-aside",
    "flash.partition-swapped",
    "upgrade.activate-verified",
    "flash.boot-written",
    "flash.boot-synced",
    "flash.boot-renamed",
  ];

  it(`at ${NAMED.length} named points (every member extracted, around the swap, between the boot record's temp write and its rename)`, async () => {
    const newImage = (await image("ap1g8", NEW, 2 * 1024 * 1024)).path;
    const outcomes: string[] = [];
    for (const point of NAMED) {
      const { setup, active } = await factoryAp();
      const run = await upgrade(setup.options.stateDir, newImage, trustFile, { failpoints: point });
      expect(run.signal, `${point}: ${run.output}`).toBe("SIGKILL");
      outcomes.push(`${point}→${await bootsConsistently(setup, active)}`);
    }
    // The cut before BOOT moved leaves the old image running; once the record is renamed, the new one.
    expect(outcomes.filter((o) => o.endsWith(NEW))).toEqual(["flash.boot-renamed→" + NEW]);
  }, 120_000);

  it("at 20 moments spread over an uninterrupted upgrade's duration", async () => {
    const newImage = (await image("ap1g8", NEW, 24 * 1024 * 1024)).path;
    const { setup: reference } = await factoryAp();
    const full = await upgrade(reference.options.stateDir, newImage, trustFile);
    expect(full.code, full.output).toBe(0);
    // Spread the cuts from PREDOWNLOAD's start to the end of the run.
    const span = full.ms - full.phaseAt.PREDOWNLOAD!;
    const phases: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const { setup, active } = await factoryAp();
      const run = await upgrade(setup.options.stateDir, newImage, trustFile, { killAfterMs: Math.round((span * i) / 21) });
      expect(run.signal === "SIGKILL" || run.code === 0).toBe(true);
      const phase = run.code === 0 ? "done" : (run.output.match(/args:\[(\w+)\]/g)?.at(-1) ?? "startup");
      phases.push(`${phase}→${await bootsConsistently(setup, active)}`);
    }
    // Most cuts must land inside the phases under test, not after the run ended.
    expect(phases.filter((p) => /PREDOWNLOAD|ACTIVATE/.test(p)).length, phases.join(", ")).toBeGreaterThanOrEqual(8);
  }, 180_000);
});
