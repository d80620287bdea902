/**
 * One AP: its configuration turned into a running WTP on real UDP sockets,
 * with DTLS credentials from files, its flash and upgrade engine when it
 * manages images, optional packet capture and DTLS key log. A reload (a
 * Reset Request, a new image) stops the session, boots the flash again —
 * verifying the partition BOOT names — and starts a new session on the
 * version that booted. `vap run`, `vap lab` and the fleet build on this.
 */
import { resolve4 } from "node:dns/promises";
import { join } from "node:path";
import type { ApConfig } from "../config/index.js";
import { describeError, readOperatorFile, systemClock, systemRandom, type Log } from "../core/index.js";
import { bindUdp, localAddressToward, sharedPortBinder } from "../net/index.js";
import { CAPWAP_DATA_PORT } from "../capwap/codec/index.js";
import { type DtlsContext, keylogFileSink } from "../capwap/dtls/index.js";
import { type ImageDownload, type ImageSources, Wtp, type WtpOptions } from "../capwap/wtp/index.js";
import { CaptureFile } from "../pcap/index.js";
import { capwapImageSource, oobImageSource, primaryImageSource } from "../transfer/index.js";
import { UpgradeEngine, type UpgradeEngineOptions } from "../upgrade/index.js";
import { type ApConsole, type CapwapView, type ConsoleHost, createApConsole, LOG_RING_LINES } from "../console/index.js";
import type { FlashStore } from "../../platform/flash/index.js";
import { apDtlsContext, type PemCredentials } from "./credentials.js";
import { type DownloadEvent, DownloadWatch } from "./download-watch.js";
import { LogRing } from "./log-ring.js";
import { PrimaryImageServer, type PrimaryServerStatus } from "./primary.js";
import { loadPrivateConfig, type PrivateConfig, savePrivateConfig, withPrivateConfig } from "./private-config.js";

export interface ApRuntimeOptions {
  log: Log;
  /** Write the plaintext CAPWAP exchange here (pcap). */
  pcap?: string;
  /** Append DTLS secrets here (SSLKEYLOGFILE format). */
  keylog?: string;
  /** Extra WTP options (state hooks, tests). */
  wtp?: Partial<WtpOptions>;
  /** A DTLS client context built elsewhere, instead of one from the configured credentials (tests). */
  dtls?: DtlsContext;
  /** The certificate, key and CA in memory instead of the files dtls names (a fleet's or a large lab's, issued without a file). */
  pem?: PemCredentials;
  /** PEM of the image-signing roots, instead of reading image.trust: a fleet reads it once for all. */
  imageTrust?: string;
  /** The flash, instead of the directory flash in stateDir: a fleet's volatile one (MemoryFlash, sink storage); the private config is then volatile too. */
  flash?: FlashStore;
  /** Control and data from one UDP port (sharedPortBinder): one descriptor per AP, for a fleet of thousands in one process. */
  singlePort?: boolean;
  /** How many console lines the AP keeps for `show logging` (default LOG_RING_LINES; a fleet of thousands keeps few). */
  logLines?: number;
  /** Each image download's start and end (a fleet's metrics). */
  onDownload?: (event: DownloadEvent) => void;
}

