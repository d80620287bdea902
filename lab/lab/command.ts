import { parseArgs } from "node:util";
import type { Command, CommandIo } from "../../agent/cli/command.js";
import { untilSignal } from "../../agent/cli/run-until-signal.js";
import { parseDuration } from "../../agent/config/index.js";
import { UsageError } from "../../agent/core/index.js";
import { classNames, isClassName, type ClassName } from "../../platform/classes/index.js";
import { Lab, summaryTable } from "./lab.js";

const USAGE = `[--aps N] [--profile cisco|rfc5415] [--classes ap1g8,ap1g7|all] [--until run|upgraded]
          [--timeout 120s] [--address 127.0.0.1] [--version 17.9.4.27] [--controller-version 17.12.1.5]
          [--window 1..20] [--size small|realistic|BYTES] [--storage flash|sink] [--state DIR]
          [--pcap FILE] [--keylog FILE] [--quiet]
  Starts the lab controller and N APs on loopback (real UDP and DTLS, a fresh PKI)
  and prints each AP's console. The APs leave the factory at --version with a
  signed image in their flash; the controller runs --controller-version and
  serves a signed bundle, so they download it over CAPWAP (with a --window of
  blocks in flight), verify and install it (PRECHECK, PREDOWNLOAD, ACTIVATE),
  reload and rejoin. --until upgraded exits 0 once every AP runs the
  controller's version, --until run once every AP is in Run; 1 with the reason
  after --timeout. Without --until it runs until Ctrl-C.
  --storage sink keeps hashes instead of files (default beyond 50 APs);
  --state DIR keeps keys, bundle and flashes (default: a temporary directory).
  --pcap writes the plaintext CAPWAP exchange (what went through DTLS) for
  Wireshark; --keylog writes the DTLS secrets (SSLKEYLOGFILE format).`;

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        aps: { type: "string", default: "1" },
        profile: { type: "string", default: "cisco" },
        classes: { type: "string" },
        until: { type: "string" },
        timeout: { type: "string", default: "120s" },
        address: { type: "string", default: "127.0.0.1" },
        version: { type: "string", default: "17.9.4.27" },
        "controller-version": { type: "string", default: "17.12.1.5" },
        window: { type: "string", default: "8" },
        size: { type: "string", default: "small" },
        storage: { type: "string" },
        state: { type: "string" },
        pcap: { type: "string" },
        keylog: { type: "string" },
        quiet: { type: "boolean", default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function classesOf(spec: string | undefined): ClassName[] | undefined {
  if (!spec) return undefined;
  if (spec === "all") return classNames;
  return spec.split(",").map((c) => {
    if (!isClassName(c)) throw new UsageError(`--classes: unknown class "${c}" (known: ${classNames.join(", ")})`);
    return c;
  });
}

export const labCommand: Command = {
  path: ["lab"],
  summary: "run the lab controller and N APs on loopback",
  usage: USAGE,
  async run(argv: string[], io: CommandIo) {
    const v = options(argv);
    const aps = Number(v.aps);
    if (!Number.isInteger(aps) || aps < 1 || aps > 10_000) throw new UsageError(`--aps: expected 1 to 10000, got "${v.aps}"`);
    if (v.profile !== "cisco" && v.profile !== "rfc5415") throw new UsageError(`--profile: expected cisco or rfc5415, got "${v.profile}"`);
    if (v.until !== undefined && v.until !== "run" && v.until !== "upgraded") throw new UsageError(`--until: expected run or upgraded, got "${v.until}"`);
    const window = Number(v.window);
    if (!Number.isInteger(window) || window < 1 || window > 64) throw new UsageError(`--window: expected 1 to 64, got "${v.window}"`);
    const size = v.size === "small" || v.size === "realistic" ? v.size : Number(v.size);
    if (typeof size === "number" && !(Number.isInteger(size) && size > 0)) throw new UsageError(`--size: expected small, realistic or a number of bytes, got "${v.size}"`);
    if (v.storage !== undefined && v.storage !== "flash" && v.storage !== "sink") throw new UsageError(`--storage: expected flash or sink, got "${v.storage}"`);
    const timeoutMs = parseDuration(v.timeout);
    if (timeoutMs === undefined) throw new UsageError(`--timeout: expected a duration like 60s, got "${v.timeout}"`);
    const classes = classesOf(v.classes);
    const lab = await Lab.start({
      aps,
      profile: v.profile,
      address: v.address,
      apVersion: v.version,
      controllerVersion: v["controller-version"],
      imageWindow: window,
      imageSize: size,
      ...(v.storage ? { storage: v.storage } : {}),
      ...(v.state ? { stateDir: v.state } : {}),
      console: v.quiet ? null : (line) => io.stdout(`${line}\n`),
      ...(classes ? { classes } : {}),
      ...(v.pcap ? { pcap: v.pcap } : {}),
      ...(v.keylog ? { keylog: v.keylog } : {}),
    });
    let code = 0;
    try {
      if (v.until === "run") {
        await lab.waitFor((l) => l.allInRun(), timeoutMs, (l) => notYet(l, "Run"));
      } else if (v.until === "upgraded") {
        await lab.waitFor((l) => l.allUpgraded(), timeoutMs, (l) => notYet(l, "Run", v["controller-version"]));
      } else {
        await untilSignal(io.signal);
      }
    } catch (err) {
      io.stderr(`vap lab: ${(err as Error).message}\n`);
      code = 1;
    } finally {
      const rows = lab.rows();
      await lab.stop();
      io.stdout(`\n${summaryTable(rows)}\n`);
    }
    if (code === 0 && v.until === "run") io.stdout(`All ${aps} AP(s) in Run.\n`);
    if (code === 0 && v.until === "upgraded") io.stdout(`All ${aps} AP(s) upgraded to ${v["controller-version"]} and in Run.\n`);
    return code;
  },
};

function notYet(lab: Lab, state: string, version?: string): string {
  const behind = lab.rows().filter((r) => r.state !== state || (version !== undefined && r.version !== version));
  const shown = behind.slice(0, 5).map((r) => `${r.name} in ${r.state} at ${r.version}${r.lastRestart ? ` (last restart: ${r.lastRestart})` : ""}`);
  return `${behind.length} AP(s) not in ${state}${version ? ` at ${version}` : ""}: ${shown.join("; ")}${behind.length > 5 ? "; …" : ""}`;
}
