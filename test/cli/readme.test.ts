/**
 * README's "Run an AP against a controller", typed in order in an empty
 * folder: the commands are read from README.md itself, so the section and
 * this test cannot drift apart. Only the controller's address changes (a
 * free loopback address instead of 127.0.0.2, so parallel runs never
 * collide), and `npx vap` is the built CLI.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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

const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.kill("SIGKILL");
});

/** A long-running command in the background, its output collected. */
function background(argv: string[], cwd: string) {
  const child = spawn(process.execPath, [VAP, ...argv], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    get out() {
      return out;
    },
    async until(test: (out: string) => boolean, what: string, timeoutMs = 60_000) {
      const started = Date.now();
      while (!test(out)) {
        if (Date.now() - started > timeoutMs || child.exitCode !== null) throw new Error(`${argv[0]}: no ${what} within ${timeoutMs} ms; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async interrupt(): Promise<number | null> {
      child.kill("SIGINT");
      return exited;
    },
  };
}

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

    const controller = background(local(commands[controllerAt]!), dir);
    const ap = background(local(commands[runAt]!), dir);
    await ap.until((o) => /Image transfer completed[\s\S]*AP has joined controller/.test(o), "rejoin after the upgrade");
    await controller.until((o) => o.includes("software 17.12.1.5"), "rejoin at 17.12.1.5");
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
