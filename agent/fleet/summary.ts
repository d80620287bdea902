/** What the fleet shows: the live lines (redrawn in place on a terminal), and the summary at the end (text or JSON). */
import type { FleetOptions } from "./options.js";
import { distribution, type FleetTotals } from "./totals.js";

const STATE_ORDER = ["Run", "Configure", "DataCheck", "ImageData", "Join", "DtlsSetup", "Discovery", "Sulking", "Reset", "DtlsTeardown", "Idle", "Off"];
/** TRex Wireless's published join rate, APs/s: what a load tester compares with. */
export const TREX_JOIN_RATE = 93;

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export function liveLines(options: FleetOptions, t: FleetTotals): string[] {
  const states = t.states();
  const stateText = STATE_ORDER.filter((s) => states[s]).map((s) => `${s} ${states[s]}`).join("  ");
  const elapsed = t.elapsed();
  const bytes = Object.values(t.imageBytes).reduce((a, b) => a + b, 0);
  const failures = t.downloads.filter((d) => !d.ok).length;
  const restarts = Object.entries(t.restarts).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, n]) => `${n}× ${r}`);
  return [
    `vap fleet: ${options.aps} AP(s) → ${options.controllers.join(",")} · ${options.workers} worker(s) · ${elapsed.toFixed(0)} s`,
    `  ${stateText}`,
    `  joins ${t.joins} (${t.recentJoinRate().toFixed(1)}/s now) · DTLS ok ${t.handshakes.ok} failed ${t.handshakes.failed} · downloads in flight ${t.inFlight}, done ${t.downloads.length - failures}, failed ${failures}, ${mb(bytes)} MB`,
    `  restarts ${t.restartCount()}${restarts.length ? `: ${restarts.join(", ")}` : ""}`,
  ];
}

export interface FleetSummary {
  aps: number;
  workers: number;
  elapsedSeconds: number;
  until?: string;
  reached: boolean;
  states: Record<string, number>;
  inRun: number;
  upgraded: number;
  timeToAllRunSeconds?: number;
  timeToAllUpgradedSeconds?: number;
  joinRatePerSecond?: number;
  trexJoinRatePerSecond: number;
  joins: number;
  joinSeconds: ReturnType<typeof distribution>;
  handshakes: { ok: number; failed: number };
  restarts: Record<string, number>;
  downloads: {
    count: number;
    ok: number;
    failuresByReason: Record<string, number>;
    bytesByMethod: Record<string, number>;
    seconds: ReturnType<typeof distribution>;
    /** Image bytes over the storm's span (first download to last), MB/s. */
    throughputMBps?: number;
    peakConcurrent: number;
    expectedMaxConcurrent?: number;
    limitRespected?: boolean;
  };
  hold?: { seconds: number; restarts: number; echoesReceived: number; echoesExpected: number; missedEchoes: number; keepAlivesReceived: number; keepAlivesExpected: number; missedKeepAlives: number };
  rssMiB: number;
}

