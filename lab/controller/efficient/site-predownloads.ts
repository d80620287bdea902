/**
 * The controller's side of efficient image upgrade (SPEC.md §3): site by
 * site, per model, one primary AP chosen at random fetches the image from
 * the controller; when it reports Complete with its TFTP endpoint, the
 * other APs of its model in the site are ordered to fetch it from there
 * (with the flex profile's tries). A site whose flex profile has predownload
 * off has every AP ordered plainly (from the controller), as LabController's
 * predownload() does. At most `maxPredownloads` orders are outstanding
 * (ordered, neither Complete nor Failed; Cisco's per-WNCD limit); the rest
 * wait, primaries first.
 *
 * Driven by the controller's events (download, leave) and an injected
 * random; it orders through a port, so tests drive it with fake sessions.
 */
import type { Log, Random } from "../../../agent/core/index.js";
import { describeError } from "../../../agent/core/index.js";
import type { Endpoint } from "../../../agent/net/index.js";
import { endpointKey } from "../../../agent/net/index.js";
import type { ApRecord, DownloadRecord, EfficientRoleName } from "../ap-record.js";
import type { EfficientOrder } from "../session-machine.js";
import { isEfficient, type SiteTag, triesOf } from "./site-tags.js";

/** An AP's predownload in its site's latest run: `Initiated` until its order goes out (waiting for its primary or for a place under the limit). */
export type PredownloadStatus = "Initiated" | "Predownloading" | "Complete" | "Failed";

/** How the controller orders one AP (ApSession.order); resolves once the AP accepted. */
export interface PredownloadPort {
  order(ap: string, version: string, efficient: EfficientOrder | undefined): Promise<void>;
}

/** A primary elected for a model in a site: the first of a run, or one in the place of a primary lost (`previous`, `why`). */
export interface Election {
  readonly siteTag: string;
  readonly model: string;
  readonly ap: string;
  readonly previous?: string;
  readonly why?: string;
}

/** One AP's predownload as the views show it. */
export interface PredownloadView {
  readonly siteTag: string;
  readonly model: string;
  readonly version: string;
  readonly role?: EfficientRoleName;
  readonly status: PredownloadStatus;
  /** Its download record of this version, once it was ordered (method, retries, image server). */
  readonly download?: DownloadRecord;
}

/** A model's primary in a site (`show ap primary list`). */
export interface PrimaryView {
  readonly siteTag: string;
  readonly model: string;
  readonly ap: string;
  readonly version: string;
  readonly status: PredownloadStatus;
  readonly imageServer?: Endpoint;
  /** The other APs of its model in the site, and how many of them completed. */
  readonly subordinates: number;
  readonly complete: number;
}

export interface SitePredownloadsOptions {
  port: PredownloadPort;
  random: Random;
  log: Log;
  maxPredownloads: number;
  /** The site tag by name (undefined: not configured, so not efficient). */
  siteTag(name: string): SiteTag | undefined;
  /** A primary was elected (or re-elected). */
  elected(election: Election): void;
  /** A primary serves its image at `imageServer`: called before its subordinates are ordered. */
  serving(primary: PrimaryServing): void;
}

/** A primary that completed and serves its model's image to its site. */
export interface PrimaryServing {
  readonly siteTag: string;
  readonly model: string;
  readonly ap: string;
  readonly imageServer: Endpoint;
}

interface Run {
  readonly siteTag: string;
  readonly version: string;
  readonly entries: Entry[];
  readonly resolve: (records: ApRecord[]) => void;
}

interface Group {
  readonly run: Run;
  readonly model: string;
  /** Efficient: a primary and subordinates; otherwise every AP from the controller. */
  readonly efficient: boolean;
  readonly tries: number;
  readonly members: Entry[];
  primary?: Entry | undefined;
  /** The current primary's TFTP endpoint, once it reported it. */
  server?: Endpoint | undefined;
}

interface Entry {
  readonly ap: string;
  readonly group: Group;
  role?: EfficientRoleName;
  status: PredownloadStatus;
  /** Waiting in a queue for a place under maxPredownloads. */
  queued: boolean;
  /** Its session ended. */
  gone: boolean;
  /** It fell back to the controller (said once). */
  fellBack: boolean;
  /** Orders sent, so that a late refusal of a superseded order is not taken for the new one's. */
  orders: number;
  error?: string;
  /** Its latest record, as the controller told it. */
  record: ApRecord;
}

