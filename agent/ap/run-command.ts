import { resolve } from "node:path";
import { cliLog, type Command, CommandLineError, integerFlag, noPositionals, parseOptions, untilSignal } from "../command-kit/index.js";
import { loadApConfig } from "../config/index.js";
import { consoleRuntimeDir, type ConsoleTransportOptions, startConsoleTransports } from "../console/transports/index.js";
import { describeError, readOperatorFile, VapError } from "../core/index.js";
import { type RunningAp, startAp } from "./ap.js";

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
    const { values, positionals } = parseOptions(argv, {
      config: { type: "string" },
      state: { type: "string" },
      pcap: { type: "string" },
      keylog: { type: "string" },
      json: { type: "boolean", default: false },
      console: { type: "boolean", default: false },
      "no-console-socket": { type: "boolean", default: false },
      "ssh-port": { type: "string" },
      "ssh-address": { type: "string" },
      "ssh-authorized-keys": { type: "string" },
    });
    noPositionals(positionals);
    if (!values.config) throw new CommandLineError("--config FILE is required");
    if (values.console && !process.stdin.isTTY) throw new CommandLineError("--console needs a terminal on stdin");
    if (values["ssh-port"] === undefined && (values["ssh-address"] !== undefined || values["ssh-authorized-keys"] !== undefined)) throw new CommandLineError("--ssh-address and --ssh-authorized-keys go with --ssh-port");
    const sshPort = values["ssh-port"] === undefined ? undefined : integerFlag("ssh-port", values["ssh-port"], 0, 65_535);
    const authorizedKeys = values["ssh-authorized-keys"] === undefined ? undefined : readOperatorFile(values["ssh-authorized-keys"], "--ssh-authorized-keys").split("\n");
    const config = loadApConfig(values.config);
    if (values.state) config.stateDir = resolve(values.state);
    const log = cliLog(io, values.json ?? false).child({ ap: config.identity.name });
    const ap = await startAp(config, {
      log,
      ...(values.pcap ? { pcap: values.pcap } : {}),
      ...(values.keylog ? { keylog: values.keylog } : {}),
    });
    const transports = await startRunConsole(ap, {
      stateDir: config.stateDir,
      log,
      ...(values["no-console-socket"] ? {} : { socketDir: consoleRuntimeDir() }),
      ...(sshPort !== undefined ? { ssh: { port: sshPort, ...(values["ssh-address"] ? { address: values["ssh-address"] } : {}), ...(authorizedKeys ? { authorizedKeys } : {}) } } : {}),
      ...(values.console ? { terminal: { input: process.stdin, output: process.stdout } } : {}),
    }).catch(async (err: unknown) => {
      await ap.stop();
      throw err;
    });
    const ended = await Promise.race([untilSignal(io.signal), ap.failed, ...(transports?.terminal ? [transports.terminal.ended] : [])]);
    await transports?.close();
    await ap.stop();
    if (ended instanceof Error) throw new VapError("AP_FAILED", `the AP cannot go on: ${describeError(ended)}`);
    return 0;
  },
};

/** `vap run`'s console transports for `ap`, SSH password logins checked by its console. */
function startRunConsole(ap: RunningAp, options: ConsoleTransportOptions) {
  const { console } = ap;
  const ssh = options.ssh && { authenticate: (user: string, password: string) => console.authenticate(user, password), ...options.ssh };
  return startConsoleTransports(console, { ...options, ...(ssh ? { ssh } : {}) });
}
