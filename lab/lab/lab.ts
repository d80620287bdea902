/**
 * `vap lab`: the lab controller and N APs in one process on loopback, with a
 * freshly minted PKI — the whole join and upgrade visible on one console, for
 * a newcomer's first run and for tests over real UDP and DTLS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApRuntimeOptions, startAp, type RunningAp } from "../../agent/ap/index.js";
import { type ConsoleTransports, startConsoleTransports } from "../../agent/console/transports/index.js";
import { DtlsContext, keylogFileSink } from "../../agent/capwap/dtls/index.js";
import type { ProfileName } from "../../agent/capwap/profiles/index.js";
import type { WtpState } from "../../agent/capwap/wtp/index.js";
import { type ApConfig, type ApIdentity, parseApConfig } from "../../agent/config/index.js";
import { UpgradeEngine, type StorageMode } from "../../agent/upgrade/index.js";
import { buildBundle, buildImage, imageSizeFor, issueImageSigner, signerFromPem, type ImageSize, type VerifiedImage } from "../../images/index.js";
import { createLog, type ConsoleSink, type Log, silentLog, systemClock } from "../../agent/core/index.js";
import { CaptureFile } from "../../agent/pcap/index.js";
import { hardwareClasses, type ClassName } from "../../platform/classes/index.js";
import { MemoryFlash } from "../../platform/flash/index.js";
import {
  bundleLibrary,
  type ApRecord,
  type HttpsMethod,
  type HttpsMethodSettings,
  type ImageServer,
  type ImageServerLibrary,
  imageServerLibrary,
  LabController,
  methodLabel,
  type OobOffers,
  type SiteResult,
  type SiteTag,
  startHttpsMethod,
} from "../controller/index.js";
import { operatorCommand, operatorContext, type OperatorContext } from "../controller/operator/index.js";
import { ResultCode, resultCodeName } from "../../agent/capwap/codec/index.js";
import { apCommonName, issueCa, issueLeaf, parseMac, validFor, writeCredential } from "../../agent/pki/index.js";
import { CAPWAP_PORTS } from "../../agent/capwap/codec/index.js";
import { describeImpairment, type Impairment, startWanProxy, type WanProxy } from "../wan/index.js";
import { type LabSites, siteName, siteOf, siteWanAddress } from "./sites.js";

export interface LabOptions {
  aps: number;
  profile: ProfileName;
  /** Loopback address the controller listens on (5246/5247). */
  address: string;
  /** Hardware classes to cycle through; default ap1g8. */
  classes?: readonly ClassName[];
  /** The APs' factory image version; the controller runs `controllerVersion`. */
  apVersion: string;
  controllerVersion: string;
  /** The version of the bundle the controller serves; default `controllerVersion` (differs before a predownload). */
  bundleVersion?: string;
  /**
   * The controller's image-download profile (SPEC.md, seed 2): its bundle
   * starts empty and each class is fetched from this server. The APs must
   * trust what signed the server's images: `imageTrust`.
   */
  imageServer?: ImageServer;
  /** PEM of the root that signed the image server's images, trusted by the APs besides the lab's own. */
  imageTrust?: string;
  /** Where keys, bundle and each AP's flash live; default a temporary directory removed at stop. */
  stateDir?: string;
  /** Each AP's console socket goes in this runtime dir, for `vap console <AP name>` (`vap lab` gives consoleRuntimeDir()); default none. */
  consoleSocketDir?: string;
  /** `flash` (real partitions) or `sink` (hashes only); default flash up to 50 APs, sink beyond. */
  storage?: StorageMode;
  /** Image size: small (1 MiB, default), realistic (the seed's sizes) or bytes. */
  imageSize?: ImageSize;
  pcap?: string;
  keylog?: string;
  /** Console lines (Cisco style); null for silence. */
  console: ConsoleSink | null;
  /** Extra raw AP config (timers, …) merged into every AP's config. */
  apConfig?: Record<string, unknown>;
  echoIntervalSeconds?: number;
  imageWindow?: number;
  /** APs started per second (a fleet powering up is not one instant). Default 200. */
  startRate?: number;
  /** The controller's HTTPS upgrade method (out of band, CAPWAP the fallback); absent: CAPWAP only. */
  https?: HttpsMethodSettings;
  /**
   * An emulated WAN between the APs and the controller (`vap wan`'s relays on
   * `address`): CAPWAP control and data and the HTTPS downloads cross the
   * same link. With sites, each site has a link of its own, its relays on
   * the next address (siteWanAddress), the same impairment on each.
   */
  wan?: { address: string; impairment: Partial<Impairment>; seed: number };
  /** Site tags (the APs split in order), and whether each site's flex profile has predownload on (efficient upgrade). */
  sites?: LabSites;
  /** Stops powering on more APs (the run's deadline, a Ctrl-C): the lab then runs with those started, and never counts as all in Run. */
  signal?: AbortSignal;
}

