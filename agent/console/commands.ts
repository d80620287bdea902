/**
 * The AP's console commands in Cisco's words: the tree the grammar walks.
 * User EXEC (`>`) sees `enable`, `show`, `terminal`, `exit`; privileged
 * EXEC (`#`) everything. Each command prints what it returns; one that
 * talks with the operator (enable, reload, a download) asks through its Shell.
 */
import { isIPv4 } from "node:net";
import { describeError } from "../core/index.js";
import { archiveDownload } from "./archive.js";
import type { Node } from "./grammar.js";
import { RELOAD_CONFIRM } from "./limits.js";
import { DEBUG_TOPICS, type DebugTopic, type Shell } from "./shell.js";
import { showBoot, showCapwapClientRcb, showClock, showFlash, showImageIntegrity, showVersion } from "./views.js";

/** What a command leaves on the screen. */
export type Output = Promise<string> | string;
export type ApNode = Node<Shell, Output>;

const leaf = (run: (s: Shell, args: readonly string[]) => Output): ApNode => ({ run });
const word = (help: string, node: ApNode) => ({ help, node });
const line = (text: string) => `${text}\n`;

const SHOW: ApNode = {
  words: {
    boot: word("show boot attributes", leaf((s) => showBoot(s.host))),
    capwap: word("CAPWAP information", { words: { client: word("CAPWAP client information", { words: { rcb: word("CAPWAP client RCB", leaf((s) => showCapwapClientRcb(s.host))) } }) } }),
    clock: word("Display the system clock", leaf((s) => showClock(s.host))),
    flash: word("display information about flash: file system", leaf((s) => showFlash(s.host))),
    image: word("Image information", { words: { integrity: word("Check the integrity of both partitions' images now", leaf((s) => showImageIntegrity(s.host))) } }),
    logging: word("Show the contents of logging buffers", leaf((s) => s.host.logLines().map(line).join(""))),
    version: word("System hardware and software status", leaf((s) => showVersion(s.host))),
  },
};

/** A whole number in [min, max], or the line saying what is wrong. */
function count(text: string, what: string, min: number, max: number): number | string {
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  return Number.isInteger(n) && n >= min && n <= max ? n : line(`% Invalid ${what} "${text}": expected ${min}-${max}`);
}

/** `terminal length|width <0-512>`: kept for the session; it never pages nor wraps (as with 0). */
const terminalSetting = (key: "length" | "width", help: string, argumentHelp: string) =>
  word(help, {
    argument: {
      name: "<0-512>",
      help: argumentHelp,
      node: leaf((s, [n]) => {
        const v = count(n!, key, 0, 512);
        if (typeof v === "string") return v;
        s.terminal[key] = v;
        return "";
      }),
    },
  });

const TERMINAL: ApNode = {
  words: {
    length: terminalSetting("length", "Set number of lines on a screen", "Number of lines on screen (0 for no pausing)"),
    width: terminalSetting("width", "Set width of the display terminal", "Number of characters on a screen line (0 for no wrapping)"),
  },
};

/** exec-timeout <minutes> [seconds]: 0 0 never times out. */
function execTimeout(s: Shell, [minutes, seconds = "0"]: readonly string[]): string {
  const m = count(minutes!, "minutes", 0, 35791);
  if (typeof m === "string") return m;
  const sec = count(seconds, "seconds", 0, 2147483);
  if (typeof sec === "string") return sec;
  s.idleTimeoutMs = (m * 60 + sec) * 1000;
  return "";
}

async function enable(s: Shell): Promise<string> {
  if (s.privileged) return "";
  for (let i = 0; i < 3; i++) {
    if (await s.checkEnableSecret(await s.ask("Password: ", true))) {
      s.privileged = true;
      return "";
    }
  }
  return line("% Bad secrets");
}

async function reload(s: Shell): Promise<string> {
  const answer = (await s.ask(RELOAD_CONFIRM, false)).trim().toLowerCase();
  if (answer !== "" && answer !== "y" && answer !== "yes") return "";
  s.logout();
  s.host.reload("Reload command");
  return "";
}

const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

async function hostname(s: Shell, [name]: readonly string[]): Promise<string> {
  if (!HOSTNAME.test(name!)) return line(`% Invalid AP name "${name}": 1 to 32 letters, digits, '.', '-' or '_', starting with a letter or digit`);
  await s.host.setName(name!);
  return "";
}

async function primaryBase(s: Shell, [name, address]: readonly string[]): Promise<string> {
  if (!isIPv4(address!)) return line(`% Invalid IP address "${address}": expected A.B.C.D`);
  await s.host.setPrimaryBase(name!, address!);
  return "";
}

async function clearPrivateConfig(s: Shell): Promise<string> {
  await s.host.clearPrivateConfig();
  return "";
}

