/**
 * README's "Serve and fetch images by TFTP", typed in order in an empty
 * folder by sh: the lines are read from README.md, so the section and this
 * test cannot drift apart. Only the port changes (a free one instead of
 * 6969) and `npx vap` is the built CLI.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { tempDir } from "../../support/temp.js";
import { freeUdpPort } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../../..");

function sectionLines(title: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`## ${title}`);
  expect(start, `README has no "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme
    .slice(start, end)
    .split("\n")
    .filter((l) => l.startsWith("    "))
    .map((l) => l.trim());
}

it("README's TFTP commands work typed in order from an empty folder", async () => {
  const lines = sectionLines("Serve and fetch images by TFTP");
  expect(lines.some((l) => l.startsWith("npx vap tftp serve"))).toBe(true);
  const port = String(await freeUdpPort());
  const vap = `${process.execPath} ${join(ROOT, "dist/cli/vap.js")}`;
  // One shell, so `&` and `kill %1` work as typed; the server gets a moment to bind before the fetch.
  const script = ["set -e", ...lines.map((l) => l.replaceAll("6969", port).replaceAll("npx vap", vap).replace(/&$/, "& sleep 1"))].join("\n");
  const out = execFileSync("bash", ["-c", script], { cwd: tempDir("tftp-readme"), encoding: "utf8", timeout: 60_000 });
  expect(out).toMatch(/fetch: tftp:\/\/127\.0\.0\.1:\d+\/ap1g8 -> ap1g8, 5000000 bytes in/);
});
