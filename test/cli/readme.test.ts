/**
 * README's "Run an AP against a controller", typed in order in an empty
 * folder: the commands are read from README.md itself, so the section and
 * this test cannot drift apart. Only the controller's address changes (a
 * free loopback address instead of 127.0.0.2, so parallel runs never
 * collide), and `npx vap` is the built CLI.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawnVap, stopVapProcesses } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { tempDir } from "../support/temp.js";

const ROOT = resolve(import.meta.dirname, "../..");
const VAP = join(ROOT, "dist/cli/vap.js");
const README_ADDRESS = "127.0.0.2";

function section(title: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`## ${title}`);
  expect(start, `README has no "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The indented `npx vap …` lines, in order, without their comments, as argv. */
function commandsOf(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("    npx vap "))
    .map((l) => l.replace(/\s+#.*$/, "").trim().split(/\s+/).slice(2));
}

afterEach(stopVapProcesses);

describe("README: Run an AP against a controller", () => {
  it("the commands, typed in order from an empty folder, upgrade the AP to the controller's version", async () => {
    const text = section("Run an AP against a controller");
    const commands = commandsOf(text);
    expect(commands.map((c) => c[0])).toEqual(["pki", "image", "image", "flash", "image", "controller", "run", "flash"]);
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
    expect(yaml).toBeDefined();

    const dir = tempDir("readme");
    const address = await freeLoopbackAddress();
    const local = (argv: string[]) => argv.map((a) => (a === README_ADDRESS ? address : a));
    writeFileSync(join(dir, "ap.yaml"), yaml!.replace(`address: ${README_ADDRESS}`, `address: ${address}`));

    const [controllerAt, runAt] = [commands.findIndex((c) => c[0] === "controller"), commands.findIndex((c) => c[0] === "run")];
    for (const argv of commands.slice(0, controllerAt)) execFileSync(process.execPath, [VAP, ...argv], { cwd: dir, stdio: "pipe" });

    const controller = spawnVap(local(commands[controllerAt]!), { cwd: dir });
    const ap = spawnVap(local(commands[runAt]!), { cwd: dir });
    await ap.until(/Image transfer completed[\s\S]*AP has joined controller/);
    await controller.until("software 17.12.1.5");
    expect(ap.out).toContain("Version does not match.");
    expect(ap.out).toContain("Image signing verify success.");
    expect(await ap.interrupt()).toBe(0);
    expect(await controller.interrupt()).toBe(0);

    const show = execFileSync(process.execPath, [VAP, ...commands[runAt + 1]!], { cwd: dir, encoding: "utf8" });
    expect(show).toMatch(/AP Running Image\s+: 17\.12\.1\.5/);
    expect(show).toMatch(/Backup Boot Image\s+: 17\.9\.4\.27/);
    expect(show).toContain("BOOT path-list:");
  }, 120_000);
});
