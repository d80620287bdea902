/**
 * The local terminal transport (`vap run --console`). No pty exists on these
 * machines, so stdin is a stream that says it is a TTY and records the raw
 * mode it is put in; what matters is that the mode is set and given back.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../agent/core/index.js";
import { attachTerminal, CONSOLE_LIMITS } from "../../../agent/console/transports/index.js";
import { ECHO_PROMPT, echoConsole } from "./echo-console.js";

function terminal(tty: boolean) {
  const modes: boolean[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: tty, setRawMode: (on: boolean) => modes.push(on) }) as unknown as NodeJS.ReadStream;
  const output = new PassThrough();
  let out = "";
  output.setEncoding("utf8").on("data", (d: string) => (out += d));
  return { input, output: output as unknown as NodeJS.WriteStream, modes, out: () => out };
}

describe("the local terminal", () => {
  it("puts a TTY in raw mode, echoes with \\r\\n line ends, and gives the mode back when the session ends", async () => {
    const t = terminal(true);
    const console = echoConsole();
    const attached = attachTerminal(console, t, { limits: CONSOLE_LIMITS, clock: systemClock });
    expect(t.modes).toEqual([true]);
    t.input.write("show ver\r");
    await expect.poll(t.out).toContain("you said: show ver\r\n");
    expect(t.out()).toBe(`${ECHO_PROMPT}show ver\r\nyou said: show ver\r\n${ECHO_PROMPT}`);
    t.input.write("exit\r");
    expect(await attached.ended).toBe("session");
    expect(t.modes).toEqual([true, false]);
  });

  it("from a pipe: no raw mode, no echo; Ctrl-D ends it", async () => {
    const t = terminal(false);
    const attached = attachTerminal(echoConsole(), t, { limits: CONSOLE_LIMITS, clock: systemClock });
    t.input.write("show boot\n\x04");
    expect(await attached.ended).toBe("eof");
    expect(t.out()).toBe(`${ECHO_PROMPT}you said: show boot\n${ECHO_PROMPT}`);
    expect(t.modes).toEqual([]);
  });
});