export interface RunningAp {
  /** The current CAPWAP session (a reload starts a new one). */
  readonly wtp: Wtp;
  /** The flash and its upgrade engine, when the AP manages images. */
  readonly engine: UpgradeEngine | undefined;
  readonly capture: CaptureFile | undefined;
  /** How often this AP reloaded since it started. */
  readonly reloads: number;
  /** Efficient image upgrade: the TFTP server this AP runs as its site's primary, while it serves. */
  readonly primaryServer: PrimaryServerStatus | undefined;
  /** The AP's console: sessions for its transports (terminal, SSH, `vap console`). */
  readonly console: ApConsole;
  /** Resolves with the reason when the AP cannot go on: a reload found nothing to boot or could not start a session. */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

export async function startAp(config: ApConfig, options: ApRuntimeOptions): Promise<RunningAp> {
  const ring = new LogRing(options.log, systemClock, options.logLines ?? LOG_RING_LINES);
  const { log } = ring;
  // A volatile AP (a fleet's, its flash in memory) keeps its private config in memory too: no file per AP.
  const persistent = options.flash === undefined;
  let privateConfig = persistent ? await loadPrivateConfig(config.stateDir, log) : {};
  /** The config file's settings with what the console set on top: what each new CAPWAP session runs with. */
  let current = withPrivateConfig(config, privateConfig);
  let bootedAt = systemClock.wallNow();
  const capture = options.pcap ? CaptureFile.open(options.pcap, (err) => log.warn(err.message)) : undefined;
  const dtls = options.dtls ?? apDtlsContext(config.dtls, options.keylog ? keylogFileSink(options.keylog) : undefined, options.pem);
  const engineOptions = config.image && upgradeOptions(config, log, options);
  let engine = engineOptions ? await UpgradeEngine.boot(engineOptions) : undefined;
  if (!engine) log.warn("No image trust configured (image.trust): firmware upgrades are disabled");
  let reloads = 0;
  let stopped = false;
  const imageName = config.identity.classProfile.name;
  const primary = new PrimaryImageServer({ dir: join(config.stateDir, "primary"), imageName, port: config.efficientUpgrade.tftpPort, log });
  const watch = options.onDownload ? new DownloadWatch(systemClock, options.onDownload) : undefined;
  // Every source fills the same sink: the upgrade engine's, for this download's mode; a primary's download is also kept, to serve.
  const engineSink = (download: ImageDownload) => (download.efficient?.role === "primary" ? primary.keeping(engine!.downloadSink(download.mode)) : engine!.downloadSink(download.mode));
  const imageSink = { imageName, sink: watch ? (download: ImageDownload) => watch.sink(engineSink(download)) : engineSink };
  const controllerCa = engine && config.dtls.mode === "x509" ? (options.pem?.ca ?? readOperatorFile(config.dtls.ca, "dtls.ca")) : undefined;
  // An AP bound to one address downloads from it too, as a real AP with its one interface.
  const { bindAddress } = config.discovery;
  const localAddress = bindAddress !== "0.0.0.0" && bindAddress !== "::" ? { localAddress: bindAddress } : {};

  const bindSocket = () => bindUdp({ address: config.discovery.bindAddress, broadcast: config.discovery.broadcast });
  const session = (): Wtp =>
    new Wtp({
      config: current,
      ...(dtls ? { dtls } : {}),
      clock: systemClock,
      random: systemRandom,
      log,
      network: {
        bind: options.singlePort ? sharedPortBinder(bindSocket, CAPWAP_DATA_PORT) : bindSocket,
        resolve: (name) => resolve4(name),
        localAddressToward,
      },
      versions: () => (engine ? { running: engine.running, backup: engine.backup } : config.versions),
      ...(engine
        ? {
            imageSources: watched({
              capwap: capwapImageSource({ ...imageSink, clock: systemClock, startTimeoutMs: config.timers.imageDataStartMs }),
              // Out of band needs the controller's CA to check its HTTPS server: certificate (x509) DTLS only.
              ...(controllerCa !== undefined ? { https: oobImageSource({ ...imageSink, ca: controllerCa, clock: systemClock, stallTimeoutMs: config.oob.stallTimeoutMs, ...localAddress }) } : {}),
              tftp: primaryImageSource({ ...imageSink, clock: systemClock }),
            }),
            onNoUpgrade: () => engine!.noUpgrade(),
            serveImage: (_version: string, address: string) => primary.serve(address),
            stopServing: () => void primary.close().catch((err: unknown) => log.warn(`Efficient image upgrade: the TFTP server did not close cleanly: ${describeError(err)}`)),
            swap: (version: string) => swap(version),
          }
        : {}),
      ...(capture ? { capture: capture.record } : {}),
      ...options.wtp,
      onReboot: (reason, version) => reload(reason, version),
    });

  const watched = (sources: ImageSources): ImageSources => (watch ? watch.sources(sources) : sources);
  let wtp = session();
  let reloading: Promise<void> | undefined;
  let fail!: (err: Error) => void;
  const failed = new Promise<Error>((resolve) => (fail = resolve));

  /** `noted`: the reason is recorded for the next boot's Last reload reason (a console reload; a download's ACTIVATE records its own). */
  function reload(reason: string, version?: string, noted = false): void {
    reloading ??= reloadOnce(reason, version, noted).finally(() => (reloading = undefined));
  }

  /** ImageSwap: ACTIVATE the predownloaded `version` (BOOT names it) without a reload, once the download steps under way are done. */
  async function swap(version: string): Promise<void> {
    await engine!.settled();
    const pending = engine!.pending?.version;
    if (pending !== version) throw new Error(`no predownloaded ${version} stands by (${pending ? `${pending} does` : "none does"})`);
    await engine!.activate(`Image swap to ${version}`);
  }

  /** Stop the session, let a download's last step (an ABORT) finish, boot the flash again, start anew — unless stop() came meanwhile. */
  async function reloadOnce(reason: string, version: string | undefined, noted: boolean): Promise<void> {
    try {
      await wtp.stop();
      await primary.close();
      await engine?.settled();
      if (stopped) return;
      if (noted) await engine?.noteReload(reason);
      // A Reset Request naming the predownloaded image: swap to it first (ACTIVATE).
      if (engine && version && engine.pending?.version === version) await engine.activate(`Reset Request: swap to ${version}`);
      if (engineOptions) engine = await UpgradeEngine.boot(engineOptions);
      if (stopped) return;
      reloads++;
      bootedAt = systemClock.wallNow();
      log.info(`Last reload reason: ${engine?.state.lastReloadReason ?? reason}`);
      wtp = session();
      await wtp.start();
    } catch (err) {
      log.error(`Reload failed: ${describeError(err)}`);
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** A new CAPWAP session on the same boot (the console changed its name or controller): rediscovery, no reload. */
  function renew(reason: string): Promise<void> {
    return (reloading ??= renewOnce(reason).finally(() => (reloading = undefined)));
  }

  async function renewOnce(reason: string): Promise<void> {
    try {
      log.info(`Going to restart CAPWAP (reason : ${reason})...`);
      await wtp.stop();
      if (stopped) return;
      wtp = session();
      await wtp.start();
    } catch (err) {
      log.error(`CAPWAP restart failed: ${describeError(err)}`);
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async function setPrivateConfig(next: PrivateConfig, reason: string): Promise<void> {
    privateConfig = next;
    current = withPrivateConfig(config, privateConfig);
    if (persistent) await savePrivateConfig(config.stateDir, privateConfig);
    await renew(reason);
  }

  const host: ConsoleHost = {
    get name() {
      return current.identity.name;
    },
    identity: config.identity,
    login: config.console,
    oobEnabled: config.oob.enabled,
    capwap: (): CapwapView => ({ state: wtp.state, controller: wtp.controller, pathMtu: wtp.pathMtu, restartReason: wtp.restartReason, efficient: efficientState(wtp, primary.status) }),
    get engine() {
      return engine;
    },
    versions: config.versions,
    get bootedAt() {
      return bootedAt;
    },
    now: () => systemClock.wallNow(),
    log,
    ...(controllerCa !== undefined ? { ca: controllerCa } : {}),
    logLines: () => ring.lines(),
    onLine: (listener) => ring.onLine(listener),
    reload: (reason) => reload(reason, undefined, true),
    restartCapwap: (reason) => wtp.restart(reason),
    setName: (name) => setPrivateConfig({ ...privateConfig, hostname: name }, `AP name changed to ${name}`),
    setPrimaryBase: (name, address) => setPrivateConfig({ ...privateConfig, primaryBase: { name, address } }, `primary controller set to ${name} ${address}`),
    clearPrivateConfig: () => setPrivateConfig({}, "private config cleared"),
  };

  await wtp.start();
  return {
    console: createApConsole(host),
    get wtp() {
      return wtp;
    },
    get engine() {
      return engine;
    },
    capture,
    get reloads() {
      return reloads;
    },
    get primaryServer() {
      return primary.status;
    },
    failed,
    async stop() {
      stopped = true;
      await reloading;
      await wtp.stop();
      await primary.close();
      await engine?.close();
      await capture?.close();
    },
  };
}

function upgradeOptions(config: ApConfig, log: Log, options: ApRuntimeOptions): UpgradeEngineOptions {
  const image = config.image!;
  const trust = options.imageTrust ?? readOperatorFile(image.trust, "image.trust");
  return { stateDir: config.stateDir, hardwareClass: config.identity.classProfile, storage: image.storage, trust, policy: image.policy, log, ...(options.flash ? { flash: options.flash } : {}) };
}

/** Efficient image upgrade as `show capwap client rcb` says it: this AP's part in one, if any. */
function efficientState(wtp: Wtp, server: PrimaryServerStatus | undefined): string {
  if (server) return `Primary, serving (${server.activeTransfers} transfers now, ${server.peakTransfers} at most)`;
  const efficient = wtp.download?.efficient;
  if (!efficient) return "Idle";
  if (efficient.role === "primary") return "Primary, downloading from the controller";
  return `Subordinate, try ${efficient.attempt} of ${efficient.tries}`;
}
