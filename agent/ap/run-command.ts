import { resolve } from "node:path";
import { cliLog, type Command, CommandLineError, noPositionals, parseOptions, untilSignal } from "../command-kit/index.js";
import { loadApConfig } from "../config/index.js";
import { describeError, VapError } from "../core/index.js";
import { startAp } from "./ap.js";

const USAGE = `--config ap.yaml [--state DIR] [--pcap FILE] [--keylog FILE] [--json]
  Runs one AP from its configuration (YAML or JSON) until Ctrl-C: discovery,
  DTLS, join, and Run. --state DIR overrides the config's stateDir (where the
  flash lives; the systemd unit passes its StateDirectory). Cisco-style console lines on stdout, or pino JSON with
  --json. --pcap writes the plaintext CAPWAP exchange for Wireshark; --keylog
  appends DTLS secrets (SSLKEYLOGFILE format).`;

export const runCommand: Command = {
  path: ["run"],
  summary: "run one AP from a config file",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, { config: { type: "string" }, state: { type: "string" }, pcap: { type: "string" }, keylog: { type: "string" }, json: { type: "boolean", default: false } });
    noPositionals(positionals);
    if (!values.config) throw new CommandLineError("--config FILE is required");
    const config = loadApConfig(values.config);
    if (values.state) config.stateDir = resolve(values.state);
    const ap = await startAp(config, {
      log: cliLog(io, values.json ?? false).child({ ap: config.identity.name }),
      ...(values.pcap ? { pcap: values.pcap } : {}),
      ...(values.keylog ? { keylog: values.keylog } : {}),
    });
    const ended = await Promise.race([untilSignal(io.signal), ap.failed]);
    await ap.stop();
    if (ended instanceof Error) throw new VapError("AP_FAILED", `the AP cannot go on: ${describeError(ended)}`);
    return 0;
  },
};