/** What crossed one site's WAN link toward its APs. */
export interface SiteWanBytes {
  site: string;
  /** Bytes the relays delivered to the site's APs (CAPWAP control and data, HTTPS), as datagram or stream payload. */
  toAps: number;
  /** From the site's APs toward the controller. */
  toController: number;
}

export interface LabApRow {
  name: string;
  model: string;
  hardwareClass: ClassName;
  mac: string;
  state: WtpState;
  controller: string;
  version: string;
  /** Reloads since the lab started (an upgrade is one). */
  reloads: number;
  restarts: number;
  /** ms from the lab's start to the AP's latest entry into Run (the summary's "Start to Run"). */
  timeToRun?: number;
  /** How its latest image download went, as the controller saw it (the summary's Method). */
  method?: string;
  /** Its site tag, when the lab has sites. */
  site?: string;
  /** Its role in its site's efficient upgrade (Primary, Subordinate), once the controller gave it one. */
  role?: string;
  lastRestart?: string;
}

export class Lab {
  readonly controller: LabController;
  readonly aps: RunningAp[] = [];
  readonly #capture: CaptureFile | undefined;
  /** The image server's fetches, ended at stop. */
  #fetching: ImageServerLibrary | undefined;
  /** The HTTPS file-transfer server, closed at stop. */
  #https: HttpsMethod | undefined;
  /** The WAN relays between the APs and the controller (one link per site), closed at stop. */
  #wans: WanProxy[] = [];
  /** What the controller's operator commands read (its download log: each AP's latest download across its sessions, the summary's Method). */
  #operatorContext!: OperatorContext;
  /** A directory of our own making, removed at stop. */
  #ownDir: string | undefined;
  readonly #startedAt = systemClock.now();
  readonly #lastRun = new Map<number, number>();
  readonly #identities: ApIdentity[] = [];
  /** Each AP's site (index into the sites), when the lab has sites. */
  readonly #siteOfAp: number[] = [];
  #sites: LabSites | undefined;
  /** Each AP's console transports (its console socket), closed at stop. */
  readonly #consoles: ConsoleTransports[] = [];

  /** Where the lab keeps keys, the controller's bundle (bundle/<class>) and each AP's flash. */
  readonly dir: string;
  /** How many APs the lab was asked for (`aps` holds those that started). */
  planned = 0;

  private constructor(controller: LabController, capture: CaptureFile | undefined, dir: string) {
    this.dir = dir;
    this.controller = controller;
    this.#capture = capture;
  }

  /** Start everything; if anything fails on the way, what was started stops and a temporary directory goes. */
  static async start(o: LabOptions): Promise<Lab> {
    const ownDir = o.stateDir ? undefined : mkdtempSync(join(tmpdir(), "vap-lab-"));
    try {
      return await Lab.#start(o, o.stateDir ?? ownDir!, ownDir);
    } catch (err) {
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      throw err;
    }
  }

  static async #start(o: LabOptions, dir: string, ownDir: string | undefined): Promise<Lab> {
    const log = createLog({ console: o.console });
    const classes = o.classes?.length ? o.classes : (["ap1g8"] as const);
    const classProfiles = classes.map((c) => hardwareClasses[c]);
    const used = [...new Set(classes.slice(0, o.aps))];
    const storage = o.storage ?? (o.aps > 50 ? "sink" : "flash");
    const validity = validFor(365);

