import { afterEach, describe, expect, it } from "vitest";
import { vap } from "../support/cli.js";
import { parseProbability, parseRate } from "../../lab/wan/index.js";
import { main } from "../../cli/main.js";
import { wanOptionsOf } from "../../lab/wan/command.js";
import { Cleanup, numbered, UdpPeer, waitUntil } from "./support.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());


const PAIR = ["--listen", "127.0.0.1:0", "--to", "127.0.0.1:5246"];

describe("vap wan flags", () => {
  it("reads every flag, pairs in order, tcp: or tftp: per pair, IPv6 in brackets", () => {
    const o = wanOptionsOf([
      ...["--listen", "127.0.0.1:15246", "--to", "10.0.0.1:5246"],
      ...["--listen", "tcp:[::1]:8443", "--to", "wlc.example:8443"],
      ...["--listen", "tftp:127.0.0.1:6969", "--to", "10.0.0.2:69"],
      ...["--delay", "50ms", "--jitter", "0.005s", "--loss", "1%", "--reorder", "0.01", "--duplicate", "0.5%"],
      ...["--rate", "10mbit", "--queue", "500ms", "--idle", "30s", "--seed", "7", "--stats", "10"],
    ]);
    expect(o).toEqual({
      relays: [
        { protocol: "udp", listen: { address: "127.0.0.1", port: 15246 }, to: { address: "10.0.0.1", port: 5246 } },
        { protocol: "tcp", listen: { address: "::1", port: 8443 }, to: { address: "wlc.example", port: 8443 } },
        { protocol: "tftp", listen: { address: "127.0.0.1", port: 6969 }, to: { address: "10.0.0.2", port: 69 } },
      ],
      impairment: { delayMs: 50, jitterMs: 5, loss: 0.01, reorder: 0.01, duplicate: 0.005, rateBps: 10e6, queueMs: 500 },
      seed: 7,
      idleTimeoutMs: 30_000,
      statsEveryMs: 10_000,
    });
  });

  it("reads --link: two ends, each a namespace (empty: this one) and ADDRESS/PREFIX, IPv6 too", () => {
    expect(wanOptionsOf(["--link", "ap:10.77.0.1/30,:10.77.0.2/30", "--delay", "50ms", "--loss", "1%", "--seed", "7"])).toEqual({
      link: { a: { netns: "ap", address: "10.77.0.1/30" }, b: { address: "10.77.0.2/30" } },
      impairment: { delayMs: 50, loss: 0.01 },
      seed: 7,
      statsEveryMs: undefined,
    });
    expect(wanOptionsOf(["--link", "ap:fd00::1/64,wlc:fd00::2/64"])).toMatchObject({ link: { a: { netns: "ap", address: "fd00::1/64" }, b: { netns: "wlc", address: "fd00::2/64" } } });
  });

  it("picks a random seed when none is given (the banner prints it)", () => {
    const { seed } = wanOptionsOf(PAIR);
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });

  it.each([
    ["10mbit", 10e6],
    ["512kbit", 512e3],
    ["1gbit", 1e9],
    ["100kbyte", 800e3],
    ["1.5Mbit/s", 1.5e6],
    ["64000", 64e3],
  ])("rate %s is %d bit/s", (text, bps) => expect(parseRate(text)).toBe(bps));

  it.each(["0", "fast", "10mbps", "-1mbit", ""])("rate %j is refused", (text) => expect(parseRate(text)).toBeUndefined());

  it.each([
    ["1%", 0.01],
    ["0.5%", 0.005],
    ["0.01", 0.01],
    [".25", 0.25],
    ["100%", 1],
    ["0", 0],
  ])("probability %s is %d", (text, p) => expect(parseProbability(text)).toBe(p));

  it.each(["200%", "1.5", "-1%", "often", "1%%"])("probability %j is refused", (text) => expect(parseProbability(text)).toBeUndefined());

  it.each([
    [["--loss", "200%"], `--loss: expected a probability like 1% or 0.01, got "200%"`],
    [["--delay", "soon"], `--delay: expected a duration like 50ms or 0.5s, got "soon"`],
    [["--jitter=-5ms"], `--jitter: expected a duration like 50ms or 0.5s, got "-5ms"`],
    [["--rate", "10mbps"], `--rate: expected a rate like 10mbit, 512kbit or 100kbyte, got "10mbps"`],
    [["--seed=-1"], `--seed: expected a whole number from 0 to 4294967295, got "-1"`],
    [["--stats", "0"], `--stats: expected an interval > 0 like 10s, got "0"`],
    [["--listen", "localhost", "--to", "127.0.0.1:1"], `--listen: expected [tcp:|tftp:]HOST:PORT, got "localhost"`],
    [["--listen", "127.0.0.1:70000", "--to", "127.0.0.1:1"], `--listen: expected [tcp:|tftp:]HOST:PORT, got "127.0.0.1:70000"`],
    [["--listen", "127.0.0.1:1", "--to", "tcp:127.0.0.1:1"], `--to: expected HOST:PORT (the protocol goes on --listen), got "tcp:127.0.0.1:1"`],
    [["--listen", "127.0.0.1:1", "--to", "127.0.0.1:0"], `--to: expected HOST:PORT (the protocol goes on --listen), got "127.0.0.1:0"`],
    [["--listen", "127.0.0.1:1"], "expected pairs of --listen and --to (got 1 --listen, 0 --to), or --link"],
    [["--link", "ap:10.77.0.1/30"], `--link: expected [NS_A]:ADDRESS/PREFIX,[NS_B]:ADDRESS/PREFIX, got "ap:10.77.0.1/30"`],
    [["--link", "ap:10.77.0.1/30,wlc:10.77.0.2/30", "--idle", "5s"], "--link joins two namespaces; --listen, --to and --idle are for relay pairs"],
    [["--link", "a:1.2.3.4/30,b:1.2.3.5/30", ...PAIR], "--link joins two namespaces; --listen, --to and --idle are for relay pairs"],
  ])("vap wan %j fails with one line naming the flag", async (args, message) => {
    const withPair = args.includes("--listen") || args.includes("--link") ? args : [...PAIR, ...args];
    const r = await vap("wan", ...withPair);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.err).toContain(`vap wan: ${message}`);
  });

  it.each([
    [["--lose", "1%"], "Unknown option '--lose'"],
    [["--delay", "-5ms"], "Option '--delay' argument is ambiguous."],
  ])("vap wan %j: a word the command line cannot parse, then where to look", async (args, message) => {
    const r = await vap("wan", ...PAIR, ...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(`vap wan: ${message}\nsee vap wan --help\n`);
  });

  it("names the endpoint it cannot listen on", async () => {
    const taken = await UdpPeer.open();
    cleanup.add(() => taken.close(), null);
    const r = await vap("wan", "--listen", taken.endpoint, "--to", "127.0.0.1:5246");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^vap wan: udp relay cannot listen on ${taken.endpoint}: .*EADDRINUSE.*\\n$`));
  });

  it("documents itself in --help", async () => {
    const r = await vap("wan", "--help");
    expect(r.code).toBe(0);
    for (const flag of ["--listen", "--to", "--link", "tcp:", "--delay", "--jitter", "--loss", "--reorder", "--duplicate", "--rate", "--queue", "--idle", "--seed", "--stats"]) {
      expect(r.out).toContain(flag);
    }
  });
});

describe("vap wan running", () => {
  it("relays until stopped, prints the banner, periodic and final counters", async () => {
    const echo = await UdpPeer.echo();
    cleanup.add(() => echo.close(), null);
    const client = await UdpPeer.open();
    cleanup.add(() => client.close(), null);
    let out = "";
    const stopper = new AbortController();
    const running = main(["wan", "--listen", "127.0.0.1:0", "--to", echo.endpoint, "--delay", "5ms", "--seed", "7", "--stats", "50ms"], { stdout: (t) => (out += t), stderr: (t) => (out += t), signal: stopper.signal });
    expect(await waitUntil(() => /-> /.test(out))).toBe(true);
    expect(out).toMatch(/^wan: seed 7, delay 5ms\nwan: udp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+\n/);
    const port = Number(/wan: udp 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    for (let i = 0; i < 3; i++) client.send(numbered(i), port);
    expect(await waitUntil(() => client.received.length === 3)).toBe(true);
    expect(await waitUntil(() => out.includes("to client: in 3"))).toBe(true);
    stopper.abort();
    expect(await running).toBe(0);
    expect(out).toContain(`udp 127.0.0.1:${port} -> ${echo.endpoint}, 1 client\n`);
    // The final counters, printed once the proxy has closed.
    const final = out.slice(out.lastIndexOf("wan: stopped"));
    expect(final).toBe(
      "wan: stopped; final counters:\n" +
        `udp 127.0.0.1:${port} -> ${echo.endpoint}, 0 clients\n` +
        "  to server: in 3 (300 B), out 3 (300 B), dropped 0, queue-dropped 0, duplicated 0, reordered 0\n" +
        "  to client: in 3 (300 B), out 3 (300 B), dropped 0, queue-dropped 0, duplicated 0, reordered 0\n",
    );
  });
});
