/**
 * A share of the fleet's APs on one event loop (a worker thread): each AP
 * powered on at its turn of the ramp, its certificate issued from the fleet
 * CA in memory, its flash volatile (sink storage) — then watched: state
 * changes, joins, handshakes, downloads and restarts become the counts of
 * the next report. An AP that fails is started again alone.
 *
 * One timer drives the ramp for the whole shard, not one per AP.
 */
import { join } from "node:path";
import { startAp, type DownloadEvent, type RunningAp } from "../ap/index.js";
import type { Wtp, WtpState } from "../capwap/wtp/index.js";
import { parseApConfig, type ApConfig } from "../config/index.js";
import { describeError, type Log, silentLog } from "../core/index.js";
import { apCommonName, issueLeaf, parseMac, validFor } from "../pki/index.js";
import { UpgradeEngine } from "../upgrade/index.js";
import { MemoryFlash } from "../../platform/flash/index.js";
import { classPattern, type FleetIdentity, fleetIdentity } from "./identity.js";
import { FLEET_LOG_LINES, REASON_LABEL_CHARS } from "./limits.js";
import type { FleetOptions } from "./options.js";
import { bump, emptyReport, epochNow, type ShardReport } from "./report.js";

export interface ShardSetup {
  options: FleetOptions;
  /** The fleet-wide AP indexes this shard runs, in power-on order. */
  indexes: number[];
  /** This shard's share of the ramp, APs per second. */
  rampPerSecond: number;
  /** The fleet CA (PEM) that issues every AP's certificate; the controller trusts it. */
  ca: { cert: string; key: string };
  /** How often this shard's worker was restarted after a crash (0: the first). */
  generation: number;
  /** The image-signing roots (PEM); absent: the APs join only. */
  imageTrust?: string;
}

/** An AP restarted after a failure waits this long first, ms: a crash loop must not spin. */
const RESTART_DELAY_MS = 1000;
/** The ramp's one timer ticks this often, ms. */
const RAMP_TICK_MS = 20;
const CERT_VALIDITY_DAYS = 365;

interface Slot {
  identity: FleetIdentity;
  config: ApConfig;
  ap?: RunningAp;
  state: WtpState | "Off";
  /** When the AP's current climb to Run began (power-on, a restart), ms. */
  climbFrom: number;
  restartsSeen: number;
  /** The session whose restarts restartsSeen counts (a reload starts a new one). */
  wtp?: Wtp;
  stopping?: boolean;
}

export class FleetShard {
  readonly #setup: ShardSetup;
  readonly #log: Log;
  readonly #slots: Slot[];
  readonly #ca: { cert: string; key: string };
  readonly #validity = validFor(CERT_VALIDITY_DAYS);
  readonly #startedAt = performance.now();
  #next = 0;
  #ramp: NodeJS.Timeout | undefined;
  #stopped = false;
  #pending = emptyReport();
  #inFlight = 0;
  readonly #restartTimers = new Set<NodeJS.Timeout>();

