/**
 * `vap tftp serve DIR`: a primary AP's image server, or any lab TFTP
 * server. (`vap fetch tftp://…` is agent/transfer/fetch-command.ts.)
 */
import { type Command, type CommandIo, cliLog, integerFlag, onePositional, parseOptions, untilSignal } from "../../command-kit/index.js";
import { DEFAULT_MAX_TRANSFERS, TFTP_PORT } from "./limits.js";
import { startTftpServer } from "./server.js";

const SERVE_USAGE = `DIR [--address A] [--port P] [--max-transfers N] [--json]
  Serves the files in DIR read-only by TFTP (RFC 1350, options blksize,
  tsize, timeout, windowsize) until SIGINT/SIGTERM. Names are relative to
  DIR and never leave it; write requests are refused.
  --address A          listen address (default 0.0.0.0)
  --port P             UDP port (default ${TFTP_PORT}; 0 = any free port)
  --max-transfers N    concurrent transfers; more are answered "busy" (default ${DEFAULT_MAX_TRANSFERS})
  --json               log pino JSON records instead of console lines`;

async function runServe(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    address: { type: "string" },
    port: { type: "string" },
    "max-transfers": { type: "string" },
    json: { type: "boolean" },
  });
  const root = onePositional(positionals, `tftp serve ${SERVE_USAGE}`);
  const server = await startTftpServer({
    root,
    address: values.address ?? "0.0.0.0",
    port: values.port === undefined ? TFTP_PORT : integerFlag("port", values.port, 0, 65535),
    maxTransfers: values["max-transfers"] === undefined ? DEFAULT_MAX_TRANSFERS : integerFlag("max-transfers", values["max-transfers"], 1),
    log: cliLog(io, values.json ?? false),
  });
  try {
    await untilSignal(io.signal);
  } finally {
    await server.close();
  }
  return 0;
}

export const tftpServeCommand: Command = {
  path: ["tftp", "serve"],
  summary: "serve a directory read-only by TFTP",
  usage: SERVE_USAGE,
  run: runServe,
};
