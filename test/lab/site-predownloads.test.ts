/**
 * The controller's efficient-upgrade orchestration (lab/controller/efficient)
 * with fake sessions: a port that records each order, the APs' reports fed
 * in as the controller's download and leave events, a seeded random. No
 * sockets, no clock: every step is an input.
 */
import { describe, expect, it } from "vitest";
import { type Log, seededRandom } from "../../agent/core/index.js";
import type { ApRecord, DownloadRecord } from "../../lab/controller/index.js";
import { type Election, type SiteTag, SitePredownloads } from "../../lab/controller/efficient/index.js";
import type { EfficientOrder } from "../../lab/controller/session-machine.js";

const VERSION = "17.12.1.5";
const MODELS = ["C9120AXI-B", "C9130AXI-B", "C9105AXI-B"];

interface Order {
  ap: string;
  version: string;
  efficient: EfficientOrder | undefined;
}

function lines(): Log & { lines: string[] } {
  const out: string[] = [];
  const log = {
    lines: out,
    debug: () => {},
    info: (m: string) => out.push(`info ${m}`),
    warn: (m: string) => out.push(`warn ${m}`),
    error: (m: string) => out.push(`error ${m}`),
    child: () => log,
  };
  return log;
}

/** `perModel` APs of each model in `site`, named S-M-i. */
function aps(site: string, perModel: number, models = MODELS): ApRecord[] {
  return models.flatMap((model, m) =>
    Array.from({ length: perModel }, (_, i): ApRecord => ({ key: `${site}-${m}-${i}`, address: "10.0.1.2", port: 5246, phase: "Run", imageWindow: 1, echoes: 0, name: `${site}-${m}-${i}`, model, siteTag: site })),
  );
}

