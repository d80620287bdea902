/**
 * The layers point down (docs/ARCHITECTURE.md): a module imports only from
 * its own layer or lower ones, and another capability only through its
 * index.ts. Read from the sources' import statements, so a new upward arrow
 * fails here before it becomes a cycle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** Lowest first. A folder not listed here fails the test: every folder has a place. */
export const LAYERS: readonly (readonly string[])[] = [
  ["agent/core"],
  ["platform/classes", "platform/flash"],
  ["agent/net", "agent/pcap", "agent/config", "agent/command-kit"],
  ["agent/capwap"],
  ["agent/pki", "agent/transfer"],
  ["images"],
  ["agent/upgrade"],
  ["agent/console"],
  ["agent/ap"],
  ["agent/fleet", "lab"],
  ["cli"],
];

/**
 * Leaf modules of core that the codec takes one by one rather than through
 * core's index, which also brings Node (the codec runs without it).
 */
const PURE_CORE = new Set(["agent/core/bytes.ts", "agent/core/errors.ts"]);

function layerOf(file: string): { rank: number; module: string } | undefined {
  for (const [rank, modules] of LAYERS.entries()) {
    for (const m of modules) if (file === m || file.startsWith(`${m}/`)) return { rank, module: m };
  }
  return undefined;
}

/** The capability folder a file belongs to: `agent/capwap/codec`, `lab/wan`, `images`. */
function capabilityOf(file: string): string {
  const parts = file.split("/");
  const { module } = layerOf(file)!;
  const depth = module.split("/").length;
  // agent/capwap and lab hold capabilities one folder further down.
  const extra = module === "agent/capwap" || module === "lab" ? 1 : 0;
  return parts.slice(0, Math.min(parts.length - 1, depth + extra)).join("/");
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms;

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(IMPORT)].map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!)).replace(/\.js$/, ".ts"));
}

const files = ["agent", "platform", "images", "lab", "cli"].flatMap(sources);

describe("layers", () => {
  it("every source folder has a layer", () => {
    expect(files.filter((f) => !layerOf(f))).toEqual([]);
  });

  it("no import runs up a layer", () => {
    const upward = files.flatMap((f) =>
      importsOf(f)
        .filter((target) => layerOf(target)!.rank > layerOf(f)!.rank)
        .map((target) => `${f} → ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it("another capability is reached only through its index.ts", () => {
    const reaching = files.flatMap((f) =>
      importsOf(f)
        .filter((target) => capabilityOf(target) !== capabilityOf(f) && !target.endsWith("/index.ts") && !PURE_CORE.has(target))
        .map((target) => `${f} → ${target}`),
    );
    expect(reaching).toEqual([]);
  });

  it("finds the imports it checks", () => {
    // A regex that stopped matching would pass everything above.
    expect(importsOf("cli/commands.ts")).toContain("lab/wan/index.ts");
    expect(files.length).toBeGreaterThan(100);
  });
});