const incomplete = (e: Entry) => e.status === "Initiated" || e.status === "Predownloading";
const byName = (a: Entry, b: Entry) => a.ap.localeCompare(b.ap);

/** How a vap subordinate's fallback reason begins when the image from its primary failed verification (the contract's wording). */
const VERIFICATION_FAILED = "image from primary failed verification";

export class SitePredownloads {
  readonly #o: SitePredownloadsOptions;
  /** Each AP's entry in its site's latest run. */
  readonly #entries = new Map<string, Entry>();
  /** Runs not yet settled, by site tag. */
  readonly #runs = new Map<string, Run>();
  /** Every model's group of each site's latest run, for the primary list. */
  readonly #groups = new Map<string, Group>();
  readonly #outstanding = new Set<Entry>();
  readonly #waitingPrimaries: Entry[] = [];
  readonly #waiting: Entry[] = [];

  constructor(options: SitePredownloadsOptions) {
    this.#o = options;
  }

  /**
   * Predownload `version` to `aps` (the site's APs in Run): elect a primary
   * per model (efficient site) and order it, or order every AP (otherwise).
   * Resolves with each AP's final record once each is Complete or Failed.
   * Throws at once when the site already predownloads or has no AP.
   */
  start(siteTag: string, aps: readonly ApRecord[], version: string): Promise<ApRecord[]> {
    if (this.#runs.has(siteTag)) throw new Error(`site tag ${siteTag} is already predownloading ${this.#runs.get(siteTag)!.version}`);
    const named = aps.filter((a): a is ApRecord & { name: string } => a.name !== undefined).sort((a, b) => a.name.localeCompare(b.name));
    if (named.length === 0) throw new Error(`site tag ${siteTag} has no AP in Run`);
    const tag = this.#o.siteTag(siteTag);
    const efficient = isEfficient(tag);
    return new Promise((resolve) => {
      const run: Run = { siteTag, version, entries: [], resolve };
      this.#runs.set(siteTag, run);
      for (const key of [...this.#groups.keys()]) if (this.#groups.get(key)!.run.siteTag === siteTag) this.#groups.delete(key);
      const groups = new Map<string, Group>();
      for (const record of named) {
        const model = record.model ?? "unknown";
        let group = groups.get(model);
        if (!group) groups.set(model, (group = { run, model, efficient, tries: triesOf(tag), members: [] }));
        const entry: Entry = { ap: record.name, group, status: "Initiated", queued: false, gone: false, fellBack: false, orders: 0, record };
        this.#withdraw(this.#entries.get(record.name));
        this.#entries.set(record.name, entry);
        group.members.push(entry);
        run.entries.push(entry);
      }
      this.#o.log.info(`Predownload of ${version} in site tag ${siteTag}: ${named.length} AP(s)${efficient ? `, efficient: one primary per model (${[...groups.keys()].join(", ")})` : ", each from the controller"}`);
      for (const group of groups.values()) {
        this.#groups.set(`${siteTag}\u0000${group.model}`, group);
        if (!efficient) group.members.forEach((e) => this.#enqueue(e));
        else this.#elect(group);
      }
      this.#pump();
    });
  }

  /** An AP's download record changed (the controller's `download` event). */
  downloadChanged(ap: ApRecord): void {
    const e = ap.name === undefined ? undefined : this.#entries.get(ap.name);
    const d = ap.download;
    if (!e || !d || d.predownload !== e.group.run.version || !incomplete(e)) return;
    e.record = ap;
    if (e.role === "subordinate" && d.method === "CAPWAP" && d.fallback !== undefined && !e.fellBack) {
      e.fellBack = true;
      const line = `Efficient image upgrade: AP ${e.ap} falls back to the controller for ${e.group.run.version}: ${d.fallback}`;
      if (d.fallback.startsWith(VERIFICATION_FAILED)) this.#o.log.warn(line);
      else this.#o.log.info(line);
    }
    if (d.state === "complete") this.#completed(e, d.imageServer);
    else if (d.state === "failed") this.#failed(e, d.error ?? "the AP reported Failed");
  }

  /** An AP's session ended (the controller's `leave` event). */
  left(ap: ApRecord, reason: string): void {
    const e = ap.name === undefined ? undefined : this.#entries.get(ap.name);
    if (!e || e.gone) return;
    e.gone = true;
    this.#withdraw(e);
    const wasPrimary = e.group.primary === e;
    if (incomplete(e)) this.#settle(e, "Failed", `left: ${reason}`);
    if (wasPrimary) this.#primaryLost(e.group, `its session ended: ${reason}`);
    this.#pump();
    this.#finishRun(e.group.run);
  }

  /** Each AP's predownload in its site's latest run, by AP name. */
  status(): ReadonlyMap<string, PredownloadView> {
    return new Map(
      [...this.#entries].map(([name, e]) => {
        const { run, model } = e.group;
        const d = e.record.download;
        const view: PredownloadView = { siteTag: run.siteTag, model, version: run.version, status: e.status, ...(e.role ? { role: e.role } : {}), ...(d?.predownload === run.version && e.orders > 0 ? { download: d } : {}) };
        return [name, view];
      }),
    );
  }

  /** The primaries of each site's latest run, by site tag and model. */
  primaries(): PrimaryView[] {
    return [...this.#groups.values()]
      .filter((g) => g.primary !== undefined)
      .sort((a, b) => a.run.siteTag.localeCompare(b.run.siteTag) || a.model.localeCompare(b.model))
      .map((g) => {
        const p = g.primary!;
        const others = g.members.filter((m) => m !== p);
        const server = g.server ?? p.record.download?.imageServer;
        return {
          siteTag: g.run.siteTag,
          model: g.model,
          ap: p.ap,
          version: g.run.version,
          status: p.status,
          ...(server ? { imageServer: server } : {}),
          subordinates: others.length,
          complete: others.filter((m) => m.status === "Complete").length,
        };
      });
  }

  /** The version a site last predownloaded (what a swap activates). */
  versionOf(siteTag: string): string | undefined {
    for (const e of this.#entries.values()) if (e.group.run.siteTag === siteTag) return e.group.run.version;
    return undefined;
  }

  /** The first primary of a model in an efficient site, at random among its APs. */
  #elect(group: Group): void {
    const { members } = group;
    const primary = members[this.#o.random.int(members.length)]!;
    for (const m of members) m.role = m === primary ? "primary" : "subordinate";
    group.primary = primary;
    this.#o.log.info(`Efficient image upgrade: AP ${primary.ap} is the primary for ${group.model} in site tag ${group.run.siteTag} (${members.length - 1} subordinate(s) wait for it)`);
    this.#o.elected({ siteTag: group.run.siteTag, model: group.model, ap: primary.ap });
    this.#enqueue(primary);
  }

  /**
   * A primary lost [inf: no public source says what a 9800 does — the one
   * place this choice is made]: its session ended, it reported Failed, or
   * Complete without an image server, while APs of its model in the site
   * are still incomplete. A new primary is elected at random among those
   * incomplete APs still in Run and ordered as primary (superseding its
   * subordinate order); when it completes, the remaining incomplete
   * subordinates are ordered again with its endpoint (#completed). A
   * subordinate that runs out of tries meanwhile falls back to the
   * controller by itself.
   */
  #primaryLost(group: Group, why: string): void {
    const previous = group.primary;
    group.server = undefined;
    const candidates = group.members.filter((m) => m !== previous && incomplete(m) && !m.gone).sort(byName);
    if (candidates.length === 0) return;
    const next = candidates[this.#o.random.int(candidates.length)]!;
    next.role = "primary";
    group.primary = next;
    this.#o.log.info(`Efficient image upgrade: primary AP ${previous?.ap} for ${group.model} in site tag ${group.run.siteTag} lost (${why}): AP ${next.ap} elected in its place`);
    this.#o.elected({ siteTag: group.run.siteTag, model: group.model, ap: next.ap, ...(previous ? { previous: previous.ap } : {}), why });
    this.#withdraw(next);
    if (next.status === "Predownloading") this.#send(next);
    else this.#enqueue(next);
  }

  #completed(e: Entry, server: Endpoint | undefined): void {
    const group = e.group;
    this.#settle(e, "Complete");
    if (group.efficient && group.primary === e) {
      if (server === undefined) this.#primaryLost(group, "Complete without an image server");
      else this.#release(group, server);
    }
    this.#pump();
    this.#finishRun(group.run);
  }

  /** The primary serves at `server`: order its model's incomplete APs from there (again, those ordered under a primary since lost). */
  #release(group: Group, server: Endpoint): void {
    group.server = server;
    this.#o.serving({ siteTag: group.run.siteTag, model: group.model, ap: group.primary!.ap, imageServer: server });
    const waiting = group.members.filter((m) => m !== group.primary && incomplete(m) && !m.gone);
    this.#o.log.info(`Efficient image upgrade: primary AP ${group.primary!.ap} serves ${group.model} on ${endpointKey(server)}: ordering ${waiting.length} subordinate(s) of site tag ${group.run.siteTag}`);
    for (const m of waiting) {
      m.role = "subordinate";
      // One already downloading from the controller (it fell back) keeps doing so.
      if (m.status === "Predownloading" && m.record.download?.method !== "CAPWAP") this.#send(m);
      else if (m.status === "Initiated" && !m.queued) this.#enqueue(m);
    }
  }

  #failed(e: Entry, error: string): void {
    this.#settle(e, "Failed", error);
    if (e.group.efficient && e.group.primary === e) this.#primaryLost(e.group, `it failed: ${error}`);
    this.#pump();
    this.#finishRun(e.group.run);
  }

  #settle(e: Entry, status: "Complete" | "Failed", error?: string): void {
    e.status = status;
    if (error !== undefined) e.error = error;
    this.#outstanding.delete(e);
    this.#withdraw(e);
  }

  #enqueue(e: Entry): void {
    e.queued = true;
    (e.role === "primary" ? this.#waitingPrimaries : this.#waiting).push(e);
  }

  /** Out of the queues (it is ordered now, or gone, or replaced by a new run). */
  #withdraw(e: Entry | undefined): void {
    if (!e?.queued) return;
    e.queued = false;
    for (const q of [this.#waitingPrimaries, this.#waiting]) {
      const i = q.indexOf(e);
      if (i >= 0) q.splice(i, 1);
    }
  }

  /** Orders go out while fewer than maxPredownloads are outstanding, primaries first. */
  #pump(): void {
    while (this.#outstanding.size < this.#o.maxPredownloads) {
      const e = this.#waitingPrimaries.shift() ?? this.#waiting.shift();
      if (!e) return;
      e.queued = false;
      // A subordinate whose primary was lost meanwhile waits for the next one's endpoint.
      if (e.role === "subordinate" && e.group.server === undefined) continue;
      this.#send(e);
    }
  }

