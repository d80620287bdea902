/**
 * Seeded fuzz of the flash as boot finds it (platform/flash/flash.ts: the
 * boot record, the partition directories, recover(); agent/upgrade: the
 * engine's boot). A provisioned flash (both partitions holding an image) is
 * copied and damaged: the boot record mutated, replaced by odd JSON, a
 * directory or nothing; a partition's record or image members mutated,
 * truncated or missing; garbage beside them; leftovers of an interrupted
 * swap (part.old, part.new, boot.tmp); /tmp or a partition a plain file.
 * Invariants: boot either comes up in a consistent state (the running
 * partition holds a version string, the reload count is a count) or refuses
 * with one VapError line; never another exception; and recover() never
 * touches a partition that is there — only leftovers go.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom, VapError, type Random } from "../../agent/core/index.js";
import { UpgradeEngine, type StorageMode } from "../../agent/upgrade/index.js";
import { engineSetup, image, NEW, OLD } from "../upgrade/support.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const ODD_BOOT = ["", "null", "[]", "{}", "42", '"part1"', '{"boot":"part3"}', '{"boot":"part1","reloads":"many"}', '{"boot":"part2","reloads":-1,"lastReloadReason":{"x":1}}', '{"boot":"part1","reloads":1e400}', "{\"boot\":\"part2\"", "\u0000\u0001"];
const ODD_RECORD = ["", "null", "{}", '{"version":5,"family":"ap1g8"}', '{"version":"17.9.4.27"}', '{"family":"ap1g8"}', '{"version":["1"],"family":"ap1g8"}', '{"version":"x","family":"ap1g7"}'];

/** A flash with OLD in part2 and NEW in part1, BOOT naming part1: built once per mode, copied per case. */
async function provisioned(storage: StorageMode): Promise<string> {
  const setup = engineSetup({ storage });
  await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
  await UpgradeEngine.provision(setup.options, (await image("ap1g8", NEW)).path);
  return setup.options.stateDir;
}

const pick = <T>(random: Random, list: readonly T[]): T => list[random.int(list.length)]!;

/** Damage one thing of the flash under `root`; returns what, for the failure message. */
function damage(root: string, random: Random): string {
  const part = pick(random, ["part1", "part2"]);
  const dir = join(root, part);
  const members = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : [];
  switch (random.int(10)) {
    case 0: {
      const boot = join(root, "boot");
      const bytes = existsSync(boot) && statSync(boot).isFile() ? readFileSync(boot) : Buffer.from('{"boot":"part1"}');
      rmSync(boot, { recursive: true, force: true });
      writeFileSync(boot, mutate(bytes, [], random));
      return "boot mutated";
    }
    case 1: {
      const text = pick(random, ODD_BOOT);
      rmSync(join(root, "boot"), { recursive: true, force: true });
      writeFileSync(join(root, "boot"), text);
      return `boot = ${JSON.stringify(text)}`;
    }
    case 2:
      rmSync(join(root, "boot"), { recursive: true, force: true });
      if (random.next() < 0.3) mkdirSync(join(root, "boot"));
      return "boot missing or a directory";
    case 3: {
      if (members.length === 0) return "nothing";
      const member = pick(random, members);
      const path = join(dir, member);
      if (!statSync(path).isFile()) return "nothing";
      const bytes = readFileSync(path);
      writeFileSync(path, random.next() < 0.5 ? bytes.subarray(0, random.int(bytes.length)) : mutate(bytes, [], random));
      return `${part}/${member} truncated or mutated`;
    }
    case 4: {
      const text = pick(random, ODD_RECORD);
      if (existsSync(join(dir, "image.json")) && statSync(join(dir, "image.json")).isFile()) writeFileSync(join(dir, "image.json"), text);
      return `${part}/image.json = ${text}`;
    }
    case 5: {
      if (members.length === 0) return "nothing";
      const member = pick(random, members);
      rmSync(join(dir, member), { recursive: true, force: true });
      if (random.next() < 0.3) mkdirSync(join(dir, member));
      return `${part}/${member} missing or a directory`;
    }
    case 6:
      if (existsSync(dir) && statSync(dir).isDirectory()) writeFileSync(join(dir, `junk${random.int(9)}`), Buffer.from([random.int(256)]));
      return `garbage in ${part}`;
    case 7: {
      // Leftovers of an interrupted swap or boot write.
      const left = pick(random, [`${part}.old`, `${part}.new`, "boot.tmp"]);
      if (left === "boot.tmp") writeFileSync(join(root, left), "{");
      else if (existsSync(dir) && random.next() < 0.5) cpSync(dir, join(root, left), { recursive: true });
      else mkdirSync(join(root, left), { recursive: true });
      return `${left} left over`;
    }
    case 8:
      // A partition gone (with its .old beside, now and then: a cut between the swap's renames).
      if (random.next() < 0.5 && existsSync(dir)) cpSync(dir, join(root, `${part}.old`), { recursive: true });
      rmSync(dir, { recursive: true, force: true });
      return `${part} missing`;
    default: {
      const which = pick(random, ["tmp", "owner", part]);
      rmSync(join(root, which), { recursive: true, force: true });
      writeFileSync(join(root, which), which === "owner" ? "garbage\n" : "");
      return `${which} a plain file`;
    }
  }
}

