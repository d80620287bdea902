/** The console's transports: SSH, the local terminal, and the per-AP console socket `vap console` attaches to. */
export { CONSOLE_LIMITS, type ConsoleLimits, consoleRuntimeDir, DEFAULT_SSH_ADDRESS } from "./limits.js";
export { hostKeyPath, loadHostKey } from "./host-key.js";
export { SshConsoleServer, type SshConsoleOptions } from "./ssh.js";
