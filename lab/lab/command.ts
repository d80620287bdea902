import { isIP } from "node:net";
import { choiceFlag, classListFlag, cliConsole, type Command, type CommandIo, integerFlag, listenForStop, noPositionals, parseOptions } from "../../agent/command-kit/index.js";
import { DEFAULT_AP_VERSION, MAX_IMAGE_WINDOW, parseDuration } from "../../agent/config/index.js";
import { consoleRuntimeDir } from "../../agent/console/transports/index.js";
import { ConfigError, readOperatorFile } from "../../agent/core/index.js";
import { imageSizeFlag } from "../../images/index.js";
import { HTTPS_METHOD_USAGE, httpsMethodFlags, imageServerFlags } from "../controller/index.js";
import { impairmentFlags } from "../wan/index.js";
import { Lab, type SiteWanBytes, summaryTable } from "./lab.js";
import type { LabSites } from "./sites.js";
import { PRIMARY_TRIES } from "../../agent/capwap/profiles/index.js";

const USAGE = `[--aps N] [--profile cisco|rfc5415] [--classes ap1g8,ap1g7|all] [--until run|upgraded]
          [--timeout 120s] [--address 127.0.0.1] [--version ${DEFAULT_AP_VERSION}] [--controller-version 17.12.1.5]
          [--window 1..${MAX_IMAGE_WINDOW}] [--size small|realistic|BYTES] [--storage flash|sink] [--state DIR]
          [--image-server URL [--image-trust FILE] [--image-server-ca FILE]] [--pcap FILE] [--keylog FILE] [--quiet]
          ${HTTPS_METHOD_USAGE}
          [--wan-delay 50ms] [--wan-loss 1%] [--wan-rate 10mbit] [--wan-seed N] [--wan-address 127.0.0.2]
          [--sites N [--efficient [--predownload-tries ${PRIMARY_TRIES.min}..${PRIMARY_TRIES.max}]]]
  Starts the lab controller and N APs on loopback (real UDP and DTLS, a fresh PKI)
  and prints each AP's console. The APs leave the factory at --version with a
  signed image in their flash; the controller runs --controller-version and
  serves a signed bundle, so they download it over CAPWAP (with a --window of
  blocks in flight; Cisco controllers offer 1 to 20), verify and install it (PRECHECK, PREDOWNLOAD, ACTIVATE),
  reload and rejoin. --until upgraded exits 0 once every AP runs the
  controller's version, --until run once every AP is in Run; 1 with the reason
  after --timeout or a Ctrl-C. Without --until it runs until Ctrl-C.
  --storage sink keeps hashes instead of files (default beyond 50 APs);
  --state DIR keeps keys, bundle and flashes (default: a temporary directory).
  --image-server URL gives the controller an EWC's image-download profile:
  its bundle starts empty and it fetches each class from URL/<class> once
  (see vap controller); --image-trust FILE is the PEM root that signed those
  images, which the APs then trust besides the lab's own; --image-server-ca
  FILE is the only trust of an https:// or ftpes:// image server.
  --upgrade-method https: the controller serves images out of band over HTTPS
  (its --https-server, the embedded one or real nginx, on --https-port; 0 =
  any free port) to every AP that advertises the capability, with a token per
  AP and image; an AP whose HTTPS download fails for any reason falls back to
  CAPWAP Image Data in the same session. --oob-fault makes the HTTPS server
  fail one way (refuse, tls, token, 404, stall, truncate, corrupt) so every
  fallback can be watched; the summary's Method column tells how each AP got
  its image.
  --wan-delay, --wan-loss, --wan-rate and --wan-seed put the APs behind an
  emulated WAN link (vap wan's relays, listening on --wan-address): CAPWAP
  control, data and the HTTPS downloads all cross it (TCP gets the delay and
  the rate; its loss needs vap wan --link).
  --sites N splits the APs into N site tags in order (site-1 …); with WAN
  flags each site gets a link of its own (on --wan-address, the next site on
  the next address) and the summary counts the bytes each carried.
  --efficient turns predownload on in every site's flex profile (FlexConnect
  efficient image upgrade): the controller starts at --version with
  --controller-version staged, and once every AP is in Run the lab runs
  \`ap image predownload site-tag S start\` for each site — one primary AP per
  model per site downloads from the controller, the others fetch it from
  their primary by TFTP, at most three at a time, retrying a busy primary
  (--predownload-tries, default ${PRIMARY_TRIES.default}) before falling back to the
  controller — then the controller moves to --controller-version and
  \`ap image swap\` and \`ap image reset\` boot every AP into it. The summary
  shows each AP's site, role and method.
  --pcap writes the plaintext CAPWAP exchange (what went through DTLS) for
  Wireshark; --keylog writes the DTLS secrets (SSLKEYLOGFILE format).`;

