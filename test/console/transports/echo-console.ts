/**
 * A small ApConsole for the transports' tests: the transport is the unit
 * under test, this is its session model. It logs in with `Username:` /
 * `Password:` (secret) when asked, echoes each line (`you said: …`), and
 * knows a few words that exercise the seam:
 *   fail     → a `%` error line
 *   slow     → runs until Ctrl-C (`aborted`)
 *   ask      → asks `Username: ` while the command runs, then says what it got
 *   ask-secret → the same with `Password: `, a secret (no echo)
 *   idle N   → exec-timeout of N ms
 *   exit     → ends the session
 * It records what it saw, for the tests to check.
 */
import type { ApConsole, ConsoleSession, ConsoleTerminal } from "../../../agent/console/types.js";

export interface EchoConsoleRecord {
  opened: { login: boolean; user?: string }[];
  inputs: string[];
  interrupts: number;
  ends: number;
}

export const ECHO_PROMPT = "AP0200.0000.0001#";
export const ECHO_USER = { user: "Cisco", password: "pw-8d2f1" };

export function echoConsole(o: { idleTimeoutMs?: number } = {}): ApConsole & { record: EchoConsoleRecord } {
  const record: EchoConsoleRecord = { opened: [], inputs: [], interrupts: 0, ends: 0 };
  return {
    name: "AP0200.0000.0001",
    record,
    authenticate: async (user, password) => user === ECHO_USER.user && password === ECHO_USER.password,
    open(terminal: ConsoleTerminal, options: { login: boolean; user?: string }): ConsoleSession {
      record.opened.push(options);
      let state: "user" | "password" | "exec" = options.login ? "user" : "exec";
      let asking: ((line: string) => void) | undefined;
      let askingSecret = false;
      let abort: (() => void) | undefined;
      let idleTimeoutMs = o.idleTimeoutMs ?? 0;
      let loginUser = "";
      return {
        get prompt() {
          if (asking) return askingSecret ? "Password: " : "Username: ";
          return state === "user" ? "Username: " : state === "password" ? "Password: " : ECHO_PROMPT;
        },
        get secret() {
          return state === "password" || (asking !== undefined && askingSecret);
        },
        get idleTimeoutMs() {
          return idleTimeoutMs;
        },
        async input(line: string) {
          record.inputs.push(line);
          if (asking) return asking(line);
          if (state === "user") {
            loginUser = line;
            state = "password";
            return;
          }
          if (state === "password") {
            if (loginUser === ECHO_USER.user && line === ECHO_USER.password) state = "exec";
            else {
              terminal.write("% Authentication failed\n");
              state = "user";
            }
            return;
          }
          const [word, arg] = line.trim().split(/\s+/);
          if (word === "exit") return terminal.close();
          if (word === "fail") return terminal.write("% Invalid input detected at '^' marker.\n");
          if (word === "idle") {
            idleTimeoutMs = Number(arg);
            return;
          }
          if (word === "slow") {
            terminal.write("working\n");
            await new Promise<void>((resolve) => (abort = resolve));
            abort = undefined;
            return terminal.write("aborted\n");
          }
          if (word === "ask" || word === "ask-secret") {
            askingSecret = word === "ask-secret";
            const answer = await new Promise<string>((resolve) => (asking = resolve));
            asking = undefined;
            return terminal.write(`got ${answer}\n`);
          }
          terminal.write(`you said: ${line}\n`);
        },
        interrupt() {
          record.interrupts++;
          abort?.();
        },
        end() {
          record.ends++;
          abort?.();
        },
      };
    },
  };
}
