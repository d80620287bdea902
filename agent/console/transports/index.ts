/** The console's transports: SSH, the local terminal, and the per-AP console socket `vap console` attaches to. */
export { CONSOLE_LIMITS, type ConsoleLimits, consoleRuntimeDir, DEFAULT_SSH_ADDRESS } from "./limits.js";
export { hostKeyPath, loadHostKey } from "./host-key.js";
export { SshConsoleServer, type SshConsoleOptions } from "./ssh.js";
export { ConsoleSocketServer, consoleSocketPath, connectConsole, NoApConsoleError, type ConsoleConnection } from "./socket.js";
export { FrameType, encodeFrame, FrameDecoder, FrameError, type Frame } from "./frames.js";
export { attachTerminal, type LocalTerminal, type TerminalStreams } from "./terminal.js";
export { startConsoleTransports, type ConsoleTransports, type ConsoleTransportOptions, type PasswordCheck } from "./start.js";
export { consoleCommand } from "./console-command.js";
export type { ApConsole, ConsoleSession, ConsoleTerminal } from "../types.js";
