/**
 * A session's own behaviour on a factory-configured AP (no console section:
 * Cisco/Cisco, enable secret Cisco): Ctrl-C on a question, the end of a
 * session from the transport, the log ring behind show logging, and which
 * debug lines each `debug capwap client` topic lets through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAp } from "../../agent/ap/index.js";
import { LogRing } from "../../agent/ap/log-ring.js";
import { DEBUG_TOPICS } from "../../agent/console/index.js";
import { createLog, ManualClock } from "../../agent/core/index.js";
import type { Lab } from "../../lab/lab/index.js";
import { oneApLab, Screen } from "./support.js";

let lab: Lab;
let ap: RunningAp;

beforeAll(async () => {
  ({ lab, ap } = await oneApLab("17.9.4.27"));
}, 60_000);
afterAll(() => lab?.stop());

describe("a session on a factory-configured AP", () => {
  it("logs in with Cisco/Cisco and enables with Cisco, as a real unjoined AP", async () => {
    const screen = new Screen(ap.console, { login: true });
    await screen.type("Cisco");
    await screen.type("Cisco");
    expect(screen.session.prompt).toBe(`${ap.console.name}>`);
    await screen.type("en");
    await screen.type("Cisco");
    expect(screen.session.prompt).toBe(`${ap.console.name}#`);
  });

  it("Ctrl-C on reload's [confirm] or enable's Password: abandons the command; the AP stays up", async () => {
    const screen = new Screen(ap.console);
    await screen.type("enable");
    screen.session.interrupt();
    await screen.type("");
    expect(screen.session.prompt).toBe(`${ap.console.name}>`);
    await screen.type("enable");
    await screen.type("Cisco");
    await screen.type("reload");
    expect(screen.session.prompt).toBe("Proceed with reload command (cold)? [confirm]");
    screen.session.interrupt();
    await new Promise((r) => setImmediate(r));
    expect(screen.session.prompt).toBe(`${ap.console.name}#`);
    expect(ap.reloads).toBe(0);
    expect(screen.closed).toBe(false);
  });

  it("end() from the transport, even mid-command: the session takes no more input, writes nothing more, closes nothing", async () => {
    const screen = new Screen(ap.console);
    await screen.type("enable");
    await screen.type("Cisco");
    await screen.type("reload");
    screen.session.end();
    await new Promise((r) => setImmediate(r));
    expect(screen.closed).toBe(false);
    expect(ap.reloads).toBe(0);
    const before = screen.text;
    await screen.session.input("show version");
    ap.wtp.restart("test: a log line after the session ended");
    await lab.waitFor(() => ap.wtp.state === "Run", 60_000, () => "not rejoined");
    expect(screen.text).toBe(before);
    expect(screen.session.prompt).toBe("");
  }, 70_000);
});

describe("the log ring behind show logging", () => {
  it("keeps the last N console lines, oldest first; debug lines go to listeners, not to the ring", () => {
    const clock = new ManualClock();
    const printed: string[] = [];
    const ring = new LogRing(createLog({ console: (l) => printed.push(l), clock }), clock, 3);
    const heard: string[] = [];
    const stop = ring.onLine((l) => heard.push(`${l.level} ${l.text}`));
    for (let i = 1; i <= 5; i++) ring.log.child({ part: "x" }).info(`line ${i}`);
    ring.log.debug("Image Data seq 9 beyond the receive span (next 1, span 2): dropped");
    expect(ring.lines().map((l) => l.replace(/^\[\*[^\]]+\] /, ""))).toEqual(["line 3", "line 4", "line 5"]);
    expect(heard).toHaveLength(6);
    expect(heard[5]).toMatch(/^debug \[\*.*\] Image Data seq 9/);
    // The AP's own sink still prints what its level lets through.
    expect(printed).toHaveLength(5);
    stop();
    ring.log.info("after");
    expect(heard).toHaveLength(6);
  });

  it("a listener that throws does not stop the logging", () => {
    const clock = new ManualClock();
    const ring = new LogRing(createLog({ clock }), clock, 10);
    ring.onLine(() => {
      throw new Error("transport gone");
    });
    ring.log.warn("still logged");
    expect(ring.lines()).toHaveLength(1);
  });
});

describe("debug capwap client topics: the AP's debug lines each lets through", () => {
  it.each([
    ["image", "[*01/30/2024 21:41:35.1120] Image Data seq 9 beyond the receive span (next 1, span 2): dropped", true],
    ["image", "[*01/30/2024 21:41:35.1120] Configuration Status Response from 10.0.0.1: element kept raw: x", false],
    ["payload", "[*01/30/2024 21:41:35.1120] Configuration Status Response from 10.0.0.1: element kept raw: x", true],
    ["payload", "[*01/30/2024 21:41:35.1120] 4 elements kept raw from 10.0.0.1 in the last 10 s: x", true],
    ["payload", "[*01/30/2024 21:41:35.1120] Image Data seq 9 beyond the receive span (next 1, span 2): dropped", false],
  ] as const)("%s: %s → %s", (topic, line, shown) => {
    expect(DEBUG_TOPICS[topic].matches(line)).toBe(shown);
  });
});
