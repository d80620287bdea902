import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { choiceFlag, cliLog, type Command, integerFlag, listenForStop, noPositionals, parseOptions } from "../../agent/command-kit/index.js";
import { DtlsContext, keylogFileSink } from "../../agent/capwap/dtls/index.js";
import { MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import { ConfigError, describeError, type Log, readOperatorFile } from "../../agent/core/index.js";
import { CaptureFile } from "../../agent/pcap/index.js";
import { LabController } from "./controller.js";
import { CONTROLLER_DEFAULTS } from "./options.js";
import { loadSiteTags } from "./efficient/index.js";
import { bundleClasses, bundleLibrary } from "./image-library.js";
import { imageServerFlags, imageServerLibrary } from "./image-server.js";
import { HTTPS_METHOD_USAGE, httpsMethodFlags, startHttpsMethod } from "./https-method.js";
import { SUPPORTED_SCHEMES } from "../../agent/transfer/index.js";
import { ControlSocket, defaultControlSocket, operatorContext } from "./operator/index.js";

const USAGE = `(--pki DIR | --plaintext) [--address 127.0.0.1] [--profile cisco|rfc5415]
          [--name ${CONTROLLER_DEFAULTS.name}] [--version ${CONTROLLER_DEFAULTS.softwareVersion}] [--bundle DIR] [--image-server URL [--image-server-ca FILE]] [--window 1..${MAX_IMAGE_WINDOW}]
          [--max-downloads ${CONTROLLER_DEFAULTS.maxConcurrentDownloads}] [--site-tags FILE] [--max-predownloads ${CONTROLLER_DEFAULTS.maxPredownloads}] [--echo-interval ${CONTROLLER_DEFAULTS.echoIntervalSeconds}] [--pcap FILE] [--keylog FILE] [--json] [--control-socket PATH]
          ${HTTPS_METHOD_USAGE}
  Runs the lab controller on UDP 5246/5247 until Ctrl-C. --pki DIR uses
  DIR/controller.pem, DIR/controller.key and DIR/ca.pem (see vap pki init);
  APs must present a certificate from that CA. --plaintext turns DTLS off
  (debugging only). --bundle DIR serves images by class name (DIR/ap1g8 …)
  over CAPWAP Image Data with a sliding window of --window blocks (Cisco
  controllers offer 1 to 20). --image-server URL (${SUPPORTED_SCHEMES.join(", ")}; e.g.
  tftp://host[:port]/dir, sftp://user[:pass]@host/dir) is an EWC's image-download
  profile: a class missing from --bundle DIR is fetched from URL/<class> once,
  kept in DIR and then served; --image-server-ca FILE is the only trust of an
  https:// or ftpes:// image server. --upgrade-method https (needs --pki and
  --bundle) also serves the bundle over HTTPS on --https-port with the
  controller's certificate, from the embedded server or real nginx
  (--https-server nginx), to APs that advertise the capability, each with a
  token for itself and its image; an AP whose HTTPS download fails falls
  back to CAPWAP. --oob-fault makes that server fail on purpose.
  --site-tags FILE (YAML: site-tag name → { flex-profile: { predownload:
  true, tries: 44 }, aps: [base MAC, …] }) tags APs into sites; a site whose
  flex profile has predownload on upgrades efficiently (ap image predownload
  site-tag S start: one primary AP per model fetches the image, the rest
  fetch it from it over TFTP). --max-predownloads N: predownload orders
  outstanding at once.
  --control-socket PATH (default ${defaultControlSocket("<address>")}) takes
  operator commands: vap controller exec 'show ap summary'.`;

const read = (dir: string, file: string): string => readOperatorFile(join(dir, file), "--pki");

/** APs check the HTTPS server's certificate against the address they reach it by: one that does not name it sends every AP back to CAPWAP. */
function warnUnnamedAddress(chain: string, address: string, log: Log): void {
  if (new X509Certificate(chain).checkIP(address) === undefined) {
    log.warn(`controller.pem does not name ${address}: APs will not trust the HTTPS server and fall back to CAPWAP (vap pki init --controller-ip ${address})`);
  }
}

/** The classes --bundle DIR serves; a directory that cannot be read is the operator's to fix. */
function bundleFlag(dir: string): string[] {
  try {
    return bundleClasses(dir);
  } catch (err) {
    throw new ConfigError(`--bundle ${dir}: ${describeError(err)}`, { cause: err });
  }
}

export const controllerCommand: Command = {
  path: ["controller"],
  summary: "run the lab controller",
  usage: USAGE,
  async run(argv, io) {
    const { values: v, positionals } = parseOptions(argv, {
      pki: { type: "string" },
      plaintext: { type: "boolean", default: false },
      address: { type: "string", default: "127.0.0.1" },
      profile: { type: "string", default: "cisco" },
      name: { type: "string" },
      version: { type: "string" },
      window: { type: "string", default: "1" },
      bundle: { type: "string" },
      "image-server": { type: "string" },
      "image-server-ca": { type: "string" },
      "max-downloads": { type: "string", default: String(CONTROLLER_DEFAULTS.maxConcurrentDownloads) },
      "echo-interval": { type: "string", default: String(CONTROLLER_DEFAULTS.echoIntervalSeconds) },
      pcap: { type: "string" },
      keylog: { type: "string" },
      json: { type: "boolean", default: false },
      "upgrade-method": { type: "string" },
      "https-port": { type: "string" },
      "https-server": { type: "string" },
      "oob-fault": { type: "string" },
      "control-socket": { type: "string" },
      "site-tags": { type: "string" },
      "max-predownloads": { type: "string", default: String(CONTROLLER_DEFAULTS.maxPredownloads) },
    });
    noPositionals(positionals);
    const server = imageServerFlags(v, (line) => io.stderr(`${line}\n`));
    if (server && !v.bundle) throw new ConfigError("--image-server needs --bundle DIR, where the images it fetches are kept");
    if (!v.pki && !v.plaintext) throw new ConfigError("give --pki DIR (see vap pki init) or --plaintext");
    const httpsSettings = httpsMethodFlags(v);
    if (httpsSettings && (!v.pki || !v.bundle)) throw new ConfigError("--upgrade-method https needs --pki DIR (its certificate) and --bundle DIR (what it serves)");
    const profile = choiceFlag("profile", v.profile, ["cisco", "rfc5415"]);
    const window = integerFlag("window", v.window, 1, MAX_IMAGE_WINDOW);
    const maxDownloads = integerFlag("max-downloads", v["max-downloads"], 1);
    const echo = integerFlag("echo-interval", v["echo-interval"], 1, 255);
    const maxPredownloads = integerFlag("max-predownloads", v["max-predownloads"], 1);
    const siteTags = v["site-tags"] ? loadSiteTags(v["site-tags"]) : undefined;
    const classes = v.bundle ? bundleFlag(v.bundle) : undefined;
    const keylog = v.keylog ? keylogFileSink(v.keylog) : undefined;
    const dtls = v.pki
      ? new DtlsContext({ role: "server", cert: read(v.pki, "controller.pem"), key: read(v.pki, "controller.key"), ca: read(v.pki, "ca.pem"), ...(keylog ? { keylog } : {}) })
      : "plaintext";
    const log = cliLog(io, v.json ?? false).child({ ac: v.name ?? CONTROLLER_DEFAULTS.name });
    const fetching = server && v.bundle ? imageServerLibrary({ server, bundleDir: v.bundle, log }) : undefined;
    const images = fetching ?? (v.bundle ? bundleLibrary(v.bundle) : undefined);
    // From here on a Ctrl-C stops the controller cleanly, its nginx with it, even one that comes while it starts.
    const stop = listenForStop(io.signal);
    try {
      const https = httpsSettings ? await startHttpsMethod({ ...httpsSettings, bundleDir: v.bundle!, address: v.address, cert: read(v.pki!, "controller.pem"), key: read(v.pki!, "controller.key"), log }) : undefined;
      if (https) warnUnnamedAddress(read(v.pki!, "controller.pem"), v.address, log);
      const capture = v.pcap ? CaptureFile.open(v.pcap, (err) => log.warn(err.message)) : undefined;
      const undo = async (err: unknown): Promise<never> => {
        await capture?.close();
        await https?.close();
        throw err;
      };
      const operator = await ControlSocket.listen(v["control-socket"] ?? defaultControlSocket(v.address), log).catch(undo);
      const controller = await LabController.listen({
        address: v.address,
        profile,
        dtls,
        log,
        imageWindow: () => window,
        maxConcurrentDownloads: maxDownloads,
        maxPredownloads,
        ...(siteTags ? { siteTags } : {}),
        ...(images ? { images } : {}),
        echoIntervalSeconds: echo,
        ...(v.name ? { name: v.name } : {}),
        ...(v.version ? { softwareVersion: v.version } : {}),
        ...(capture ? { capture: capture.record } : {}),
        ...(https ? { oob: https.offers() } : {}),
      }).catch(async (err: unknown) => {
        await operator.close();
        return undo(err);
      });
      const { control, data } = controller.sockets;
      const security = v.pki ? `DTLS, certificates from ${v.pki}` : "plaintext (no DTLS)";
      log.info(`Lab controller ${controller.name} ${controller.softwareVersion} (profile ${profile}) on ${v.address}: control port ${control.local.port}, data port ${data.local.port}, ${security}`);
      log.info(classes ? `Serving images from ${v.bundle}: ${classes.join(", ") || "no class images"}; window ${window}, at most ${maxDownloads} transfers at once` : "No --bundle: APs that need an image will not get one");
      if (siteTags) log.info(`Site tags from ${v["site-tags"]}: ${siteTags.map((t) => `${t.name} (${t.aps.length} AP(s)${t.flexProfile.predownload ? `, efficient, ${t.flexProfile.tries} tries` : ""})`).join(", ") || "none"}`);
      if (server) log.info(`Image-download profile: classes missing from ${v.bundle} are fetched from image server ${server.shown}`);
      operator.serve(operatorContext(controller, https ? { https: { ...httpsSettings!, port: https.server.port } } : {}));
      log.info(`Operator commands on ${operator.path} (vap controller exec)`);
      await stop.stopped;
      await operator.close();
      const told = await controller.shutdown();
      await https?.close();
      await fetching?.close();
      log.info(`Stopping: ${told} AP(s) told (DTLS close_notify); image downloads by method: ${controller.downloadsByMethod()}`);
      await capture?.close();
      return 0;
    } finally {
      stop.dispose();
    }
  },
};
