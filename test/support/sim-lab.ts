/**
 * A simulated lab: the lab controller and N WTPs on an in-memory network,
 * with real DTLS (the addon) and a ManualClock, so whole joins, faults and
 * recoveries run in milliseconds and the same way every time.
 */
import { DtlsContext } from "../../agent/capwap/dtls/index.js";
import type { ProfileName } from "../../agent/capwap/profiles/index.js";
import { Wtp, type WtpOptions } from "../../agent/capwap/wtp/index.js";
import { parseApConfig, type ApConfig } from "../../agent/config/index.js";
import { createLog, ManualClock, seededRandom, type Log } from "../../agent/core/index.js";
import { MemoryNetwork } from "../../agent/net/index.js";
import { type FaultPlan, LabController, type LabControllerOptions } from "../../lab/controller/index.js";
import { issueCa, issueLeaf, validFor, type IssuedCertificate } from "../../agent/pki/index.js";

const validity = validFor(30);
let pki: { ca: IssuedCertificate; controller: IssuedCertificate; ap: IssuedCertificate } | undefined;

/** One CA, controller and AP certificate for every simulated lab in the process (key generation is slow). */
export function simPki() {
  if (!pki) {
    const ca = issueCa("ecdsa", validity);
    pki = {
      ca,
      controller: issueLeaf(ca, { commonName: "vap-lab-wlc", role: "controller", type: "ecdsa", validity }),
      ap: issueLeaf(ca, { commonName: "C9120AXI-001122334455", role: "ap", type: "ecdsa", validity }),
    };
  }
  return pki;
}

export const AC_ADDRESS = "10.0.0.1";

export function apAddress(i: number): string {
  return `10.0.${1 + Math.floor((i + 2) / 250)}.${(i + 2) % 250}`;
}

export interface SimLabOptions {
  aps?: number;
  profile?: ProfileName;
  controller?: Partial<LabControllerOptions>;
  /** Faults the lab's controller injects (lost responses, refused joins, corrupted images). */
  faults?: FaultPlan;
  /** Changes to each AP's raw config before validation. */
  apConfig?: (i: number) => Record<string, unknown>;
  wtp?: (i: number, lab: SimLab) => Partial<WtpOptions>;
  /** Console lines of every AP and the controller, for assertions. */
  lines?: string[];
  seed?: number;
}

/** Test-sized timers: the RFC's ratios, in tens of milliseconds. */
export const FAST_TIMERS = {
  discoveryInterval: "200ms",
  maxDiscoveryInterval: "1s",
  silentInterval: "2s",
  echoInterval: "1s",
  retransmitInterval: "100ms",
  dataChannelKeepAlive: "1s",
  dataChannelDeadInterval: "3s",
  waitDtls: "3s",
  waitJoin: "3s",
  changeStatePending: "2s",
  imageDataStart: "3s",
  statistics: "5s",
};

export class SimLab {
  readonly clock = new ManualClock();
  readonly network = new MemoryNetwork(this.clock, 1);
  controller: LabController;
  readonly wtps: Wtp[] = [];
  readonly configs: ApConfig[] = [];
  readonly lines: string[];
  readonly #log: Log;

  constructor(readonly options: SimLabOptions = {}) {
    this.lines = options.lines ?? [];
    this.#log = createLog({ clock: this.clock, console: (l) => this.lines.push(l) });
    this.controller = this.newController();
    for (let i = 0; i < (options.aps ?? 1); i++) this.addAp(i);
  }

  /** A controller on `address` (the lab's own is on AC_ADDRESS). */
  newController(address = AC_ADDRESS, extra: Partial<LabControllerOptions> = {}): LabController {
    const { ca, controller } = simPki();
    return LabController.listen(
      {
        address,
        profile: this.options.profile ?? "cisco",
        dtls: new DtlsContext({ role: "server", cert: controller.cert + ca.cert, key: controller.key, ca: ca.cert }),
        clock: this.clock,
        log: this.#log.child({ ac: "lab" }),
        echoIntervalSeconds: 1,
        retransmitIntervalMs: 100,
        ...this.options.controller,
        ...extra,
      },
      (a, port) => this.network.bind(a, port),
      this.options.faults,
    );
  }

  /** Kill the controller (sockets closed, state lost), and bring up a fresh one after `downMs`. */
  async restartController(downMs: number): Promise<void> {
    await this.controller.shutdown();
    await this.run(downMs);
    this.controller = this.newController();
  }

  addAp(i: number): Wtp {
    const { ca, ap } = simPki();
    const mac = `00:11:22:33:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
    const config = parseApConfig(
      {
        baseMac: mac,
        profile: this.options.profile ?? "cisco",
        controllers: [{ address: AC_ADDRESS }],
        dtls: { cert: "ap.pem", key: "ap.key", ca: "ca.pem" },
        timers: FAST_TIMERS,
        ...this.options.apConfig?.(i),
      },
      `sim-ap-${i}.yaml`,
    );
    const address = apAddress(i);
    const name = config.identity.name;
    const wtp = new Wtp({
      config,
      network: { bind: () => this.network.bind(address) },
      dtls: new DtlsContext({ role: "client", cert: ap.cert + ca.cert, key: ap.key, ca: ca.cert }),
      clock: this.clock,
      random: seededRandom((this.options.seed ?? 1) * 1000 + i),
      log: this.#log.child({ ap: name }, { console: (l) => this.lines.push(`${name} ${l}`) }),
      ...this.options.wtp?.(i, this),
    });
    this.wtps.push(wtp);
    this.configs.push(config);
    return wtp;
  }

  async start(): Promise<void> {
    for (const w of this.wtps) await w.start();
  }

  /**
   * Step the clock in small increments until `done()` or `maxMs` of simulated
   * time; between steps, pending promise continuations run (the image sources
   * and sinks are async), but no simulated time passes while they do.
   */
  async runUntil(done: () => boolean, maxMs = 60_000, stepMs = 10): Promise<boolean> {
    for (let t = 0; t < maxMs; t += stepMs) {
      await settle();
      if (done()) return true;
      this.clock.advance(stepMs);
    }
    await settle();
    return done();
  }

  async run(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  allInRun(): boolean {
    return this.wtps.every((w) => w.state === "Run") && this.controller.aps().filter((a) => a.phase === "Run").length === this.wtps.length;
  }

  stop(): void {
    for (const w of this.wtps) void w.stop();
    void this.controller.shutdown();
  }
}

/** Let every queued promise continuation run (no timers, no I/O). */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}
