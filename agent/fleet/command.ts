import { availableParallelism } from "node:os";
import type { Server } from "node:http";
import { type Command, type CommandIo, listenForStop, noPositionals, parseOptions } from "../command-kit/index.js";
import { ConfigError, describeError } from "../core/index.js";
import { FLEET_DEFAULTS } from "./limits.js";
import { FleetMetrics } from "./metrics.js";
import { FLEET_FLAGS, type FleetOptions, fleetOptions } from "./options.js";
import { Fleet } from "./supervisor.js";
import { fleetSummary, liveLines, summaryText, type FleetSummary } from "./summary.js";

const USAGE = `--controller ADDR[,ADDR…] --aps N --pki DIR [--classes ap1g8,ap1g7 | ap1g8:3,ap1g4:1]
          [--profile cisco|rfc5415] [--mac-prefix ${FLEET_DEFAULTS.macPrefix}] [--shard K|auto]
          [--source-addresses 127.1.0.0/16|IFACE] [--ramp ${FLEET_DEFAULTS.rampPerSecond}/s] [--jitter 500ms]
          [--version ${FLEET_DEFAULTS.version}] [--image-trust FILE] [--storage sink | --storage flash --state DIR --factory DIR] [--workers auto|N] [--metrics [ADDR]:PORT|off]
          [--until run|upgraded] [--timeout ${FLEET_DEFAULTS.untilTimeout}] [--hold 10m] [--expect-max-downloads N]
          [--json] [--config fleet.yaml]
  Runs N APs against a controller (the lab's, or a real one that trusts
  DIR/ca.pem as its LSC CA): each with its own base MAC (--mac-prefix + its
  index), name, serial and a certificate issued in memory from DIR/ca.pem and
  DIR/ca.key (vap pki init DIR), its own UDP port (or its own address from
  --source-addresses), and the whole WTP: join, keep-alives, image download and
  the upgrade engine on a volatile flash in memory (nothing per AP on disk).
  The APs power on at --ramp APs/s, each up to --jitter later, their classes
  cycled from --classes (NAME:WEIGHT for a mix); --workers threads (auto: one
  per core) share them. The APs leave the factory at --version; with
  --image-trust FILE (default DIR/image-ca.pem when present; vap image keygen
  writes one) they download and verify the controller's image when it runs
  another version, or when it orders a predownload — an upgrade storm;
  without it they join only. --storage flash gives each AP real partitions
  in --state DIR/apN, installed from --factory DIR (vap image bundle at
  --version) the first time. --expect-max-downloads N checks the storm
  against the controller's concurrency limit. --shard K makes this fleet
  shard K of a larger one (its AP indexes start at K × N; auto: the host
  name's trailing -K, as a StatefulSet pod's). Prometheus metrics are on
  http://${FLEET_DEFAULTS.metrics}/metrics (and /healthz) unless --metrics names
  another address (:PORT is every address) or off. A terminal shows a live summary; the
  summary at the end is text, or JSON with --json. --until run|upgraded
  ends the run once every AP is in Run (upgraded: on its controller's
  version), then --hold keeps it going that long and reports restarts,
  missed echoes and missed data keep-alives; exit status 0, or 1 when --until is not reached before
  --timeout (default ${FLEET_DEFAULTS.untilTimeout}) or a Ctrl-C. Without --until it runs until
  Ctrl-C (or for --hold). --config FILE: YAML whose keys are these flag
  names; a flag on the command line wins.`;

export const fleetCommand: Command = {
  path: ["fleet"],
  summary: "run a fleet of APs (hundreds to 10,000 per host) against a controller",
  usage: USAGE,
  async run(argv: string[], io: CommandIo) {
    const { values, positionals } = parseOptions(argv, FLEET_FLAGS);
    noPositionals(positionals);
    const options = fleetOptions(values, { cores: availableParallelism() });
    const credentials = Fleet.credentials(options);
    const stop = listenForStop(io.signal);
    try {
      const metrics = options.metrics ? new FleetMetrics() : undefined;
      const server = metrics && options.metrics ? await metricsServer(metrics, options.metrics, io) : undefined;
      const fleet = Fleet.start(options, credentials, metrics, (line) => io.stderr(`${line}\n`));
      io.stdout(`${startLine(options, fleet, server)}\n`);
      const summary = await watch(options, fleet, io, stop.stopped);
      await fleet.stop();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      io.stdout(`${options.json ? JSON.stringify(summary) : summaryText(summary)}\n`);
      return options.until && !summary.reached ? 1 : 0;
    } finally {
      stop.dispose();
    }
  },
};

