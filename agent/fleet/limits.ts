/** The fleet's defaults and bounds, in one place. */
import { DEFAULT_AP_VERSION } from "../config/index.js";

export const FLEET_DEFAULTS = {
  /** The first three bytes of every fleet AP's base MAC (locally administered); the index fills the other three. */
  macPrefix: "02:10:00",
  /**
   * APs powered on per second, across all workers: a realistic storm, not
   * one burst. Measured against the lab controller on this 2-core host with
   * 10,000 APs: at 100/s every handshake completes first time (10,000 in Run
   * after 101.6 s, none restarted); at 200/s the controller's 256 half-open
   * handshakes fill and 1,968 APs wait out WaitDTLS once (all in Run after
   * 106.7 s). TRex Wireless publishes 93 joins/s.
   */
  rampPerSecond: 100,
  /** Each AP's power-on is delayed by a random amount up to this, ms. */
  jitterMs: 0,
  version: DEFAULT_AP_VERSION,
  /** With --until and no --timeout, the fleet gives up after this long. */
  untilTimeout: "10m",
  storage: "sink",
  profile: "cisco",
  /** Live summary redraw (TTY) and worker report period, ms. */
  reportEveryMs: 1000,
  /** Without a TTY, one progress line this often, ms. */
  progressEveryMs: 10_000,
  /** What `--metrics :PORT` listens on when the address is left out (a pod's metrics are scraped from outside). */
  metricsAddress: "0.0.0.0",
  /** Metrics without --metrics: on loopback only, and a port already taken costs the metrics, not the run (`--metrics off`: none). */
  metrics: "127.0.0.1:9464",
} as const;

/** At most this many APs per fleet process: the base MAC's three index bytes, and what one host can hold. */
export const MAX_FLEET_APS = 100_000;
/** Shards: the index space of three MAC bytes split into shards of --aps each. */
export const MAX_INDEX = 0xffffff;
/** Console lines each fleet AP keeps (`show logging` of a real AP keeps 1,000; a fleet of thousands cannot, and has no console). */
export const FLEET_LOG_LINES = 32;
/** A worker whose APs crashed it is restarted at most this many times before the fleet gives up on it. */
export const MAX_WORKER_RESTARTS = 5;
/** Restart reasons kept as metric labels: the first words of each (bounded cardinality). */
export const REASON_LABEL_CHARS = 48;
