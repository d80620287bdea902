/** readSecret: the password prompt `vap fetch` shows on a terminal, fed by a stand-in for stdin. */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { readSecret, type SecretInput } from "../../agent/command-kit/index.js";
import { ConfigError } from "../../agent/core/index.js";

/** What a terminal's stdin does for readSecret, recording raw mode and flow. */
class FakeTerminal extends EventEmitter implements SecretInput {
  readonly modes: string[] = [];
  setRawMode(raw: boolean) {
    this.modes.push(raw ? "raw" : "cooked");
  }
  resume() {
    this.modes.push("resume");
  }
  pause() {
    this.modes.push("pause");
  }
  type(...chunks: string[]) {
    for (const c of chunks) this.emit("data", Buffer.from(c));
  }
}

describe("readSecret", () => {
  it("prompts, reads in raw mode (no echo) up to Enter, takes Backspace, and restores the terminal", async () => {
    const input = new FakeTerminal();
    let shown = "";
    const answer = readSecret("Password for admin@10.0.0.5: ", input, (t) => (shown += t));
    input.type("s3x", "\u007f", "cx\u0008ret", "\r", "ignored");
    await expect(answer).resolves.toBe("s3cret");
    expect(shown).toBe("Password for admin@10.0.0.5: \n");
    expect(input.modes).toEqual(["raw", "resume", "cooked", "pause"]);
    expect(input.listenerCount("data")).toBe(0);
  });

  it("keeps multi-byte characters and drops control characters", async () => {
    const input = new FakeTerminal();
    const answer = readSecret("? ", input, () => {});
    input.type("pä\u0001ß€\n");
    await expect(answer).resolves.toBe("päß€");
  });

  it.each([
    ["Ctrl-C", "abc\u0003"],
    ["Ctrl-D on an empty line", "\u0004"],
  ])("%s gives up with a one-line ConfigError", async (_name, typed) => {
    const input = new FakeTerminal();
    const answer = readSecret("? ", input, () => {});
    input.type(typed);
    await expect(answer).rejects.toThrow(ConfigError);
    await expect(answer).rejects.toThrow("no password given");
    expect(input.modes.at(-2)).toBe("cooked");
  });
});