/** Listen for scrapes; the default address already taken (another fleet on this host) costs the metrics, not the run. */
async function metricsServer(metrics: FleetMetrics, at: NonNullable<FleetOptions["metrics"]>, io: CommandIo): Promise<Server | undefined> {
  try {
    return await metrics.listen(at.address, at.port);
  } catch (err) {
    const what = `--metrics ${at.address}:${at.port}: ${describeError(err)}`;
    if (at.given) throw new ConfigError(what, { cause: err });
    io.stderr(`vap fleet: no /metrics (${what}); give --metrics ADDR:PORT or --metrics off\n`);
    return undefined;
  }
}

function startLine(options: FleetOptions, fleet: Fleet, server: Server | undefined): string {
  const address = server?.address();
  const metrics = address && typeof address === "object" ? `; metrics on http://${address.address}:${address.port}/metrics` : "";
  const upgrades = fleet.imageTrusted ? "image upgrades on (sink storage)" : "join only (no image trust)";
  return `Fleet: ${options.aps} AP(s) → ${options.controllers.join(", ")}, profile ${options.profile}, ${options.rampPerSecond} AP(s)/s, ${options.workers} worker(s), ${upgrades}${metrics}`;
}

/**
 * Show the fleet as it goes (redrawn in place on a terminal, a line now
 * and then otherwise) until --until (and --hold after it), --timeout, or a
 * stop signal; resolve with the summary.
 */
async function watch(options: FleetOptions, fleet: Fleet, io: CommandIo, stopped: Promise<string>): Promise<FleetSummary> {
  const t = fleet.totals;
  let signalled = false;
  void stopped.then(() => (signalled = true));
  let drawn = 0;
  let lastProgress = 0;
  let holdFrom: HoldStart | undefined;
  const reachedNow = () => (options.until === "run" ? t.allInRunAfter !== undefined : options.until === "upgraded" ? t.allUpgradedAfter !== undefined : false);
  for (;;) {
    await Promise.race([new Promise((r) => setTimeout(r, FLEET_DEFAULTS.reportEveryMs)), stopped]);
    const lines = liveLines(options, t);
    if (io.isTerminal) {
      io.stdout(`${drawn ? `\x1b[${drawn}F\x1b[J` : ""}${lines.join("\n")}\n`);
      drawn = lines.length;
    } else if (t.elapsed() * 1000 - lastProgress >= FLEET_DEFAULTS.progressEveryMs) {
      lastProgress = t.elapsed() * 1000;
      io.stdout(`${lines.map((l) => l.trim()).join(" | ")}\n`);
    }
    const reached = reachedNow();
    const holdStarts = options.holdMs !== undefined && (options.until === undefined || reached);
    if (holdStarts && !holdFrom) holdFrom = { at: t.elapsed(), echoes: t.echoes, keepAlives: t.keepAlives, restarts: t.restartCount() };
    const held = holdFrom !== undefined && (t.elapsed() - holdFrom.at) * 1000 >= options.holdMs!;
    const timedOut = !reached && options.timeoutMs !== undefined && t.elapsed() * 1000 >= options.timeoutMs;
    const done = held || (reached && options.holdMs === undefined) || timedOut || signalled;
    if (!done) continue;
    await fleet.refresh();
    t.flush();
    if (timedOut) io.stderr(`vap fleet: --until ${options.until} not reached after ${options.timeoutMs! / 1000} s\n`);
    return fleetSummary(options, t, options.until ? reached : true, holdFrom && holdResult(t, holdFrom));
  }
}

interface HoldStart {
  at: number;
  echoes: number;
  keepAlives: number;
  restarts: number;
}

/**
 * What the hold saw: restarts since it began, and the Echo Responses and
 * Data Channel Keep-Alives received against what their intervals promise
 * (each AP in Run: one per whole interval of the hold).
 */
function holdResult(t: Fleet["totals"], from: HoldStart): NonNullable<FleetSummary["hold"]> {
  const seconds = t.elapsed() - from.at;
  const promised = (intervalMs: number) => (intervalMs > 0 ? t.inRun * Math.floor((seconds * 1000) / intervalMs) : 0);
  const echoes = { received: t.echoes - from.echoes, expected: promised(t.echoIntervalMs) };
  const keepAlives = { received: t.keepAlives - from.keepAlives, expected: promised(t.keepAliveIntervalMs) };
  return {
    seconds: Math.round(seconds),
    restarts: t.restartCount() - from.restarts,
    echoesReceived: echoes.received,
    echoesExpected: echoes.expected,
    missedEchoes: Math.max(0, echoes.expected - echoes.received),
    keepAlivesReceived: keepAlives.received,
    keepAlivesExpected: keepAlives.expected,
    missedKeepAlives: Math.max(0, keepAlives.expected - keepAlives.received),
  };
}
