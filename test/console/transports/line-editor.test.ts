/** The shared line editor, key by key: a table of what was typed and what it gives. */
import { describe, expect, it } from "vitest";
import { type EditorEvent, LineEditor } from "../../../agent/console/transports/line-editor.js";

const limits = { maxLineLength: 8, historyLines: 2 };

/** Lines, Ctrl-C, Ctrl-D and drops, without the echo. */
function outcome(events: EditorEvent[]): string[] {
  return events.flatMap((e) => (e.kind === "line" ? [`line:${e.text}`] : e.kind === "echo" ? [] : [e.kind]));
}
const echoed = (events: EditorEvent[]) => events.map((e) => (e.kind === "echo" ? e.text : "")).join("");

describe("the line editor", () => {
  it.each([
    ["CR, LF and CR LF each end one line", "a\rb\nc\r\n", ["line:a", "line:b", "line:c"]],
    ["Backspace (DEL, ^H) erases, and stops at the line's start", "ab\x7fc\b\x7f\x7fd\r", ["line:d"]],
    ["Ctrl-U erases the whole line", "show\x15sh\r", ["line:sh"]],
    ["Ctrl-C drops the line", "show\x03", ["interrupt"]],
    ["Ctrl-D ends only on an empty line", "x\x04\x7f\x04", ["eof"]],
    ["other control characters and escape sequences are swallowed", "a\x01\x1b[1;5Cb\x1bOHc\x00\r", ["line:abc"]],
    ["a line past the limit is dropped at Enter, the next one is fine", "123456789\rok\r", ["too-long", "line:ok"]],
    ["an empty line is a line", "\r", ["line:"]],
  ])("%s", (_what, typed, expected) => {
    expect(outcome(new LineEditor(limits).feed(typed, false))).toEqual(expected);
  });

  it("echoes what it takes, rubs out what it erases, says ^C, and rings once past the limit", () => {
    const e = new LineEditor(limits);
    expect(echoed(e.feed("ab\x7f", false))).toBe("ab\b \b");
    expect(echoed(e.feed("\x15", false))).toBe("\b \b");
    expect(echoed(e.feed("\x03", false))).toBe("^C\r\n");
    expect(echoed(e.feed("123456789x", false))).toBe("12345678\x07");
  });

  it("echoes nothing of a secret, not even its line end's rub-outs, and keeps it out of the history", () => {
    const e = new LineEditor(limits);
    const events = e.feed("pw\x7fd\r", true);
    expect(echoed(events)).toBe("\r\n");
    expect(outcome(events)).toEqual(["line:pd"]);
    expect(outcome(e.feed("\x1b[A\r", false))).toEqual(["line:"]);
  });

  it("recalls the history with the arrows (ESC [ and ESC O forms), at most historyLines, without repeats", () => {
    const e = new LineEditor(limits);
    e.feed("one\rtwo\rtwo\rthree\r", false);
    expect(outcome(e.feed("\x1b[A\r", false))).toEqual(["line:three"]);
    expect(outcome(e.feed("\x1b[A\x1b[A\x1b[A\r", false))).toEqual(["line:two"]);
    expect(outcome(e.feed("\x1bOA\x1bOA\x1bOB\x1bOB\r", false))).toEqual(["line:"]);
    const recall = e.feed("x\x1b[A", false);
    expect(echoed(recall)).toBe("x\b \btwo");
    expect(e.line).toBe("two");
  });

  it("takes a sequence split across chunks", () => {
    const e = new LineEditor(limits);
    e.feed("hi\r", false);
    expect(outcome([...e.feed("\x1b", false), ...e.feed("[", false), ...e.feed("A", false), ...e.feed("\r", false), ...e.feed("\n", false)])).toEqual(["line:hi"]);
  });
});