export function fleetSummary(options: FleetOptions, t: FleetTotals, reached: boolean, hold?: FleetSummary["hold"]): FleetSummary {
  const failures: Record<string, number> = {};
  for (const d of t.downloads) if (!d.ok) failures[d.reason ?? "unknown"] = (failures[d.reason ?? "unknown"] ?? 0) + 1;
  const bytes = Object.values(t.imageBytes).reduce((a, b) => a + b, 0);
  const span = t.firstDownloadAt !== undefined && t.lastDownloadAt !== undefined ? t.lastDownloadAt - t.firstDownloadAt : 0;
  const summary: FleetSummary = {
    aps: options.aps,
    workers: options.workers,
    elapsedSeconds: round(t.elapsed()),
    ...(options.until ? { until: options.until } : {}),
    reached,
    states: t.states(),
    inRun: t.inRun,
    upgraded: t.upgraded,
    trexJoinRatePerSecond: TREX_JOIN_RATE,
    joins: t.joins,
    joinSeconds: rounded(distribution(t.joinSeconds)),
    handshakes: t.handshakes,
    restarts: t.restarts,
    downloads: {
      count: t.downloads.length,
      ok: t.downloads.filter((d) => d.ok).length,
      failuresByReason: failures,
      bytesByMethod: t.imageBytes,
      seconds: rounded(distribution(t.downloads.map((d) => d.seconds))),
      peakConcurrent: t.peakInFlight,
      ...(span > 0 ? { throughputMBps: round(bytes / 1e6 / span) } : {}),
      ...(options.expectMaxDownloads !== undefined ? { expectedMaxConcurrent: options.expectMaxDownloads, limitRespected: t.peakInFlight <= options.expectMaxDownloads } : {}),
    },
    ...(hold ? { hold } : {}),
    rssMiB: round(process.memoryUsage().rss / 2 ** 20),
  };
  if (t.allInRunAfter !== undefined) {
    summary.timeToAllRunSeconds = round(t.allInRunAfter);
    summary.joinRatePerSecond = round(options.aps / t.allInRunAfter);
  }
  if (t.allUpgradedAfter !== undefined) summary.timeToAllUpgradedSeconds = round(t.allUpgradedAfter);
  return summary;
}

export function summaryText(s: FleetSummary): string {
  const d = s.downloads;
  const lines = [
    `Fleet: ${s.aps} AP(s), ${s.workers} worker(s), ${s.elapsedSeconds} s; ${s.inRun} in Run, ${s.upgraded} on their controller's version.`,
    s.timeToAllRunSeconds !== undefined
      ? `All ${s.aps} in Run after ${s.timeToAllRunSeconds} s: ${s.joinRatePerSecond} joins/s (TRex Wireless publishes ${s.trexJoinRatePerSecond}/s).`
      : `Not all in Run: ${Object.entries(s.states).map(([k, n]) => `${k} ${n}`).join(", ")}.`,
    `Join time (power-on or restart to Run): p50 ${s.joinSeconds.p50} s, p90 ${s.joinSeconds.p90} s, p99 ${s.joinSeconds.p99} s, max ${s.joinSeconds.max} s over ${s.joins} join(s); DTLS handshakes ok ${s.handshakes.ok}, failed ${s.handshakes.failed}.`,
    `Restarts: ${Object.entries(s.restarts).map(([r, n]) => `${n}× ${r}`).join(", ") || "none"}.`,
  ];
  if (d.count > 0) {
    lines.push(
      `Image downloads: ${d.ok} of ${d.count} installed; ${Object.entries(d.bytesByMethod).map(([m, b]) => `${m} ${mb(b)} MB`).join(", ")}${d.throughputMBps !== undefined ? `, ${d.throughputMBps} MB/s aggregate` : ""}; time p50 ${d.seconds.p50} s, p90 ${d.seconds.p90} s, max ${d.seconds.max} s.`,
      `Concurrent downloads: at most ${d.peakConcurrent}${d.expectedMaxConcurrent !== undefined ? ` (the controller's limit ${d.expectedMaxConcurrent}: ${d.limitRespected ? "respected" : "EXCEEDED"})` : ""}; failures: ${Object.entries(d.failuresByReason).map(([r, n]) => `${n}× ${r}`).join(", ") || "none"}.`,
    );
  }
  if (s.hold) {
    const h = s.hold;
    lines.push(`Held ${h.seconds} s: ${h.restarts} restart(s); ${h.echoesReceived} of ${h.echoesExpected} expected Echo Responses (${h.missedEchoes} missed), ${h.keepAlivesReceived} of ${h.keepAlivesExpected} expected Data Channel Keep-Alives (${h.missedKeepAlives} missed).`);
  }
  lines.push(`Memory: ${s.rssMiB} MiB resident (${((s.rssMiB * 1024) / s.aps).toFixed(1)} KiB per AP).`);
  return lines.join("\n");
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function rounded(d: ReturnType<typeof distribution>): ReturnType<typeof distribution> {
  return { count: d.count, p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max) };
}
