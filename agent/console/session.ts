/**
 * One operator's session on the AP console: login (Username:/Password:,
 * three tries), user and privileged EXEC, each line read by the grammar
 * (abbreviations, `?`, caret errors) with its output modifier, the AP's log
 * lines as they come (unless `logging console disable`), and a command that
 * talks with the operator (enable, reload's [confirm], a download's
 * Username:/Password:) taking the next lines as answers.
 */
import { verifySecret } from "../core/index.js";
import { failure, PRIVILEGED_ROOT, USER_ROOT } from "./commands.js";
import { applyFilter, splitFilter } from "./filters.js";
import { type Answer, resolve } from "./grammar.js";
import type { ConsoleHost, ConsoleLine } from "./host.js";
import { DEFAULT_EXEC_TIMEOUT_MS, MAX_LINE_CHARS, MAX_LOGIN_TRIES } from "./limits.js";
import { DEBUG_TOPICS, type DebugTopic, type Shell } from "./shell.js";
import type { ConsoleSession, ConsoleTerminal } from "./types.js";

/** The login and enable secret the session checks: the configured hashes, or the factory's. */
export interface Credentials {
  username: string;
  password: () => Promise<string>;
  enableSecret: () => Promise<string>;
}

type Phase = { kind: "username" } | { kind: "password"; username: string } | { kind: "exec" } | { kind: "ended" };

interface Asking {
  prompt: string;
  secret: boolean;
  answer: (line: string) => void;
}