    // The lab's PKI: DTLS for the control channel, an image-signing root and signer for firmware.
    const ca = issueCa("ecdsa", validity);
    // The controller's certificate comes from an intermediate CA, as many real trust points do (the seed's OOB
    // restriction: chains); it names the controller's address, by which APs reach its HTTPS server.
    const controllerCa = issueCa("ecdsa", validity, "vap lab controller CA", ca);
    const siteCount = o.sites?.count ?? 1;
    const siteIndexes = Array.from({ length: siteCount }, (_, i) => i);
    const wanAddresses = o.wan ? siteIndexes.map((i) => siteWanAddress(o.wan!.address, i)) : [];
    const siteOfAp = Array.from({ length: o.aps }, (_, i) => siteOf(i, o.aps, siteCount));
    const siteByMac = new Map(siteOfAp.map((site, i) => [labMac(i), site]));
    const macsBySite = siteIndexes.map((site) => siteOfAp.flatMap((s, i) => (s === site ? [labMac(i)] : [])));
    const ctrlCert = issueLeaf(controllerCa, { commonName: "vap-lab-wlc", role: "controller", type: "ecdsa", validity, ipAddresses: [o.address, ...wanAddresses] });
    const ctrlChain = ctrlCert.cert + controllerCa.cert;
    const imageRoot = issueCa("ecdsa", validity, "vap lab image signing root");
    const signing = issueImageSigner(imageRoot, { type: "ecdsa", validity });
    const signer = signerFromPem(signing.cert, signing.key);

    // What the controller serves (nothing yet, with an image server), and what the APs left the factory with.
    const size = o.imageSize ?? "small";
    const bundleDir = join(dir, "bundle");
    if (o.imageServer) mkdirSync(bundleDir, { recursive: true });
    else await buildBundle({ version: o.bundleVersion ?? o.controllerVersion, out: bundleDir, signer, size, classes: used, controllerVersion: o.controllerVersion });
    mkdirSync(join(dir, "factory"), { recursive: true });
    for (const c of used) await buildImage({ class: c, version: o.apVersion, out: join(dir, "factory", c), signer, size: imageSizeFor(size, c) });