  constructor(setup: ShardSetup, log: Log = silentLog) {
    this.#setup = setup;
    this.#log = log;
    this.#ca = setup.ca;
    const pattern = classPattern(setup.options.classes);
    this.#slots = setup.indexes.map((index) => {
      const identity = fleetIdentity(index, setup.options, pattern);
      return { identity, config: this.#config(identity), state: "Off", climbFrom: 0, restartsSeen: 0 };
    });
  }

  /** Power the APs on at the shard's share of the ramp, each delayed by up to the jitter. */
  start(): void {
    const { rampPerSecond } = this.#setup;
    const { jitterMs } = this.#setup.options;
    const due = this.#slots.map((_, k) => (k / rampPerSecond) * 1000 + Math.random() * jitterMs);
    const order = due.map((_, k) => k).sort((a, b) => due[a]! - due[b]!);
    const tick = () => {
      const now = performance.now() - this.#startedAt;
      while (this.#next < order.length && due[order[this.#next]!]! <= now) this.#powerOn(this.#slots[order[this.#next++]!]!);
      if (this.#next < order.length && !this.#stopped) this.#ramp = setTimeout(tick, RAMP_TICK_MS);
    };
    tick();
  }

  /** The counts now, and what happened since the last report. */
  report(): ShardReport {
    const r = this.#pending;
    this.#pending = emptyReport();
    r.inFlight = this.#inFlight;
    r.at = epochNow();
    for (const slot of this.#slots) {
      bump(r.states, slot.state);
      const ap = slot.ap;
      if (!ap || slot.state !== "Run") continue;
      r.inRun++;
      const w = ap.wtp;
      // An AP without image trust reports its configured version (it cannot upgrade, but may already run the controller's).
      if ((ap.engine?.running ?? slot.config.versions.running) === w.controller?.softwareVersion) r.upgraded++;
      r.echoes += w.stats.echoes;
      r.echoIntervalMs = Math.max(r.echoIntervalMs, w.echoIntervalMs);
      r.keepAlives += w.stats.keepAlives;
      r.keepAliveIntervalMs = Math.max(r.keepAliveIntervalMs, w.keepAliveIntervalMs);
    }
    return r;
  }

  /** Stop every AP (each tells its controller: DTLS close_notify). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#ramp);
    for (const t of this.#restartTimers) clearTimeout(t);
    await Promise.all(
      this.#slots.map(async (slot) => {
        slot.stopping = true;
        await slot.ap?.stop().catch(() => undefined);
      }),
    );
  }

  #config(id: FleetIdentity): ApConfig {
    const o = this.#setup.options;
    const source = o.sourceAddresses?.[id.index % o.sourceAddresses.length];
    const image = this.#setup.imageTrust !== undefined ? { trust: "(fleet: read once)", storage: o.storage } : undefined;
    return parseApConfig(
      {
        baseMac: id.mac,
        class: id.classProfile.name,
        profile: o.profile,
        controllers: o.controllers.map((address) => ({ address })),
        ...(source ? { discovery: { bindAddress: source } } : {}),
        // The credentials are issued in memory at power-on (startAp's pem); these names are never read.
        dtls: { cert: "(fleet: issued in memory)", key: "(fleet: issued in memory)", ca: join(o.pki, "ca.pem") },
        stateDir: o.stateDir !== undefined ? join(o.stateDir, `ap${id.index + 1}`) : "(volatile)",
        ...(image ? { image } : {}),
        versions: { running: o.version },
      },
      `fleet AP ${id.index + 1}`,
    );
  }

  #powerOn(slot: Slot): void {
    if (this.#stopped) return;
    slot.climbFrom = performance.now();
    slot.state = "Idle";
    this.#launch(slot).catch((err: unknown) => this.#failed(slot, `start failed: ${describeError(err)}`));
  }

  async #launch(slot: Slot): Promise<void> {
    const { identity: id, config } = slot;
    const issued = issueLeaf(this.#ca, { commonName: apCommonName(id.model, parseMac(id.mac)), role: "ap", type: "ecdsa", validity: this.#validity });
    const flash = await this.#flash(slot);
    const ap = await startAp(config, {
      log: this.#log,
      pem: { cert: issued.cert + this.#ca.cert, key: issued.key, ca: this.#ca.cert },
      logLines: FLEET_LOG_LINES,
      singlePort: true,
      ...(this.#setup.imageTrust !== undefined ? { imageTrust: this.#setup.imageTrust } : {}),
      ...(flash ? { flash } : {}),
      onDownload: (e) => this.#download(e),
      wtp: { onStateChange: (state, previous) => this.#stateChanged(slot, state, previous) },
    });
    if (this.#stopped || slot.stopping) {
      await ap.stop();
      return;
    }
    slot.ap = ap;
    void ap.failed.then((err) => this.#failed(slot, `AP failed: ${err.message}`));
  }

  /** Sink storage: a volatile flash holding the factory version's record. Flash storage: the AP's directory, given its factory image once. */
  async #flash(slot: Slot): Promise<MemoryFlash | undefined> {
    const { classProfile } = slot.identity;
    const o = this.#setup.options;
    if (this.#setup.imageTrust === undefined) return undefined;
    if (o.storage === "sink") return new MemoryFlash(classProfile.tmpKiB, { version: o.version, family: classProfile.name });
    const engineOptions = { stateDir: slot.config.stateDir, hardwareClass: classProfile, storage: o.storage, trust: this.#setup.imageTrust, policy: "required" as const, log: silentLog };
    const bootable = await UpgradeEngine.inspect(engineOptions).then(
      () => true,
      () => false,
    );
    if (!bootable) await UpgradeEngine.provision(engineOptions, join(o.factory!, classProfile.name));
    return undefined;
  }

  #stateChanged(slot: Slot, state: WtpState, previous: WtpState): void {
    slot.state = state;
    const r = this.#pending;
    if (previous === "DtlsSetup") r.handshakes[state === "Join" ? "ok" : "failed"]++;
    const wtp = slot.ap?.wtp;
    if (wtp) {
      // A new session (a reload) counts its restarts from zero.
      if (slot.wtp !== wtp) {
        slot.wtp = wtp;
        slot.restartsSeen = 0;
      }
      if (wtp.stats.restarts > slot.restartsSeen) {
        slot.restartsSeen = wtp.stats.restarts;
        bump(r.restarts, reasonLabel(wtp.restartReason ?? "unknown"));
        slot.climbFrom = performance.now();
      }
    }
    if (state === "Run") {
      r.joins++;
      r.joinSeconds.push((performance.now() - slot.climbFrom) / 1000);
    }
    if (state === "Reset") slot.climbFrom = performance.now();
  }

  #download(e: DownloadEvent): void {
    if (e.kind === "started" || e.kind === "drained") {
      this.#inFlight += e.kind === "started" ? 1 : -1;
      this.#pending.flows.push(e.kind === "started" ? epochNow() : -epochNow());
      return;
    }
    const method = e.source;
    bump(this.#pending.imageBytes, method, e.bytes);
    this.#pending.downloads.push({ method, seconds: e.ms / 1000, ok: e.ok, ...(e.reason ? { reason: e.reason } : {}) });
  }

  /** An AP that cannot go on: stop what is left of it and start it again alone, after a pause. */
  #failed(slot: Slot, reason: string): void {
    if (this.#stopped || slot.stopping) return;
    bump(this.#pending.restarts, reasonLabel(reason));
    const ap = slot.ap;
    slot.ap = undefined;
    slot.state = "Off";
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      void (ap?.stop() ?? Promise.resolve()).catch(() => undefined).then(() => this.#powerOn(slot));
    }, RESTART_DELAY_MS);
    this.#restartTimers.add(timer);
  }
}

/** A restart reason as a metric label: its first words, without the numbers that make each one unique. */
export function reasonLabel(reason: string): string {
  return reason.replace(/\d+(\.\d+)*/g, "N").slice(0, REASON_LABEL_CHARS);
}