/** What IOS reads as a line: printable characters (a tab counts as a space). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export class Session implements ConsoleSession, Shell {
  readonly host: ConsoleHost;
  readonly #terminal: ConsoleTerminal;
  readonly #credentials: Credentials;
  #phase: Phase;
  #failures = 0;
  #asking: Asking | undefined;
  /** The command running now: its abort, and whether it is one (input while it runs is an answer or dropped). */
  #running: AbortController | undefined;
  readonly #unsubscribe: () => void;
  /** end() came from the transport: nothing more is written to it, and it is not closed again. */
  #transportGone = false;
  privileged = false;
  idleTimeoutMs = DEFAULT_EXEC_TIMEOUT_MS;
  terminal = { length: 24, width: 80 };
  loggingConsole = true;
  readonly debug = new Set<DebugTopic>();

  constructor(host: ConsoleHost, terminal: ConsoleTerminal, credentials: Credentials, options: { login: boolean; privileged?: boolean }) {
    this.host = host;
    this.privileged = options.privileged === true;
    this.#terminal = terminal;
    this.#credentials = credentials;
    this.#phase = options.login ? { kind: "username" } : { kind: "exec" };
    if (options.login) terminal.write("\nUser Access Verification\n\n");
    this.#unsubscribe = host.onLine((l) => this.#logLine(l));
  }

  get prompt(): string {
    if (this.#asking) return this.#asking.prompt;
    if (this.#running) return "";
    switch (this.#phase.kind) {
      case "username":
        return "Username: ";
      case "password":
        return "Password: ";
      case "exec":
        return `${this.host.name}${this.privileged ? "#" : ">"}`;
      case "ended":
        return "";
    }
  }

  get secret(): boolean {
    return this.#asking ? this.#asking.secret : this.#phase.kind === "password";
  }

  get signal(): AbortSignal {
    return (this.#running ?? new AbortController()).signal;
  }

  async input(line: string): Promise<void> {
    if (this.#phase.kind === "ended") return;
    if (this.#asking) {
      const { answer } = this.#asking;
      this.#asking = undefined;
      answer(line);
      return;
    }
    // A command runs and asks nothing: what is typed meanwhile is dropped (IOS would buffer it; nothing here needs it).
    if (this.#running) return;
    switch (this.#phase.kind) {
      case "username":
        this.#phase = { kind: "password", username: line.length <= MAX_LINE_CHARS ? line.trim() : "" };
        return;
      case "password":
        return this.#login(this.#phase.username, line);
      case "exec":
        return this.#exec(line);
    }
  }

  interrupt(): void {
    this.#running?.abort(new Error("interrupted (Ctrl-C)"));
  }

  end(): void {
    this.#transportGone = true;
    this.#close();
  }

  logout(): void {
    this.#close();
  }

  write(text: string): void {
    if (this.#phase.kind !== "ended") this.#terminal.write(text);
  }

  ask(prompt: string, secret: boolean): Promise<string> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#asking = undefined;
        reject(signal.reason as Error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#asking = {
        prompt,
        secret,
        answer: (l) => {
          signal.removeEventListener("abort", onAbort);
          resolve(l);
        },
      };
    });
  }

  async checkEnableSecret(secret: string): Promise<boolean> {
    return secret.length <= MAX_LINE_CHARS && verifySecret(secret, await this.#credentials.enableSecret());
  }

  /** The session ends on its own (exit, logout, reload, failed logins): the transport closes its channel. */
  #close(): void {
    if (this.#phase.kind === "ended") return;
    this.#phase = { kind: "ended" };
    this.#running?.abort(new Error("the session ended"));
    this.#unsubscribe();
  }

  async #login(username: string, password: string): Promise<void> {
    // No prompt while the secret is checked; both are always checked, so that a wrong username costs the same time as a wrong password.
    this.#running = new AbortController();
    let good: boolean;
    try {
      good = password.length <= MAX_LINE_CHARS && (await verifySecret(password, await this.#credentials.password()));
    } finally {
      this.#running = undefined;
    }
    if (this.#phase.kind === "ended") return;
    if (good && username === this.#credentials.username) {
      this.#phase = { kind: "exec" };
      return;
    }
    this.#terminal.write("% Authentication failed\n\n");
    if (++this.#failures < MAX_LOGIN_TRIES) {
      this.#phase = { kind: "username" };
      return;
    }
    this.#terminal.write("% Too many authentication failures: closing the session\n");
    this.#closeTerminal();
  }

  #closeTerminal(): void {
    this.#close();
    this.#terminal.close();
  }

  async #exec(raw: string): Promise<void> {
    const problem = lineProblem(raw);
    if (problem) return this.#print({ ok: false, text: `% ${problem}\n` });
    const line = raw.replace(/\t/g, " ");
    const place = { indent: this.prompt.length };
    const split = splitFilter(line, place);
    if ("answer" in split) return this.#print(split.answer);
    const resolved = resolve(this.privileged ? PRIVILEGED_ROOT : USER_ROOT, split.command, place);
    if ("answer" in resolved) return this.#print(resolved.answer);
    const running = (this.#running = new AbortController());
    let text: string;
    try {
      text = await resolved.run(this, resolved.args);
    } catch (err) {
      text = running.signal.aborted ? "" : failure(err);
    } finally {
      this.#running = undefined;
      this.#asking = undefined;
    }
    if (this.#transportGone) return;
    this.#terminal.write(split.filter ? applyFilter(text, split.filter) : text);
    // The command ended the session (exit, logout, reload): the transport closes its channel.
    if (this.#phase.kind === "ended") this.#terminal.close();
  }

  /** IOS follows each `%` error with an empty line. */
  #print(answer: Answer): void {
    this.#terminal.write(answer.ok || answer.text === "" ? answer.text : `${answer.text}\n`);
  }

  #logLine(line: ConsoleLine): void {
    if (this.#phase.kind !== "exec" || !this.loggingConsole) return;
    if (line.level === "debug" && ![...this.debug].some((t) => DEBUG_TOPICS[t].matches(line.text))) return;
    this.#terminal.write(`${line.text}\n`);
  }
}

/** What makes a line unreadable, in one line; undefined when it reads. */
function lineProblem(line: string): string | undefined {
  if (line.length > MAX_LINE_CHARS) return `Line too long: ${line.length} characters, at most ${MAX_LINE_CHARS}`;
  const control = CONTROL.exec(line);
  if (control) return `Invalid input: control character 0x${control[0].charCodeAt(0).toString(16).padStart(2, "0")} in the line`;
  return undefined;
}
