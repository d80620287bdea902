import { parseArgs } from "node:util";
import type { Command, CommandIo } from "../../agent/cli/command.js";
import { untilSignal } from "../../agent/cli/run-until-signal.js";
import { parseDuration } from "../../agent/config/index.js";
import { UsageError } from "../../agent/core/index.js";
import { classNames, isClassName, type ClassName } from "../../platform/classes/index.js";
import { Lab, summaryTable } from "./lab.js";

const USAGE = `[--aps N] [--profile cisco|rfc5415] [--classes ap1g8,ap1g7|all] [--until run]
          [--timeout 60s] [--address 127.0.0.1] [--version V] [--controller-version V]
          [--pcap FILE] [--keylog FILE] [--quiet]
  Starts the lab controller and N APs on loopback (real UDP and DTLS, a fresh PKI)
  and prints each AP's console. --until run exits 0 once every AP is in Run, or 1
  with the reason after --timeout. Without --until it runs until Ctrl-C.
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
        timeout: { type: "string", default: "60s" },
        address: { type: "string", default: "127.0.0.1" },
        version: { type: "string", default: "17.9.4.27" },
        "controller-version": { type: "string" },
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
    if (v.until !== undefined && v.until !== "run") throw new UsageError(`--until: expected run, got "${v.until}"`);
    const timeoutMs = parseDuration(v.timeout);
    if (timeoutMs === undefined) throw new UsageError(`--timeout: expected a duration like 60s, got "${v.timeout}"`);
    const classes = classesOf(v.classes);
    const lab = await Lab.start({
      aps,
      profile: v.profile,
      address: v.address,
      apVersion: v.version,
      controllerVersion: v["controller-version"] ?? v.version,
      console: v.quiet ? null : (line) => io.stdout(`${line}\n`),
      ...(classes ? { classes } : {}),
      ...(v.pcap ? { pcap: v.pcap } : {}),
      ...(v.keylog ? { keylog: v.keylog } : {}),
    });
    let code = 0;
    try {
      if (v.until === "run") {
        await lab.waitFor((l) => l.allInRun(), timeoutMs, (l) => notYet(l, "Run"));
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
    if (code === 0 && v.until) io.stdout(`All ${aps} AP(s) in Run.\n`);
    return code;
  },
};

function notYet(lab: Lab, target: string): string {
  const behind = lab.rows().filter((r) => r.state !== target);
  const shown = behind.slice(0, 5).map((r) => `${r.name} in ${r.state}${r.lastRestart ? ` (last restart: ${r.lastRestart})` : ""}`);
  return `${behind.length} AP(s) not in ${target}: ${shown.join("; ")}${behind.length > 5 ? "; …" : ""}`;
}