    // The APs read their credentials and image trust from files, as `vap run` does.
    const pkiDir = join(dir, "pki");
    mkdirSync(join(pkiDir, "ap"), { recursive: true });
    const caFile = join(pkiDir, "ca.pem");
    const imageTrustFile = join(pkiDir, "image-ca.pem");
    writeFileSync(caFile, ca.cert);
    const imageTrust = imageRoot.cert + (o.imageTrust ?? "");
    writeFileSync(imageTrustFile, imageTrust);
    const keylog = o.keylog ? keylogFileSink(o.keylog) : undefined;
    const capture = o.pcap ? CaptureFile.open(o.pcap, (err) => log.warn(err.message)) : undefined;
    const controllerLog = log.child({ ac: "vap-lab-wlc" });
    const fetching = o.imageServer ? imageServerLibrary({ server: o.imageServer, bundleDir, log: controllerLog }) : undefined;
    // What starts before the lab exists is stopped here if a later part fails.
    let https: HttpsMethod | undefined;
    const wans: WanProxy[] = [];
    let controller: LabController;
    try {
      if (o.https) {
        mkdirSync(join(dir, "https"), { recursive: true });
        https = await startHttpsMethod({ ...o.https, bundleDir, address: o.address, cert: ctrlChain, key: ctrlCert.key, log: controllerLog, workDir: join(dir, "https") });
      }
      for (const behind of wanAddresses) {
        const wan = await startWanProxy({
          seed: o.wan!.seed + wans.length,
          impairment: o.wan!.impairment,
          relays: [
            ...CAPWAP_PORTS.map((port) => ({ protocol: "udp" as const, listen: { address: behind, port }, to: { address: o.address, port } })),
            ...(https ? [{ protocol: "tcp" as const, listen: { address: behind, port: 0 }, to: { address: o.address, port: https.server.port } }] : []),
          ],
        });
        wans.push(wan);
      }
      controller = await LabController.listen({
        address: o.address,
        profile: o.profile,
        dtls: new DtlsContext({ role: "server", cert: ctrlChain, key: ctrlCert.key, ca: ca.cert, ...(keylog ? { keylog } : {}) }),
        softwareVersion: o.controllerVersion,
        images: fetching ?? bundleLibrary(bundleDir),
        log: controllerLog,
        ...(o.echoIntervalSeconds ? { echoIntervalSeconds: o.echoIntervalSeconds } : {}),
        ...(o.imageWindow ? { imageWindow: () => o.imageWindow! } : {}),
        ...(capture ? { capture: capture.record } : {}),
        // Behind a WAN, an AP reaches the HTTPS server through its site's TCP relay: its offers name that.
        ...(https ? { oob: labOffers(https, wans, (mac) => siteByMac.get(mac) ?? 0) } : {}),
        ...(o.sites ? { siteTags: siteTags(o.sites, siteIndexes, macsBySite), predownloadVersion: o.bundleVersion ?? o.controllerVersion } : {}),
      });
    } catch (err) {
      await capture?.close();
      for (const wan of wans) await wan.close();
      await https?.close();
      await fetching?.close();
      throw err;
    }
    const lab = new Lab(controller, capture, dir);
    lab.planned = o.aps;
    lab.#ownDir = ownDir;
    lab.#fetching = fetching;
    lab.#https = https;
    lab.#wans = wans;
    lab.#sites = o.sites;
    lab.#siteOfAp.push(...siteOfAp);
    if (wans.length > 0) {
      const where = o.sites ? `emulated WAN links, one per site (${wanAddresses.map((a, i) => `${siteName(i)} on ${a}`).join(", ")})` : `an emulated WAN on ${o.wan!.address}`;
      log.info(`Lab: the APs reach the controller across ${where} (${describeImpairment(wans[0]!.impairment)}, seed ${o.wan!.seed})`);
    }
    if (o.sites) log.info(`Lab: ${o.sites.count} site tag(s), predownload ${o.sites.efficient ? "on (efficient image upgrade)" : "off"} in their flex profiles`);
    lab.#operatorContext = operatorContext(controller, { clock: systemClock });
    log.info(`Lab: ${o.aps} AP(s) at ${o.apVersion}, profile ${o.profile}; controller ${controller.name} ${o.controllerVersion} on ${o.address}, window ${o.imageWindow ?? 1}`);
    if (o.imageServer) log.info(`Lab: the controller fetches the APs' images from image server ${o.imageServer.shown}`);
    try {
      // Mint every AP's identity and flash first: key generation and image
      // verification block the event loop, which must be free once APs talk.
      // Flash storage: credentials in files and a flash in its directory, as `vap run` has them.
      // Sink storage (a lab of hundreds): credentials and a volatile flash in memory, one UDP port
      // per AP — no file per AP (a 1,000-AP lab spent most of its start in mkdir and fsync).
      const aps: { config: ApConfig; runtime: Partial<ApRuntimeOptions> }[] = [];
      // Each class's factory image is verified once; a sink-mode flash holds only its record.
      const factory = new Map<ClassName, string | VerifiedImage>();
      for (let i = 0; i < o.aps && !o.signal?.aborted; i++) {
        const classProfile = classProfiles[i % classProfiles.length]!;
        const model = classProfile.models[0]!.model;
        const mac = labMac(i);
        const commonName = apCommonName(model, parseMac(mac));
        const issued = issueLeaf(ca, { commonName, role: "ap", type: "ecdsa", validity });
        const inMemory = storage === "sink";
        const credential = inMemory ? { cert: "(lab: in memory)", key: "(lab: in memory)" } : writeCredential(join(pkiDir, "ap"), commonName, issued, issued.cert + ca.cert);
        const config = parseApConfig(
          {
            baseMac: mac,
            class: classProfile.name,
            profile: o.profile,
            controllers: [{ address: wanAddresses[siteOfAp[i]!] ?? o.address }],
            discovery: { bindAddress: o.address },
            dtls: { ...credential, ca: caFile },
            image: { trust: imageTrustFile, storage },
            stateDir: join(dir, "aps", `ap${i + 1}`),
            // A primary serves on a port the kernel picks (many APs share one address here); subordinates retry soon.
            ...(o.sites?.efficient ? { efficientUpgrade: LAB_EFFICIENT_UPGRADE } : {}),
            ...o.apConfig,
          },
          "vap lab",
        );
        const engineOptions = { stateDir: config.stateDir, hardwareClass: config.identity.classProfile, storage, trust: imageRoot.cert, policy: "required" as const, log: silentLog };
        let image = factory.get(classProfile.name);
        if (!image) {
          const path = join(dir, "factory", classProfile.name);
          image = inMemory ? await UpgradeEngine.verifyFile(engineOptions, path) : path;
          factory.set(classProfile.name, image);
        }
        if (typeof image === "string") {
          await UpgradeEngine.provision(engineOptions, image);
          aps.push({ config, runtime: {} });
        } else {
          const flash = new MemoryFlash(classProfile.tmpKiB, { version: image.version, family: image.family });
          aps.push({ config, runtime: { pem: { cert: issued.cert + ca.cert, key: issued.key, ca: ca.cert }, imageTrust, flash, singlePort: true } });
        }
      }
      const interval = 1000 / (o.startRate ?? 200);
      for (const [i, { config, runtime }] of aps.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, interval));
        if (o.signal?.aborted) break;
        const name = config.identity.name;
        const apLog: Log = log.child({ ap: name }, { console: o.console && o.aps > 1 ? (l) => o.console!(`${name} ${l}`) : o.console });
        const index = i;
        const ap = await startAp(config, {
          ...runtime,
          log: apLog,
          ...(o.keylog ? { keylog: o.keylog } : {}),
          wtp: {
            onStateChange: (state) => {
              if (state === "Run") lab.#lastRun.set(index, systemClock.now() - lab.#startedAt);
            },
          },
        });
        lab.aps.push(ap);
        lab.#identities.push(config.identity);
        if (o.consoleSocketDir !== undefined) lab.#consoles.push(await startConsoleTransports(ap.console, { stateDir: config.stateDir, socketDir: o.consoleSocketDir, log: apLog }));
      }
    } catch (err) {
      // An AP that cannot start: stop what did, remove what the lab made.
      await lab.stop();
      throw err;
    }
    return lab;
  }

  rows(): LabApRow[] {
    return this.aps.map((ap, i) => {
      const w = ap.wtp;
      const { model, classProfile, baseMac } = this.#identities[i]!;
      const row: LabApRow = {
        name: w.name,
        model,
        hardwareClass: classProfile.name,
        mac: baseMac,
        state: w.state,
        controller: w.controller?.name ?? "-",
        version: ap.engine?.running ?? "-",
        reloads: ap.reloads,
        restarts: w.stats.restarts,
      };
      const download = this.#operatorContext.downloads().get(w.name);
      if (download) row.method = methodLabel(download);
      if (download?.role) row.role = ROLE_WORDS[download.role];
      if (this.#sites) row.site = siteName(this.#siteOfAp[i]!);
      const t = this.#lastRun.get(i);
      if (t !== undefined) row.timeToRun = t;
      if (w.restartReason) row.lastRestart = w.restartReason;
      return row;
    });
  }

  /**
   * Resolve when `done` holds (checked now, then every 50 ms), or reject once
   * `timeoutMs` passed with what is missing; the message names `totalMs`, the
   * whole run's timeout when this wait is its last part.
   */
  waitFor(done: (lab: Lab) => boolean, timeoutMs: number, describe: (lab: Lab) => string, totalMs = timeoutMs): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        if (done(this)) resolve();
        else if (Date.now() - started >= timeoutMs) reject(new Error(`timed out after ${totalMs / 1000} s: ${describe(this)}`));
        else return setTimeout(check, 50);
        return undefined;
      };
      check();
    });
  }

  /** What crossed each site's WAN link so far (none without a WAN); one entry for a lab without sites. */
  siteWanBytes(): SiteWanBytes[] {
    return this.#wans.map((wan, i) => {
      const relays = wan.stats();
      const sum = (pick: (r: (typeof relays)[number]) => number) => relays.reduce((total, r) => total + pick(r), 0);
      return { site: this.#sites ? siteName(i) : "all", toAps: sum((r) => r.toClient.bytesOut), toController: sum((r) => r.toServer.bytesOut) };
    });
  }

  /**
   * The image bytes the controller sent into each site (CAPWAP blocks, HTTPS
   * bodies: each AP's latest download not fetched from its primary), with
   * or without a WAN; none without sites.
   */
  siteImageBytes(): { site: string; images: number; bytes: number }[] {
    if (!this.#sites) return [];
    const sent = Array.from({ length: this.#sites.count }, (_, i) => ({ site: siteName(i), images: 0, bytes: 0 }));
    const downloads = this.#operatorContext.downloads();
    for (const [i, ap] of this.aps.entries()) {
      const d = downloads.get(ap.wtp.name);
      if (!d || d.method === undefined || d.method === "TFTP") continue;
      const site = sent[this.#siteOfAp[i]!]!;
      site.images++;
      site.bytes += d.bytes;
    }
    return sent;
  }

  /**
   * The efficient upgrade a branch operator runs, site by site, in Cisco's
   * words, each command and its answer echoed: predownloadBySite, a look at
   * `show ap primary list` and `show ap image`, then activateBySite.
   */
  async upgradeBySite(version: string, echo: (line: string) => void): Promise<void> {
    const records = await this.predownloadBySite(echo);
    for (const show of ["show ap primary list", "show ap image"]) await this.#operator(show, echo);
    const failed = records.filter((r) => r.download?.state !== "complete");
    if (failed.length > 0) throw new Error(`predownload failed on ${failed.map((r) => `${r.name} (${r.download?.error ?? r.download?.state ?? "no download"})`).join(", ")}`);
    await this.activateBySite(version, echo);
  }

  /**
   * `ap image predownload site-tag S start` for every site at once: the
   * controller elects one primary per model per site, the others fetch from
   * it. Resolves with every site AP's record once each predownload ended.
   */
  async predownloadBySite(echo: (line: string) => void): Promise<ApRecord[]> {
    const ended = this.#siteNames().map((site) => this.#operator(`ap image predownload site-tag ${site} start`, echo));
    return (await Promise.all(ended)).flat() as ApRecord[];
  }

  /**
   * Every AP holding the image: the controller moves to `version` (its own
   * upgrade, which a real one reloads for), `ap image swap site-tag S` points
   * each AP's BOOT at the image, and `ap image reset site-tag S` reloads it.
   * Rejects naming an AP that refused the swap.
   */
  async activateBySite(version: string, echo: (line: string) => void): Promise<void> {
    this.controller.softwareVersion = version;
    for (const site of this.#siteNames()) {
      const refused = ((await this.#operator(`ap image swap site-tag ${site}`, echo)) as SiteResult[]).filter((r) => r.error !== undefined || r.resultCode !== ResultCode.Success);
      if (refused.length > 0) throw new Error(`image swap refused by ${refused.map((r) => `${r.ap} (${r.error ?? resultCodeName(r.resultCode!)})`).join(", ")}`);
    }
    for (const site of this.#siteNames()) await this.#operator(`ap image reset site-tag ${site}`, echo);
  }

  #siteNames(): string[] {
    if (!this.#sites) throw new Error("the lab has no sites");
    return Array.from({ length: this.#sites.count }, (_, i) => siteName(i));
  }

  /**
   * Run an operator command on the controller as its console would, echoing
   * the line and its answer; resolves with what the action it started
   * resolved with (a command that only reads: undefined).
   */
  #operator(line: string, echo: (line: string) => void): Promise<unknown> {
    let started: Promise<unknown> = Promise.resolve(undefined);
    const track = <T>(action: () => Promise<T>) => {
      const running = action();
      started = running;
      return running;
    };
    const c = this.controller;
    const answer = operatorCommand(line, {
      ...this.#operatorContext,
      actions: { predownloadSite: (...a) => track(() => c.predownloadSite(...a)), swapSite: (site) => track(() => c.swapSite(site)), resetSite: (site) => track(() => c.resetSite(site)) },
    });
    echo(`${this.controller.name}#${line}`);
    for (const l of answer.text.split("\n").filter((x) => x !== "")) echo(l);
    if (!answer.ok) return Promise.reject(new Error(`${line}: ${answer.text.trim()}`));
    return started;
  }

  /** Every AP in Run on the controller's version. */
  allUpgraded(): boolean {
    return this.allInRun() && this.aps.every((a) => a.engine?.running === this.controller.softwareVersion);
  }

  allInRun(): boolean {
    return this.aps.length === this.planned && this.controller.inRun === this.aps.length && this.aps.every((a) => a.wtp.state === "Run");
  }

  async stop(): Promise<void> {
    for (const c of this.#consoles) await c.close();
    for (const ap of this.aps) await ap.stop();
    await this.controller.shutdown();
    for (const wan of this.#wans) await wan.close();
    await this.#https?.close();
    await this.#fetching?.close();
    await this.#capture?.close();
    if (this.#ownDir) rmSync(this.#ownDir, { recursive: true, force: true });
  }
}

/** AP `i`'s base MAC: 02:00:00:00:00:01 for the first. */
function labMac(i: number): string {
  const n = i + 1;
  return `02:00:00:00:${(n >> 8).toString(16).padStart(2, "0")}:${(n & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * The lab's primaries serve on a port the kernel picks (every lab AP shares
 * one address, and port 69 needs root), and a subordinate turned away
 * retries within a second, not the 1–10 s a branch AP waits: a lab shows the
 * flow in seconds.
 */
const LAB_EFFICIENT_UPGRADE = { tftpPort: 0, retryBackoff: { min: "100ms", max: "1s" } } as const;

/** The controller's site tags: one per lab site, holding its APs' MACs, with the flex profile the lab was given. */
function siteTags(sites: LabSites, indexes: readonly number[], macsBySite: readonly string[][]): SiteTag[] {
  return indexes.map((i) => ({ name: siteName(i), flexProfile: { predownload: sites.efficient, ...(sites.tries !== undefined ? { tries: sites.tries } : {}) }, aps: macsBySite[i]! }));
}

/** HTTPS offers that name, for each AP, its own site's TCP relay when the sites sit behind WAN links. */
function labOffers(https: HttpsMethod, wans: readonly WanProxy[], siteOfMac: (mac: string) => number): OobOffers {
  const bySite = wans.map((wan) => https.offers(wan.relays.find((r) => r.protocol === "tcp")?.listen));
  if (bySite.length === 0) return https.offers();
  return { port: bySite[0]!.port, offer: (claims) => bySite[siteOfMac(claims.ap)]!.offer(claims) };
}

const ROLE_WORDS = { primary: "Primary", subordinate: "Subordinate" } as const;

/** The end-of-run table, one AP per line; Site and Role columns when the lab has sites. */
export function summaryTable(rows: readonly LabApRow[]): string {
  const sites = rows.some((r) => r.site !== undefined);
  const header = ["AP Name", "Model", "Class", ...(sites ? ["Site", "Role"] : []), "State", "Controller", "Version", "Reloads", "Restarts", "Start to Run", "Method"];
  const lines = rows.map((r) => [
    r.name,
    r.model,
    r.hardwareClass,
    ...(sites ? [r.site ?? "-", r.role ?? "-"] : []),
    r.state,
    r.controller,
    r.version,
    String(r.reloads),
    String(r.restarts),
    r.timeToRun === undefined ? "-" : `${(r.timeToRun / 1000).toFixed(2)} s`,
    r.method ?? "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