function harness(o: { maxPredownloads?: number; tags?: SiteTag[]; refuse?: (ap: string) => boolean; seed?: number } = {}) {
  const orders: Order[] = [];
  const elections: Election[] = [];
  /** What was told, in order: a primary serving, and each order that went out. */
  const told: string[] = [];
  const log = lines();
  const tags = o.tags ?? [{ name: "branch", flexProfile: { predownload: true, tries: 7 }, aps: [] }];
  const sites = new SitePredownloads({
    port: { order: (ap, version, efficient) => (orders.push({ ap, version, efficient }), told.push(`order ${ap}`), o.refuse?.(ap) ? Promise.reject(new Error(`${ap} refused the predownload`)) : Promise.resolve()) },
    random: seededRandom(o.seed ?? 7),
    log,
    maxPredownloads: o.maxPredownloads ?? 100,
    siteTag: (name) => tags.find((t) => t.name === name),
    elected: (e) => elections.push(e),
    serving: (p) => told.push(`serving ${p.ap} ${p.model} ${p.imageServer.address}:${p.imageServer.port}`),
  });
  const records = new Map<string, ApRecord>();
  const start = (site: string, list: ApRecord[]) => {
    list.forEach((a) => records.set(a.name!, a));
    return sites.start(site, list, VERSION);
  };
  /** The AP's record changes as the controller would tell it. */
  const report = (ap: string, download: Partial<DownloadRecord>) => {
    const record = { ...records.get(ap)!, download: { name: "ap1g8", predownload: VERSION, state: "downloading", size: 0, bytes: 0, window: 1, ...download } as DownloadRecord };
    records.set(ap, record);
    sites.downloadChanged(record);
  };
  const complete = (ap: string, port?: number) => report(ap, { state: "complete", ...(port !== undefined ? { imageServer: { address: "10.0.1.2", port } } : {}) });
  const left = (ap: string) => sites.left(records.get(ap)!, "DTLS closed by the AP");
  const primaryOf = (model: string) => sites.primaries().find((p) => p.model === model)!.ap;
  return { sites, orders, elections, told, log, start, report, complete, left, primaryOf };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("efficient predownload in a site", () => {
  it("orders exactly one primary per model first, with the flex profile's tries; subordinates only after their primary's Complete, from its endpoint", async () => {
    const h = harness();
    const done = h.start("branch", aps("branch", 4));
    expect(h.orders).toHaveLength(3);
    expect(new Set(h.orders.map((o) => h.sites.status().get(o.ap)!.model))).toEqual(new Set(MODELS));
    for (const o of h.orders) expect(o).toEqual({ ap: o.ap, version: VERSION, efficient: { role: "primary", siteTag: "branch", tries: 7 } });
    expect(h.elections.map((e) => e.model).sort()).toEqual([...MODELS].sort());
    expect([...h.sites.status().values()].filter((v) => v.status === "Initiated")).toHaveLength(9);

    // The primary of one model reports Complete with its endpoint: its three subordinates, nothing else.
    const primary = h.primaryOf(MODELS[0]!);
    const toldBefore = h.told.length;
    h.complete(primary, 40001);
    const subs = h.orders.slice(3);
    // The owner hears the primary serves before any subordinate is ordered (a test can still touch what it serves).
    expect(h.told.slice(toldBefore)).toEqual([`serving ${primary} ${MODELS[0]} 10.0.1.2:40001`, ...subs.map((o) => `order ${o.ap}`)]);
    expect(subs.map((o) => o.ap).sort()).toEqual(["branch-0-0", "branch-0-1", "branch-0-2", "branch-0-3"].filter((a) => a !== primary));
    for (const o of subs) expect(o.efficient).toEqual({ role: "subordinate", siteTag: "branch", tries: 7, primary: { address: "10.0.1.2", port: 40001 } });
    expect(h.sites.primaries().find((p) => p.ap === primary)).toMatchObject({ status: "Complete", imageServer: { address: "10.0.1.2", port: 40001 }, subordinates: 3, complete: 0 });

    // Everyone completes: the run resolves with every AP's final record.
    for (const m of MODELS.slice(1)) h.complete(h.primaryOf(m), 40002);
    for (const o of h.orders.filter((x) => x.efficient?.role === "subordinate")) h.complete(o.ap);
    const records = await done;
    expect(records).toHaveLength(12);
    expect(records.every((r) => r.download?.state === "complete")).toBe(true);
    expect(h.orders).toHaveLength(12);
    expect(h.sites.primaries().map((p) => p.complete)).toEqual([3, 3, 3]);
    expect(h.log.lines).toContain(`info Predownload of ${VERSION} in site tag branch finished: 12 complete, 0 failed`);
  });

  it("elects the same primaries for the same seed, and the primaries are spread over the APs by the random", () => {
    const pick = (seed: number) => {
      const h = harness({ seed });
      void h.start("branch", aps("branch", 4));
      return h.orders.map((o) => o.ap);
    };
    expect(pick(1)).toEqual(pick(1));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => pick(s).join())).size).toBeGreaterThan(1);
  });

  it("re-elects a primary that left before it completed, among the incomplete APs still in Run, and orders the rest from the new one", async () => {
    const h = harness();
    const done = h.start("branch", aps("branch", 4, MODELS.slice(0, 1)));
    const first = h.orders[0]!.ap;
    h.left(first);
    expect(h.elections).toHaveLength(2);
    const second = h.elections[1]!;
    expect(second).toMatchObject({ siteTag: "branch", model: MODELS[0], previous: first, why: "its session ended: DTLS closed by the AP" });
    expect(second.ap).not.toBe(first);
    expect(h.orders[1]).toEqual({ ap: second.ap, version: VERSION, efficient: { role: "primary", siteTag: "branch", tries: 7 } });
    expect(h.orders).toHaveLength(2);
    h.complete(second.ap, 40009);
    const subs = h.orders.slice(2);
    expect(subs.map((o) => o.ap).sort()).toEqual(["branch-0-0", "branch-0-1", "branch-0-2", "branch-0-3"].filter((a) => a !== first && a !== second.ap));
    for (const o of subs) expect(o.efficient?.primary).toEqual({ address: "10.0.1.2", port: 40009 });
    subs.forEach((o) => h.complete(o.ap));
    const records = await done;
    expect(records.find((r) => r.name === first)!.download).toMatchObject({ state: "failed", error: "left: DTLS closed by the AP", role: "primary" });
    expect(records.filter((r) => r.download?.state === "complete")).toHaveLength(3);
  });

  it("re-elects when the primary reports Failed or Complete without an image server, and when an order is refused", () => {
    const h = harness();
    void h.start("branch", aps("branch", 3, MODELS.slice(0, 1)));
    const first = h.orders[0]!.ap;
    h.report(first, { state: "failed", error: "sink: no space" });
    const second = h.orders[1]!;
    expect(second.efficient?.role).toBe("primary");
    expect(h.elections[1]).toMatchObject({ previous: first, why: "it failed: sink: no space" });
    h.complete(second.ap);
    expect(h.elections[2]).toMatchObject({ previous: second.ap, why: "Complete without an image server" });
    const third = h.orders[2]!;
    expect([first, second.ap]).not.toContain(third.ap);
    expect(third.efficient?.role).toBe("primary");
    // The last one left has no one to serve: completing without a server elects nobody.
    h.complete(third.ap);
    expect(h.elections).toHaveLength(3);
  });

  it("a refused primary order is a Failed primary: another is elected", async () => {
    const refused = new Set<string>();
    const h = harness({ refuse: (ap) => refused.has(ap) || (refused.size === 0 && refused.add(ap).size === 1) });
    void h.start("branch", aps("branch", 2, MODELS.slice(0, 1)));
    await settled();
    expect(h.orders).toHaveLength(2);
    expect(h.orders.map((o) => o.efficient?.role)).toEqual(["primary", "primary"]);
    expect(h.sites.status().get(h.orders[0]!.ap)).toMatchObject({ status: "Failed" });
    expect(h.elections[1]!.why).toBe(`it failed: ${h.orders[0]!.ap} refused the predownload`);
  });

  it("a primary lost while serving: a subordinate still fetching becomes the primary (superseding its order), the others are ordered again from it", () => {
    const h = harness();
    void h.start("branch", aps("branch", 4, MODELS.slice(0, 1)));
    const first = h.orders[0]!.ap;
    h.complete(first, 40001);
    const [a, b, c] = h.orders.slice(1).map((o) => o.ap);
    h.complete(a!);
    // c fell back to the controller (its tries ran out): it keeps downloading from there.
    h.report(c!, { method: "CAPWAP", fallback: "primary 10.0.1.2:40001 failed 7 tries (last: timeout)" });
    h.left(first);
    const next = h.elections[1]!.ap;
    expect([b, c]).toContain(next);
    expect(h.orders[4]).toEqual({ ap: next, version: VERSION, efficient: { role: "primary", siteTag: "branch", tries: 7 } });
    h.complete(next, 40005);
    const again = h.orders.slice(5);
    // The one that was neither the new primary nor complete, unless it is on its CAPWAP fallback.
    expect(again.map((o) => o.ap)).toEqual(next === b ? [] : [b]);
    for (const o of again) expect(o.efficient?.primary).toEqual({ address: "10.0.1.2", port: 40005 });
    expect(h.log.lines).toContain(`info Efficient image upgrade: AP ${c} falls back to the controller for ${VERSION}: primary 10.0.1.2:40001 failed 7 tries (last: timeout)`);
  });

  it("warns when a subordinate's image from its primary failed verification, and keeps its retries for the views", () => {
    const h = harness();
    void h.start("branch", aps("branch", 2, MODELS.slice(0, 1)));
    h.complete(h.orders[0]!.ap, 40001);
    const sub = h.orders[1]!.ap;
    h.report(sub, { method: "TFTP", role: "subordinate", retry: { attempt: 3, tries: 7, nextRetryAt: 12_000, reason: "server busy" } });
    expect(h.sites.status().get(sub)).toMatchObject({ role: "subordinate", status: "Predownloading", download: { method: "TFTP", retry: { attempt: 3, tries: 7 } } });
    h.report(sub, { method: "CAPWAP", fallback: "image from primary failed verification: signature mismatch" });
    expect(h.log.lines).toContain(`warn Efficient image upgrade: AP ${sub} falls back to the controller for ${VERSION}: image from primary failed verification: signature mismatch`);
  });
});

