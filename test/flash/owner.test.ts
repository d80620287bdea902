/**
 * The flash's owner file after kill -9: the pid it names may belong to any
 * process by the next start (systemd reuses low pids after a boot). Only the
 * process that wrote it, still running, keeps others out.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Flash } from "../../platform/flash/index.js";
import { tempDir } from "../support/temp.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A live process that is not the flash's owner: what a reused pid looks like. */
function bystander(): number {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
}

function flashWithOwner(content: string): { flash: Flash; owner: string } {
  const state = tempDir("flash-owner");
  mkdirSync(join(state, "flash"), { recursive: true });
  const owner = join(state, "flash", "owner");
  writeFileSync(owner, content);
  return { flash: new Flash(state, 1024), owner };
}

describe("flash owner", () => {
  it("a claim left by a dead process whose pid now runs something else is taken over", async () => {
    const pid = bystander();
    // What the killed AP wrote: its pid (now the bystander's), this boot, a start time no live process has.
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const { flash, owner } = flashWithOwner(`${pid} ${boot}/1\n`);
    await flash.claim();
    expect(readFileSync(owner, "utf8")).toMatch(new RegExp(`^${process.pid} ${boot}/\\d+\\n$`));
    await flash.release();
  });

  it("this process claims again what it holds", async () => {
    const state = tempDir("flash-again");
    await new Flash(state, 1024).claim();
    await expect(new Flash(state, 1024).claim()).resolves.toBeUndefined();
  });

  it("a claim from before the last boot is taken over", async () => {
    const pid = bystander();
    const { flash } = flashWithOwner(`${pid} 00000000-0000-0000-0000-000000000000/12345\n`);
    await expect(flash.claim()).resolves.toBeUndefined();
  });

  it("a claim by a process that still runs refuses, naming it", async () => {
    const pid = bystander();
    const stamp = readFileSync(`/proc/${pid}/stat`, "utf8");
    const start = stamp.slice(stamp.lastIndexOf(")") + 2).split(" ")[19];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const { flash } = flashWithOwner(`${pid} ${boot}/${start}\n`);
    await expect(flash.claim()).rejects.toThrow(`is in use by process ${pid} (a running AP): stop it first`);
  });

  it("a torn or garbage owner file holds nothing", async () => {
    for (const content of ["", "abc", "1 2 3 4", "-5 x", "0"]) {
      const { flash } = flashWithOwner(content);
      await expect(flash.claim(), JSON.stringify(content)).resolves.toBeUndefined();
    }
  });
});