  #send(e: Entry): void {
    const { group } = e;
    const { run } = group;
    const efficient: EfficientOrder | undefined = group.efficient
      ? { role: e.role!, siteTag: run.siteTag, tries: group.tries, ...(e.role === "subordinate" ? { primary: group.server } : {}) }
      : undefined;
    e.status = "Predownloading";
    this.#outstanding.add(e);
    const order = ++e.orders;
    const from = efficient?.primary ? ` from primary ${endpointKey(efficient.primary)}` : efficient ? " as primary, from the controller" : "";
    this.#o.log.info(`Ordering AP ${e.ap} to predownload ${run.version}${from} (site tag ${run.siteTag})`);
    this.#o.port.order(e.ap, run.version, efficient).catch((err: unknown) => {
      if (order === e.orders && incomplete(e)) this.#failed(e, describeError(err));
    });
  }

  #finishRun(run: Run): void {
    if (this.#runs.get(run.siteTag) !== run || run.entries.some(incomplete)) return;
    this.#runs.delete(run.siteTag);
    const complete = run.entries.filter((e) => e.status === "Complete").length;
    this.#o.log.info(`Predownload of ${run.version} in site tag ${run.siteTag} finished: ${complete} complete, ${run.entries.length - complete} failed`);
    run.resolve(run.entries.map((e) => finalRecord(e)));
  }
}

/** An AP's last record; one that failed without a record saying so (it left, or refused the order) gets one. */
function finalRecord(e: Entry): ApRecord {
  const { record } = e;
  const { version, siteTag } = e.group.run;
  if (e.status !== "Failed" || (record.download?.predownload === version && record.download.state === "failed")) return { ...record };
  const prior = record.download?.predownload === version ? record.download : undefined;
  return {
    ...record,
    download: { name: prior?.name ?? e.ap, predownload: version, state: "failed", size: prior?.size ?? 0, bytes: prior?.bytes ?? 0, window: prior?.window ?? 1, siteTag, ...(e.role ? { role: e.role } : {}), ...(prior?.method ? { method: prior.method } : {}), error: e.error ?? "failed" },
  };
}