function options(argv: string[]) {
  const { values, positionals } = parseOptions(argv, {
    aps: { type: "string", default: "1" },
    profile: { type: "string", default: "cisco" },
    classes: { type: "string" },
    until: { type: "string" },
    timeout: { type: "string", default: "120s" },
    address: { type: "string", default: "127.0.0.1" },
    version: { type: "string", default: DEFAULT_AP_VERSION },
    "controller-version": { type: "string", default: "17.12.1.5" },
    window: { type: "string", default: "8" },
    size: { type: "string", default: "small" },
    storage: { type: "string" },
    state: { type: "string" },
    "image-server": { type: "string" },
    "image-trust": { type: "string" },
    "image-server-ca": { type: "string" },
    pcap: { type: "string" },
    keylog: { type: "string" },
    quiet: { type: "boolean", default: false },
    "upgrade-method": { type: "string" },
    "https-port": { type: "string" },
    "https-server": { type: "string" },
    "oob-fault": { type: "string" },
    "wan-delay": { type: "string" },
    "wan-loss": { type: "string" },
    "wan-rate": { type: "string" },
    "wan-seed": { type: "string" },
    "wan-address": { type: "string", default: "127.0.0.2" },
    sites: { type: "string" },
    efficient: { type: "boolean", default: false },
    "predownload-tries": { type: "string" },
  });
  noPositionals(positionals);
  return values;
}

export const labCommand: Command = {
  path: ["lab"],
  summary: "run the lab controller and N APs on loopback",
  usage: USAGE,
  async run(argv: string[], io: CommandIo) {
    const v = options(argv);
    const aps = integerFlag("aps", v.aps, 1, 10_000);
    const profile = choiceFlag("profile", v.profile, ["cisco", "rfc5415"]);
    const until = v.until === undefined ? undefined : choiceFlag("until", v.until, ["run", "upgraded"]);
    const window = integerFlag("window", v.window, 1, MAX_IMAGE_WINDOW);
    const size = imageSizeFlag("size", v.size);
    const storage = v.storage === undefined ? undefined : choiceFlag("storage", v.storage, ["flash", "sink"]);
    const timeoutMs = parseDuration(v.timeout);
    if (timeoutMs === undefined) throw new ConfigError(`--timeout: expected a duration like 60s, got "${v.timeout}"`);
    const classes = v.classes ? classListFlag("classes", v.classes) : undefined;
    const imageServer = imageServerFlags(v, (line) => io.stderr(`${line}\n`));
    if (v["image-trust"] !== undefined && !imageServer) throw new ConfigError("--image-trust applies with --image-server only");
    const imageTrust = v["image-trust"] === undefined ? undefined : readOperatorFile(v["image-trust"], "--image-trust");
    const https = httpsMethodFlags(v);
    const wan = wanFlags(v);
    const sites = siteFlags(v, aps);
    if (wan && wan.address === v.address) throw new ConfigError("--wan-address must differ from --address: the relays and the controller both bind CAPWAP's ports");
    // From here on a Ctrl-C ends the lab cleanly (its nginx, relays and folder with it), even one that comes while it starts.
    const stop = listenForStop(io.signal);
    // --timeout counts from here: a lab of thousands still powering APs on at the deadline stops doing so, and fails.
    const deadline = Date.now() + timeoutMs;
    const starting = new AbortController();
    const cutoff = setTimeout(() => starting.abort(), timeoutMs);
    void stop.stopped.then(() => starting.abort());
    const remaining = () => Math.max(0, deadline - Date.now());
    const lab = await Lab.start({
      aps,
      profile,
      address: v.address,
      apVersion: v.version,
      // Efficient upgrade is a predownload: the controller runs the APs' version and has the new one staged until they hold it.
      controllerVersion: sites?.efficient ? v.version : v["controller-version"],
      bundleVersion: v["controller-version"],
      imageWindow: window,
      imageSize: size,
      ...(storage ? { storage } : {}),
      ...(v.state ? { stateDir: v.state } : {}),
      console: v.quiet ? null : cliConsole(io),
      consoleSocketDir: consoleRuntimeDir(),
      ...(classes ? { classes } : {}),
      ...(imageServer ? { imageServer } : {}),
      ...(imageTrust ? { imageTrust } : {}),
      ...(v.pcap ? { pcap: v.pcap } : {}),
      ...(v.keylog ? { keylog: v.keylog } : {}),
      ...(https ? { https } : {}),
      ...(wan ? { wan } : {}),
      ...(sites ? { sites } : {}),
      signal: starting.signal,
    }).catch((err: unknown) => {
      clearTimeout(cutoff);
      stop.dispose();
      throw err;
    });
    clearTimeout(cutoff);
    let code = 0;
    try {
      const goal =
        until === "run"
          ? { reached: (l: Lab) => l.allInRun(), behind: (l: Lab) => notYet(l, "Run") }
          : until === "upgraded"
            ? { reached: (l: Lab) => l.allUpgraded(), behind: (l: Lab) => notYet(l, "Run", v["controller-version"]) }
            : undefined;
      if (sites?.efficient && until !== "run") {
        const console = v.quiet ? () => {} : (line: string) => io.stdout(`${line}\n`);
        await lab.waitFor((l) => stop.signal !== undefined || l.allInRun(), remaining(), (l) => notYet(l, "Run"), timeoutMs);
        if (stop.signal === undefined) await lab.upgradeBySite(v["controller-version"], console);
      }
      if (goal) {
        await lab.waitFor((l) => stop.signal !== undefined || goal.reached(l), remaining(), goal.behind, timeoutMs);
        if (!goal.reached(lab)) throw new Error(`interrupted (${stop.signal}): ${goal.behind(lab)}`);
      } else {
        await stop.stopped;
      }
    } catch (err) {
      io.stderr(`vap lab: ${(err as Error).message}\n`);
      code = 1;
    } finally {
      const rows = lab.rows();
      const downloads = lab.controller.downloadsByMethod();
      const wanBytes = lab.siteWanBytes();
      const sent = lab.siteImageBytes().map((s) => `Site ${s.site}: the controller sent ${s.images} image(s), ${s.bytes} bytes\n`).join("");
      // Still listening while it stops: a Ctrl-C then must not cut the stop short.
      await lab.stop().finally(() => stop.dispose());
      io.stdout(`\n${summaryTable(rows)}\nImage downloads by method: ${downloads}\n${sent}${wanLines(wanBytes)}`);
    }
    if (code === 0 && until === "run") io.stdout(`All ${aps} AP(s) in Run.\n`);
    if (code === 0 && until === "upgraded") io.stdout(`All ${aps} AP(s) upgraded to ${v["controller-version"]} and in Run.\n`);
    return code;
  },
};

