/**
 * The fleet's supervisor: splits the APs over worker threads (one per core
 * by default), each a FleetShard; gathers their reports into the totals
 * and the metrics; restarts a worker that crashed, with its APs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ConfigError, readOperatorFile } from "../core/index.js";
import { MAX_WORKER_RESTARTS } from "./limits.js";
import type { FleetMetrics } from "./metrics.js";
import type { FleetOptions } from "./options.js";
import { bump, emptyReport } from "./report.js";
import type { ShardSetup } from "./shard.js";
import { FleetTotals } from "./totals.js";
import type { SupervisorMessage, WorkerMessage } from "./worker.js";

const WORKER_SCRIPT = new URL("./worker.js", import.meta.url);
/** How long a worker may take to stop its APs before it is terminated, ms. */
const STOP_GRACE_MS = 30_000;
/** How long a worker may take to answer a report request (a crashed one never does), ms. */
const REFRESH_WAIT_MS = 2_000;

export interface FleetCredentials {
  ca: { cert: string; key: string };
  imageTrust?: string;
}

interface Running {
  worker: Worker;
  setup: ShardSetup;
}

export class Fleet {
  readonly totals: FleetTotals;
  readonly #metrics: FleetMetrics | undefined;
  readonly #workers: Running[] = [];
  readonly #onProblem: (line: string) => void;
  #stopping = false;

  private constructor(options: FleetOptions, metrics: FleetMetrics | undefined, onProblem: (line: string) => void) {
    this.totals = new FleetTotals(options.aps, options.workers);
    this.#metrics = metrics;
    this.#onProblem = onProblem;
  }

  /** The fleet CA and the image trust, read once for every worker: a missing or wrong file is a ConfigError before anything starts. */
  static credentials(options: FleetOptions): FleetCredentials {
    const ca = { cert: readOperatorFile(join(options.pki, "ca.pem"), "--pki"), key: readOperatorFile(join(options.pki, "ca.key"), "--pki") };
    if (!ca.key.includes("PRIVATE KEY")) throw new ConfigError(`--pki ${options.pki}: ca.key holds no private key`);
    const trustFile = options.imageTrust ?? (existsSync(join(options.pki, "image-ca.pem")) ? join(options.pki, "image-ca.pem") : undefined);
    return { ca, ...(trustFile !== undefined ? { imageTrust: readOperatorFile(trustFile, "--image-trust") } : {}) };
  }

  /** Start the workers, each with its share of the APs. */
  static start(options: FleetOptions, { ca, imageTrust }: FleetCredentials, metrics: FleetMetrics | undefined, onProblem: (line: string) => void): Fleet {
    const fleet = new Fleet(options, metrics, onProblem);
    const first = options.shard * options.aps;
    for (let w = 0; w < options.workers; w++) {
      const indexes: number[] = [];
      for (let i = w; i < options.aps; i += options.workers) indexes.push(first + i);
      const setup: ShardSetup = { options, indexes, rampPerSecond: options.rampPerSecond / options.workers, ca, generation: 0, ...(imageTrust !== undefined ? { imageTrust } : {}) };
      fleet.#spawn(w, setup);
    }
    return fleet;
  }

  get imageTrusted(): boolean {
    return this.#workers.some((w) => w.setup.imageTrust !== undefined);
  }

  #spawn(index: number, setup: ShardSetup): void {
    const worker = new Worker(WORKER_SCRIPT, { workerData: setup });
    const running: Running = { worker, setup };
    this.#workers[index] = running;
    worker.on("message", (m: WorkerMessage) => {
      this.totals.add(index, m.report);
      this.#metrics?.add(m.report, this.totals);
    });
    worker.on("error", (err) => this.#onProblem(`fleet worker ${index + 1} crashed: ${err.message}`));
    worker.on("exit", (code) => {
      if (this.#stopping) return;
      // A worker ends only when told to: anything else was a crash. Its APs start again with a new worker.
      this.totals.forget(index);
      const report = emptyReport();
      bump(report.restarts, "worker crashed", setup.indexes.length);
      this.totals.add(index, report);
      this.#metrics?.add(report, this.totals);
      if (setup.generation >= MAX_WORKER_RESTARTS) {
        this.#onProblem(`fleet worker ${index + 1} exited (${code}) ${setup.generation + 1} times: its ${setup.indexes.length} AP(s) stay off`);
        this.totals.forget(index);
        return;
      }
      this.#onProblem(`fleet worker ${index + 1} exited (${code}): restarting its ${setup.indexes.length} AP(s)`);
      this.#spawn(index, { ...setup, generation: setup.generation + 1 });
    });
  }

  /** A fresh report from every worker (before a summary: the periodic ones may be up to a second old). */
  async refresh(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => {
              w.worker.off("message", done);
              resolve();
            }, REFRESH_WAIT_MS);
            w.worker.once("message", done);
            w.worker.postMessage({ type: "report" } satisfies SupervisorMessage);
          }),
      ),
    );
  }

  /** Stop every AP (DTLS close_notify to the controller), then the workers. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const grace = setTimeout(() => void w.worker.terminate().then(() => resolve()), STOP_GRACE_MS);
            w.worker.once("exit", () => {
              clearTimeout(grace);
              resolve();
            });
            w.worker.postMessage({ type: "stop" } satisfies SupervisorMessage);
          }),
      ),
    );
  }
}
