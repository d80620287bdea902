/** The AP's console: sessions over whatever transport, all reading the same live AP. */
import { hashSecret, verifySecret } from "../core/index.js";
import type { ConsoleHost } from "./host.js";
import { FACTORY_LOGIN, MAX_LINE_CHARS } from "./limits.js";
import { type Credentials, Session } from "./session.js";
import type { ApConsole, ConsoleOpenOptions, ConsoleSession, ConsoleTerminal } from "./types.js";

/**
 * The factory secrets, hashed once per process and only when a login first
 * needs them: a fleet of thousands of APs that nobody logs into pays nothing.
 */
let factory: { password: string; enableSecret: string } | undefined;
const factoryHashes = () => (factory ??= { password: hashSecret(FACTORY_LOGIN.password), enableSecret: hashSecret(FACTORY_LOGIN.enableSecret) });

export function createApConsole(host: ConsoleHost): ApConsole {
  const credentials = (): Credentials => {
    const { login } = host;
    return {
      username: login.username ?? FACTORY_LOGIN.username,
      password: async () => login.password ?? factoryHashes().password,
      enableSecret: async () => login.enableSecret ?? factoryHashes().enableSecret,
    };
  };
  return {
    get name() {
      return host.name;
    },
    open(terminal: ConsoleTerminal, options: ConsoleOpenOptions): ConsoleSession {
      return new Session(host, terminal, credentials(), options);
    },
    async authenticate(user, password) {
      const c = credentials();
      return user === c.username && password.length <= MAX_LINE_CHARS && verifySecret(password, await c.password());
    },
  };
}
