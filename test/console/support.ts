/**
 * Driving console sessions as an operator's screen shows them: the prompt,
 * the line typed (nothing for a secret, as a transport echoes it), then what
 * the session printed; and the normalisation that makes a live AP's
 * transcript comparable from run to run.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { RunningAp } from "../../agent/ap/index.js";
import type { ApConsole, ConsoleOpenOptions, ConsoleSession, ConsoleTerminal } from "../../agent/console/index.js";
import { Lab, type LabOptions } from "../../lab/lab/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

export class Screen implements ConsoleTerminal {
  text = "";
  closed = false;
  readonly session: ConsoleSession;

  constructor(console: ApConsole, options: ConsoleOpenOptions = { login: false }) {
    this.session = console.open(this, options);
  }

  write(text: string): void {
    this.text += text;
  }

  close(): void {
    this.closed = true;
  }

  /**
   * Type one line at the prompt; resolves once the session shows a prompt
   * again (its own, or a running command's: enable's Password:, reload's
   * [confirm]) or closed — as a transport does, which keeps reading while
   * input() is pending.
   */
  async type(line: string): Promise<string> {
    const start = this.text.length;
    this.text += `${this.session.prompt}${this.session.secret ? "" : line}\n`;
    void this.session.input(line);
    await new Promise((resolve) => setImmediate(resolve));
    while (this.session.prompt === "" && !this.closed) await new Promise((resolve) => setTimeout(resolve, 2));
    return this.text.slice(start);
  }

  /** What the session printed for one line, without the echoed prompt and line. */
  async output(line: string): Promise<string> {
    const shown = await this.type(line);
    return shown.slice(shown.indexOf("\n") + 1);
  }
}

/** Times, dates, hashes, ports and memory figures vary from run to run: replaced by placeholders. */
export function normalise(text: string): string {
  return text
    .replace(/\[\*\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\.\d{4}\]/g, "[*DATE TIME]")
    .replace(/\*\d\d:\d\d:\d\d\.\d{3} UTC \w{3} \w{3} \d\d \d{4}/g, "*TIME UTC DATE")
    .replace(/\w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}/g, "DATE")
    .replace(/uptime is \d+ days, \d+ hours, \d+ minutes/g, "uptime is UPTIME")
    .replace(/with \d+\/\d+K bytes/g, "with TOTAL/FREEK bytes")
    .replace(/ (ARMv8|ARMv7|x86_64) Processor/g, " CPU Processor")
    .replace(/Hash: [0-9a-f]{64}/g, "Hash: HASH")
    .replace(/127\.\d+\.\d+\.\d+/g, "127.X.X.X")
    .replace(/:\d{4,5}\b/g, ":PORT");
}

const GOLDEN = join(import.meta.dirname, "golden");

/** Compare with test/console/golden/<name>.txt; VAP_UPDATE_GOLDEN=1 writes it from this run instead. */
export function expectGolden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.txt`);
  if (process.env.VAP_UPDATE_GOLDEN === "1") writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, "utf8"));
}

/** The lab's controller and one AP (ap1g8 at `version`, its flash on disk), once the AP is in Run. */
export async function oneApLab(version: string, options: Partial<LabOptions> = {}): Promise<{ lab: Lab; ap: RunningAp }> {
  const lab = await Lab.start({ aps: 1, profile: "cisco", address: await freeLoopbackAddress(), apVersion: version, controllerVersion: version, console: null, ...options });
  try {
    await lab.waitFor((l) => l.allInRun(), 30_000, () => "not in Run");
  } catch (err) {
    await lab.stop();
    throw err;
  }
  return { lab, ap: lab.aps[0]! };
}
