import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** The indented (command) lines of README.md's section `## title`, trimmed, in order: what an operator would type. */
export function readmeCommands(title: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`## ${title}`);
  expect(start, `README has no "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("    "))
    .map((l) => l.trim());
}

/** `npx vap` as the tests run it: the built CLI under this Node. */
export const BUILT_VAP = `${process.execPath} ${join(ROOT, "dist/cli/vap.js")}`;
