/** What a shard tells the supervisor every second: where its APs are, and what happened since the last report. */
import type { WtpState } from "../capwap/wtp/index.js";

export interface ShardReport {
  /** APs per CAPWAP state; APs not powered on yet are `Off`. */
  states: Partial<Record<WtpState | "Off", number>>;
  inRun: number;
  /** In Run on the version their controller runs (the flash's, or the configured one without image trust). */
  upgraded: number;
  /** Downloads whose bytes flow now. */
  inFlight: number;
  /** When this report was made (epoch ms, comparable across worker threads). */
  at: number;
  /** Since the last report, when each download's bytes began to flow (+t) and when it ended (−t), epoch ms: the supervisor merges them into the fleet's exact concurrency. */
  flows: number[];
  /** Echo Responses received so far by the APs' current sessions (the hold check). */
  echoes: number;
  /** The longest echo interval in force (ms). */
  echoIntervalMs: number;
  /** Data Channel Keep-Alives the APs' current sessions received so far, and the longest keep-alive interval (ms). */
  keepAlives: number;
  keepAliveIntervalMs: number;
  /** Since the last report: */
  joins: number;
  /** Power-on (or restart) to Run, seconds, one per join. */
  joinSeconds: number[];
  /** DTLS handshakes that reached Join, and those that failed. */
  handshakes: { ok: number; failed: number };
  imageBytes: Record<string, number>;
  /** Downloads that ended, by method: seconds from start to end, and whether each installed. */
  downloads: { method: string; seconds: number; ok: boolean; reason?: string }[];
  /** Restarts by reason (a CAPWAP session that started over, an AP that failed and was started again). */
  restarts: Record<string, number>;
}

export function emptyReport(): ShardReport {
  return { states: {}, inRun: 0, upgraded: 0, inFlight: 0, at: 0, flows: [], echoes: 0, echoIntervalMs: 0, keepAlives: 0, keepAliveIntervalMs: 0, joins: 0, joinSeconds: [], handshakes: { ok: 0, failed: 0 }, imageBytes: {}, downloads: [], restarts: {} };
}

/** Add `n` to `record[key]`. */
export function bump(record: Record<string, number>, key: string, n = 1): void {
  record[key] = (record[key] ?? 0) + n;
}

/** Now in epoch ms, from the monotonic clock: the same scale in every worker thread. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