/** archive download-sw {/no-reload|/reload} [/overwrite] <url>: the download is archive.ts's; the reload after it is ours. */
async function archive(s: Shell, reload: boolean, args: readonly string[]): Promise<string> {
  const [first, second] = args;
  if (second !== undefined && !"/overwrite".startsWith(first!.toLowerCase())) return line(`% Invalid option "${first}": expected /overwrite`);
  const url = second ?? first!;
  const engine = s.host.engine;
  if (!engine) return line("% archive download-sw: this AP manages no images (image.trust is not configured)");
  const { ok } = await archiveDownload(
    { url, reload, overwrite: second !== undefined },
    { engine, imageName: s.host.identity.classProfile.name, write: (t) => s.write(t), ask: (p, secret) => s.ask(p, secret), signal: s.signal, log: s.host.log, ...(s.host.ca ? { ca: s.host.ca } : {}) },
  );
  if (ok && reload) {
    s.logout();
    s.host.reload("Image upgrade");
  }
  return "";
}

const archiveMode = (reload: boolean): ApNode => ({
  argument: {
    name: "WORD",
    help: "/overwrite, or the image URL: tftp: sftp: ftp: ftps: http: https:",
    node: { run: (s, args) => archive(s, reload, args), argument: { name: "WORD", help: "The image URL", node: leaf((s, args) => archive(s, reload, args)) } },
  },
});

const debugTopics = (on: boolean): ApNode => ({
  words: Object.fromEntries(
    Object.entries(DEBUG_TOPICS).map(([topic, { help }]) => [
      topic,
      word(
        help,
        leaf((s) => {
          if (on) s.debug.add(topic as DebugTopic);
          else s.debug.delete(topic as DebugTopic);
          return line(`CAPWAP client ${topic} debugging is ${on ? "on" : "off"}`);
        }),
      ),
    ]),
  ),
});

const capwapClient = (node: ApNode): ApNode => ({ words: { capwap: word("CAPWAP debugging", { words: { client: word("CAPWAP client debugging", node) } }) } });

/** The words both modes have. */
const COMMON = {
  enable: word("Turn on privileged commands", leaf(enable)),
  exit: word("Exit from the EXEC", leaf((s) => (s.logout(), ""))),
  logout: word("Exit from the EXEC", leaf((s) => (s.logout(), ""))),
  show: word("Show running system information", SHOW),
  terminal: word("Set terminal line parameters", TERMINAL),
};

/** IOS lists a mode's commands in alphabetical order (`?`). */
const alphabetical = <T>(words: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(words).sort(([a], [b]) => a.localeCompare(b)));

export const USER_ROOT: ApNode = { words: alphabetical(COMMON) };

export const PRIVILEGED_ROOT: ApNode = {
  words: alphabetical({
    ...COMMON,
    archive: word("manage archive files", { words: { "download-sw": word("Download software image to the AP", { words: { "/no-reload": word("Do not reload after the download", archiveMode(false)), "/reload": word("Reload once the image is set up", archiveMode(true)) } }) } }),
    capwap: word("CAPWAP configuration", {
      words: {
        ap: word("CAPWAP AP configuration", {
          words: {
            hostname: word("Set the AP's name", { argument: { name: "WORD", help: "The AP name", node: leaf(hostname) } }),
            "primary-base": word("Set the primary controller", { argument: { name: "WORD", help: "The controller's name", node: { argument: { name: "A.B.C.D", help: "The controller's IP address", node: leaf(primaryBase) } } } }),
            erase: word("Erase the CAPWAP configuration", { words: { all: word("Erase all the CAPWAP private configuration", leaf(clearPrivateConfig)) } }),
          },
        }),
      },
    }),
    clear: word("Reset functions", { words: { capwap: word("CAPWAP", { words: { "private-config": word("Clear the CAPWAP private configuration", leaf(clearPrivateConfig)) } }) } }),
    debug: word("Debugging functions", capwapClient(debugTopics(true))),
    dir: word("List files on the flash", leaf((s) => showFlash(s.host))),
    disable: word("Turn off privileged commands", leaf((s) => ((s.privileged = false), ""))),
    "exec-timeout": word("Set the EXEC timeout", {
      argument: { name: "<0-35791>", help: "Timeout in minutes", node: { run: execTimeout, argument: { name: "<0-2147483>", help: "Timeout in seconds", node: leaf(execTimeout) } } },
    }),
    logging: word("Logging control", {
      words: {
        console: word("Set console logging", {
          words: {
            disable: word("Stop the AP's log lines on this session", leaf((s) => ((s.loggingConsole = false), ""))),
            enable: word("Show the AP's log lines on this session", leaf((s) => ((s.loggingConsole = true), ""))),
          },
        }),
      },
    }),
    reload: word("Halt and perform a cold restart", leaf(reload)),
    test: word("Test subsystems", { words: { capwap: word("CAPWAP", { words: { restart: word("Restart the CAPWAP session", leaf((s) => (s.host.restartCapwap("test capwap restart"), ""))) } }) } }),
    undebug: word("Disable debugging functions", {
      words: {
        all: word("Disable all debugging", leaf((s) => (s.debug.clear(), line("All possible debugging has been turned off")))),
        ...capwapClient(debugTopics(false)).words,
      },
    }),
  }),
};

/** A command that threw: one line, never a stack. */
export const failure = (err: unknown) => line(`% ${describeError(err)}`);