describe("a site that is not efficient, and the limit", () => {
  it("orders every AP of a site whose flex profile has predownload off (or of no site tag) from the controller, without a role", () => {
    const h = harness({ tags: [{ name: "plain", flexProfile: { predownload: false }, aps: [] }] });
    void h.start("plain", aps("plain", 2));
    void h.start("default-site-tag", aps("default-site-tag", 1));
    expect(h.orders).toHaveLength(9);
    expect(h.orders.every((o) => o.efficient === undefined)).toBe(true);
    expect(h.elections).toEqual([]);
    expect(h.sites.primaries()).toEqual([]);
  });

  it("keeps at most maxPredownloads orders outstanding, primaries before the rest", () => {
    const h = harness({ maxPredownloads: 2, tags: [{ name: "branch", flexProfile: { predownload: true }, aps: [] }] });
    void h.start("default-site-tag", aps("default-site-tag", 2, MODELS.slice(0, 2)));
    expect(h.orders.map((o) => o.ap)).toEqual(["default-site-tag-0-0", "default-site-tag-0-1"]);
    void h.start("branch", aps("branch", 2, MODELS.slice(0, 2)));
    expect(h.orders).toHaveLength(2);
    h.complete("default-site-tag-0-0");
    // The branch's primaries go before the plain site's waiting APs; the default tries travel with them.
    expect(h.orders[2]!.efficient).toMatchObject({ role: "primary", siteTag: "branch", tries: 44 });
    h.report("default-site-tag-0-1", { state: "failed", error: "timeout" });
    expect(h.orders[3]!.efficient?.role).toBe("primary");
    expect(h.orders).toHaveLength(4);
    h.complete(h.orders[2]!.ap, 40001);
    // Its subordinate waits behind the plain site's APs, which were queued first.
    expect(h.orders.slice(4).map((o) => o.ap)).toEqual(["default-site-tag-1-0"]);
    h.complete(h.orders[3]!.ap, 40002);
    h.complete("default-site-tag-1-0");
    expect(h.orders.slice(5).map((o) => o.efficient?.role ?? "plain")).toEqual(["plain", "subordinate"]);
  });

  it("refuses a site with no AP in Run, and a second start while the first runs", () => {
    const h = harness();
    expect(() => h.start("branch", [])).toThrow("site tag branch has no AP in Run");
    void h.start("branch", aps("branch", 1));
    expect(() => h.start("branch", aps("branch", 1))).toThrow(`site tag branch is already predownloading ${VERSION}`);
  });
});