/** The sites' flags, or undefined without --sites (no site tags: every AP in the default one). */
function siteFlags(v: { sites?: string | undefined; efficient: boolean; "predownload-tries"?: string | undefined }, aps: number): LabSites | undefined {
  if (v.sites === undefined) {
    if (v.efficient || v["predownload-tries"] !== undefined) throw new ConfigError("--efficient and --predownload-tries apply with --sites only");
    return undefined;
  }
  const count = integerFlag("sites", v.sites, 1, aps);
  if (v["predownload-tries"] !== undefined && !v.efficient) throw new ConfigError("--predownload-tries applies with --efficient only");
  const tries = v["predownload-tries"] === undefined ? undefined : integerFlag("predownload-tries", v["predownload-tries"], PRIMARY_TRIES.min, PRIMARY_TRIES.max);
  return { count, efficient: v.efficient, ...(tries !== undefined ? { tries } : {}) };
}

/** One line per WAN link: what it carried toward the APs and back. */
function wanLines(sites: readonly SiteWanBytes[]): string {
  return sites.map((s) => `WAN ${s.site}: ${s.toAps} bytes to the APs, ${s.toController} bytes to the controller\n`).join("");
}

/** The WAN link's flags, or undefined when none is given (the APs then talk to the controller directly). */
function wanFlags(v: Partial<Record<"wan-delay" | "wan-loss" | "wan-rate" | "wan-seed", string>> & { "wan-address": string }) {
  const given = { delay: v["wan-delay"], loss: v["wan-loss"], rate: v["wan-rate"], seed: v["wan-seed"] };
  if (Object.values(given).every((x) => x === undefined)) return undefined;
  if (isIP(v["wan-address"]) === 0) throw new ConfigError(`--wan-address: "${v["wan-address"]}" is not an IP address`);
  const defined = Object.fromEntries(Object.entries(given).filter(([, x]) => x !== undefined));
  return { address: v["wan-address"], ...impairmentFlags(defined, "wan-") };
}

function notYet(lab: Lab, state: string, version?: string): string {
  const behind = lab.rows().filter((r) => r.state !== state || (version !== undefined && r.version !== version));
  const shown = behind.slice(0, 5).map((r) => `${r.name} in ${r.state} at ${r.version}${r.lastRestart ? ` (last restart: ${r.lastRestart})` : ""}`);
  const unstarted = lab.planned - lab.aps.length;
  const never = unstarted > 0 ? `${unstarted} AP(s) never started (the run ended first); ` : "";
  return `${never}${behind.length} AP(s) not in ${state}${version ? ` at ${version}` : ""}${shown.length ? `: ${shown.join("; ")}` : ""}${behind.length > 5 ? "; …" : ""}`;
}
