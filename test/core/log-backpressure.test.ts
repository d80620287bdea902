import { spawn } from "node:child_process";
import { join } from "node:path";
import { once } from "node:events";
import { describe, expect, it } from "vitest";

const FLOOD = join(import.meta.dirname, "fixtures/log-flood.mjs");
/** ~140 MB of log lines: buffered, they alone are more than the bound below. */
const LINES = 1_000_000;
/**
 * Measured: the flood peaks at 86 MB (console) and 104 MB (JSON) when lines
 * are dropped; writing every line into the stalled stdout, as vap did, it
 * peaked at 685 MB.
 */
const MAX_RSS = 160 * 1024 * 1024;

/** Run the flood with its stdout unread until it has logged everything, then read all of it. */
async function floodIntoStalledReader(format: "console" | "json"): Promise<{ maxRssBytes: number; stdout: string[] }> {
  const child = spawn(process.execPath, [FLOOD, String(LINES), format], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pause();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  while (!stderr.includes("\n")) {
    if (child.exitCode !== null) throw new Error(`flood exited early: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const report = JSON.parse(stderr.split("\n", 1)[0]!) as { maxRssBytes: number };
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
  child.stdout.resume();
  const [code] = await once(child, "exit");
  expect(code, stderr).toBe(0);
  return { maxRssBytes: report.maxRssBytes, stdout: out.trimEnd().split("\n") };
}

describe("logging into a stdout nobody reads (a real child process, its pipe left unread)", () => {
  it.each(["console", "json"] as const)("%s: memory stays bounded; the lines that could not be written are dropped, counted and reported once it reads again", async (format) => {
    const { maxRssBytes, stdout } = await floodIntoStalledReader(format);
    expect(maxRssBytes).toBeLessThan(MAX_RSS);
    const text = (line: string) => (format === "json" ? (JSON.parse(line) as { msg: string }).msg : line.replace(/^\[\*[^\]]+\] /, ""));
    const messages = stdout.map(text);
    const flood = messages.filter((m) => m.startsWith("flood ") && m !== "flood done");
    const reports = messages.filter((m) => / log lines dropped: the output was not read fast enough$/.test(m));
    // One report each time the output drains after a stall: Node may read the pipe up to its high-water mark
    // while the parent holds it paused, so the child can see a drain mid-flood as well as at the end.
    expect(reports.length).toBeGreaterThanOrEqual(1);
    const dropped = reports.reduce((sum, r) => sum + Number(r.split(" ", 1)[0]), 0);
    expect(dropped).toBeGreaterThan(LINES / 2);
    // Nothing is lost without being counted, and what got through is in order.
    expect(flood.length + dropped).toBe(LINES);
    const numbers = flood.map((m) => Number(m.split(" ")[1]));
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    expect(messages.at(-1)).toBe("flood done");
  }, 120_000);
});
