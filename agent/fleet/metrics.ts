/**
 * The fleet's Prometheus metrics (prom-client), fed from the workers'
 * reports, and the HTTP server that exposes them (`--metrics :9464`):
 * /metrics in the text format, /healthz for probes.
 */
import { createServer, type Server } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ShardReport } from "./report.js";
import type { FleetTotals } from "./totals.js";

const JOIN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const DOWNLOAD_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const STATES = ["Off", "Idle", "Discovery", "Sulking", "DtlsSetup", "Join", "ImageData", "Configure", "DataCheck", "Run", "Reset", "DtlsTeardown"] as const;

export class FleetMetrics {
  readonly registry = new Registry();
  readonly #aps = new Gauge({ name: "vap_aps", help: "APs per CAPWAP state (Off: not powered on yet)", labelNames: ["state"], registers: [this.registry] });
  readonly #joins = new Counter({ name: "vap_joins_total", help: "APs that reached Run (each session that did)", registers: [this.registry] });
  readonly #joinDuration = new Histogram({ name: "vap_join_duration_seconds", help: "Power-on or restart to Run", buckets: JOIN_BUCKETS, registers: [this.registry] });
  readonly #imageBytes = new Counter({ name: "vap_image_bytes_total", help: "Image bytes received, by download method", labelNames: ["method"], registers: [this.registry] });
  readonly #downloadDuration = new Histogram({ name: "vap_image_download_duration_seconds", help: "Image download start to end, by method and result", labelNames: ["method", "result"], buckets: DOWNLOAD_BUCKETS, registers: [this.registry] });
  readonly #downloadsInFlight = new Gauge({ name: "vap_image_downloads_in_flight", help: "Image downloads whose bytes flow now", registers: [this.registry] });
  readonly #downloadFailures = new Counter({ name: "vap_image_download_failures_total", help: "Image downloads that failed, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly #restarts = new Counter({ name: "vap_restarts_total", help: "CAPWAP sessions started over and APs restarted, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly #handshakes = new Counter({ name: "vap_dtls_handshakes_total", help: "DTLS handshakes, by result", labelNames: ["result"], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const result of ["ok", "failed"]) this.#handshakes.inc({ result }, 0);
    this.#joins.inc(0);
  }

  /** One worker's report, with the fleet's totals after it. */
  add(r: ShardReport, totals: FleetTotals): void {
    this.#joins.inc(r.joins);
    for (const s of r.joinSeconds) this.#joinDuration.observe(s);
    if (r.handshakes.ok) this.#handshakes.inc({ result: "ok" }, r.handshakes.ok);
    if (r.handshakes.failed) this.#handshakes.inc({ result: "failed" }, r.handshakes.failed);
    for (const [method, n] of Object.entries(r.imageBytes)) this.#imageBytes.inc({ method }, n);
    for (const d of r.downloads) {
      this.#downloadDuration.observe({ method: d.method, result: d.ok ? "ok" : "failed" }, d.seconds);
      if (!d.ok) this.#downloadFailures.inc({ reason: d.reason ?? "unknown" });
    }
    for (const [reason, n] of Object.entries(r.restarts)) this.#restarts.inc({ reason }, n);
    const states = totals.states();
    for (const state of STATES) this.#aps.set({ state }, states[state] ?? 0);
    this.#downloadsInFlight.set(totals.inFlight);
  }

  /** Serve /metrics and /healthz on address:port (0: a free port); resolves with the server once it listens. */
  listen(address: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === "/metrics") {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else if (req.url === "/healthz") res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      else res.writeHead(404).end();
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, address, () => resolve(server));
    });
  }
}