/** What each partition held before boot, when it is a directory: recover() must leave it as it was. */
function partitions(root: string): Map<string, string> {
  const prints = new Map<string, string>();
  for (const p of ["part1", "part2"]) {
    const dir = join(root, p);
    if (existsSync(dir) && statSync(dir).isDirectory()) prints.set(p, fingerprintDeep(dir));
  }
  return prints;
}

/** A directory's names and file contents (a subdirectory counts by name). */
function fingerprintDeep(dir: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    h.update(f);
    h.update(statSync(path).isFile() ? readFileSync(path) : "/");
  }
  return h.digest("hex");
}

async function fuzzBoot(storage: StorageMode, template: string, cases: number, seed: number): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  for (let n = 0; n < cases; n++) {
    const random = seededRandom(seed + n);
    const setup = engineSetup({ storage });
    rmSync(setup.options.stateDir, { recursive: true, force: true });
    cpSync(template, setup.options.stateDir, { recursive: true });
    const root = join(setup.options.stateDir, "flash");
    const done = Array.from({ length: 1 + random.int(3) }, () => damage(root, random));
    const before = partitions(root);
    let outcome: string;
    try {
      const engine = await setup.boot();
      const { state } = engine;
      if (typeof state.running !== "string" || typeof state.backup !== "string") throw new Error(`booted with versions ${JSON.stringify([state.running, state.backup])}`);
      if (state.active !== "part1" && state.active !== "part2") throw new Error(`booted ${state.active}`);
      const record = await engine.flash.readBoot();
      if (record && !(Number.isSafeInteger(record.reloads) && record.reloads >= 0)) throw new Error(`boot record read with ${record.reloads} reloads`);
      await engine.close();
      outcome = `booted ${state.active === "part1" ? NEW : OLD}${state.fellBack ? " (fell back)" : ""}`;
    } catch (err) {
      if (!(err instanceof VapError) || err.message.includes("\n")) throw new Error(`case ${n} (seed ${seed + n}, ${storage}: ${done.join("; ")}): ${(err as Error).stack}`);
      outcome = err.constructor.name;
    }
    for (const [p, print] of before) {
      const dir = join(root, p);
      if (!existsSync(dir) || fingerprintDeep(dir) !== print) throw new Error(`case ${n} (seed ${seed + n}, ${storage}: ${done.join("; ")}): boot changed ${p}`);
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    rmSync(setup.options.stateDir, { recursive: true, force: true });
  }
  return outcomes;
}

describe("boot over a damaged flash", () => {
  const templates: Partial<Record<StorageMode, string>> = {};
  beforeAll(async () => {
    templates.sink = await provisioned("sink");
    templates.flash = await provisioned("flash");
  }, 60_000);

  it.each([
    ["sink", 300, 20_000],
    ["flash", 100, 30_000],
  ] as const)("%s mode: boots consistently or refuses with one VapError line, and leaves the partitions as they were", async (storage, normal, seed) => {
    const cases = fuzzCases(normal);
    const outcomes = await fuzzBoot(storage, templates[storage]!, cases, seed);
    console.log(`flash boot (${storage}) fuzz: ${cases} cases`, JSON.stringify(outcomes));
    expect(Object.keys(outcomes).some((k) => k.startsWith("booted"))).toBe(true);
    expect(Object.keys(outcomes).length).toBeGreaterThan(2);
  }, fuzzTimeout(fuzzCases(300), 20));
});
