/**
 * The AP's upgrade.sh (SPEC.md §4): PRECHECK before a download, PREDOWNLOAD
 * to verify the staged image and install it in the standby partition,
 * ACTIVATE to check it again and point BOOT at it, ABORT to clean up after
 * a failure, NO_UPGRADE when versions match — each logged as upgrade.sh
 * does. The active partition is never written; BOOT changes only after the
 * standby partition verified; at boot a partition that fails verification
 * is passed over for the other.
 *
 * Storage modes (DESIGN.md): `flash` keeps real files (the image staged in
 * /tmp, extracted into a partition directory); `sink` keeps only what each
 * partition holds (version, family, hash), so thousands of APs can run
 * upgrade storms on one host. Both verify signatures the same way.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ClassName, type HardwareClass } from "../../platform/classes/index.js";
import { Flash, otherPartition, PARTITIONS, type PartitionName } from "../../platform/flash/index.js";
import {
  directorySink,
  fileSource,
  hashOnlySink,
  imageLimits,
  ImageVerifier,
  rootsFor,
  type SignaturePolicy,
  type VerifiedImage,
  verifyImage,
  verifyImageDirectory,
} from "../../images/index.js";
import { ConfigError, describeError, failpoint, type Log, serial, VapError, writeAll } from "../core/index.js";
import type { ImageDescription, ImageSink, ImageSinkResult } from "../transfer/index.js";

export type StorageMode = "flash" | "sink";

export interface UpgradeEngineOptions {
  stateDir: string;
  hardwareClass: HardwareClass;
  storage: StorageMode;
  /** PEM of the image-signing roots the AP trusts. */
  trust: string;
  policy: SignaturePolicy;
  log: Log;
}

export interface PartitionImage {
  version: string;
  family: ClassName;
}

/** What `show version` / `show boot` report. */
export interface FlashState {
  /** The partition running now. */
  active: PartitionName;
  /** The partition BOOT names (differs from `active` after a fallback). */
  boot: PartitionName;
  running: string;
  /** The other partition's version, "0.0.0.0" when it holds no valid image. */
  backup: string;
  images: Record<PartitionName, PartitionImage | undefined>;
  lastReloadReason: string;
  /** Why boot passed over the partition BOOT names. */
  fellBack?: string;
}

export class UpgradeError extends VapError {
  constructor(message: string, options?: ErrorOptions) {
    super("UPGRADE_FAILED", message, options);
  }
}

const NO_VERSION = "0.0.0.0";
/** A sink-mode partition's content: what it would hold. */
const RECORD = "image.json";

export class UpgradeEngine {
  readonly flash: Flash;
  readonly #o: UpgradeEngineOptions;
  #state: FlashState;
  /** The standby partition holds a verified image not yet activated. */
  #pending: PartitionImage | undefined;
  /** @internal Download steps run one at a time, across downloads (upgrade.sh's lock). */
  readonly downloadSteps = serial();

  private constructor(options: UpgradeEngineOptions, flash: Flash, state: FlashState) {
    this.#o = options;
    this.flash = flash;
    this.#state = state;
  }

  get state(): FlashState {
    return structuredClone(this.#state);
  }

  get standby(): PartitionName {
    return otherPartition(this.#state.active);
  }

  /** The image a predownload left in the standby partition, ready for ACTIVATE. */
  get pending(): PartitionImage | undefined {
    return this.#pending && { ...this.#pending };
  }

  /**
   * Power on: claim the flash for this process, repair what a cut
   * interrupted, verify the partition BOOT names and fall back to the other
   * when it fails.
   * @throws UpgradeError when neither partition holds a valid image.
   * @throws ConfigError when another process (a running AP) uses the flash.
   */
  static async boot(options: UpgradeEngineOptions): Promise<UpgradeEngine> {
    checkTrust(options);
    const flash = new Flash(options.stateDir, options.hardwareClass.tmpKiB);
    await flash.claim();
    try {
      for (const note of await flash.recover()) options.log.info(`flash: ${note}`);
      return await UpgradeEngine.#load(options, flash);
    } catch (err) {
      await flash.release();
      throw err;
    }
  }

  /**
   * What `show version` / `show boot` print, for a flash a running AP may be
   * using: it verifies and reports, and writes nothing.
   */
  static async inspect(options: UpgradeEngineOptions): Promise<FlashState> {
    checkTrust(options);
    const flash = new Flash(options.stateDir, options.hardwareClass.tmpKiB);
    if (!existsSync(flash.root)) throw new ConfigError(`${options.stateDir} holds no flash`);
    return (await UpgradeEngine.#load(options, flash)).state;
  }

  /**
   * Factory provisioning (`vap flash install`): verify an image file and
   * install it into the standby partition — part2 of an empty flash, the
   * one BOOT names when nothing on the flash is bootable — and make it the
   * one BOOT names.
   */
  static async provision(options: UpgradeEngineOptions, image: string, reason = "factory install"): Promise<PartitionImage> {
    checkTrust(options);
    const flash = new Flash(options.stateDir, options.hardwareClass.tmpKiB);
    await flash.claim();
    try {
      await flash.recover();
      const record = await flash.readBoot();
      let target: PartitionName;
      try {
        target = (await UpgradeEngine.#load(options, flash)).standby;
      } catch (err) {
        if (!(err instanceof UpgradeError)) throw err;
        target = record?.boot ?? "part2";
      }
      const engine = new UpgradeEngine(options, flash, undefined as unknown as FlashState);
      const installed = await engine.#install(target, fileSource(image));
      await flash.writeBoot({ boot: target, lastReloadReason: reason, reloads: record?.reloads ?? 0 });
      return installed;
    } finally {
      await flash.release();
    }
  }

  /** Verify both partitions and decide which one runs (BOOT's, else the other). */
  static async #load(options: UpgradeEngineOptions, flash: Flash): Promise<UpgradeEngine> {
    const engine = new UpgradeEngine(options, flash, undefined as unknown as FlashState);
    const record = await flash.readBoot();
    const images = { part1: undefined, part2: undefined } as FlashState["images"];
    const failures: Partial<Record<PartitionName, string>> = {};
    for (const p of PARTITIONS) {
      const checked = await engine.#check(p);
      if (checked instanceof Error) failures[p] = checked.message;
      else images[p] = checked;
    }
    // A flash without a boot record boots part2, as a factory-fresh AP does, unless only part1 is valid.
    const named = record?.boot ?? (images.part1 && !images.part2 ? "part1" : "part2");
    let active = named;
    let fellBack: string | undefined;
    if (!images[named]) {
      const reason = failures[named] ?? "no image";
      if (record) options.log.warn(`verify signature failed for /bootpart/${named}/: ${reason}`);
      active = otherPartition(named);
      if (!images[active]) throw new UpgradeError(`no bootable image: ${named}: ${reason}; ${active}: ${failures[active] ?? "no image"}`);
      fellBack = `${named}: ${reason}`;
      options.log.warn(`Booting ${active} instead of ${named}`);
    }
    engine.#state = {
      active,
      boot: named,
      running: images[active]!.version,
      backup: images[otherPartition(active)]?.version ?? NO_VERSION,
      images,
      lastReloadReason: record?.lastReloadReason ?? "power on",
      ...(fellBack ? { fellBack } : {}),
    };
    return engine;
  }

  /** Power off: let the last download step finish, then give up the flash. */
  async close(): Promise<void> {
    await this.settled();
    await this.flash.release();
  }

  /** upgrade.sh PRECHECK: clean /tmp and make sure it has the room the class needs. */
  async precheck(): Promise<void> {
    this.#phase("PRECHECK");
    this.#o.log.info("upgrade.sh: Cleanup tmp files ...");
    await this.flash.cleanTmp();
    const available = await this.flash.tmpAvailableKiB();
    const required = this.#o.hardwareClass.tmpRequiredKiB;
    if (available < required) {
      this.#o.log.warn(`upgrade.sh: /tmp space: NOT OK available ${available}, required ${required}`);
      throw new UpgradeError(`/tmp space: available ${available} KiB, required ${required} KiB`);
    }
    this.#o.log.info(`upgrade.sh: /tmp space: OK available ${available}, required ${required} `);
  }

  /** Resolves once every download step queued so far has run (before a reload boots the flash again). */
  settled(): Promise<void> {
    return this.downloadSteps(async () => undefined);
  }

  /** @internal */
  get log(): Log {
    return this.#o.log;
  }

  /** upgrade.sh NO_UPGRADE: the controller runs our version. */
  noUpgrade(): void {
    this.#phase("NO_UPGRADE");
  }

  /**
   * A download's sink: stages the image (flash) or verifies it as it
   * streams (sink), then runs PREDOWNLOAD; a download after join also runs
   * ACTIVATE and asks for a reboot, a predownload keeps the image standing by.
   */
  downloadSink(mode: "join" | "predownload"): ImageSink {
    return this.#o.storage === "flash" ? new StagingSink(this, mode) : new VerifyingSink(this, mode);
  }

  /** upgrade.sh PREDOWNLOAD on the image staged in /tmp. */
  async predownload(): Promise<PartitionImage> {
    return this.#predownload(async (standby) => this.#install(standby, fileSource(this.flash.stagedImage)));
  }

  /** upgrade.sh ACTIVATE: check the standby partition again, then point BOOT at it. */
  async activate(reason = "Image upgrade"): Promise<void> {
    this.#phase("ACTIVATE");
    const standby = this.standby;
    const checked = await this.#check(standby);
    if (checked instanceof Error) throw new UpgradeError(`${standby} fails verification: ${checked.message}`);
    const record = await this.flash.readBoot();
    failpoint("upgrade.activate-verified");
    await this.flash.writeBoot({ boot: standby, lastReloadReason: reason, reloads: (record?.reloads ?? 0) + 1 });
    this.#o.log.info(`activate ${standby}, set BOOT to ${standby}`);
    this.#state.boot = standby;
    this.#pending = undefined;
  }

  /** upgrade.sh ABORT: clean /tmp; the partitions stay as they were. */
  async abort(reason: string): Promise<void> {
    this.#phase("ABORT");
    this.#o.log.info(`upgrade.sh: Cleanup tmp files ... (${reason})`);
    await this.flash.cleanTmp();
  }

  /** @internal the shared PREDOWNLOAD steps around an install. */
  async #predownload(install: (standby: PartitionName) => Promise<PartitionImage>): Promise<PartitionImage> {
    this.#phase("PREDOWNLOAD");
    const log = this.#o.log;
    const standby = this.standby;
    log.info("upgrade.sh: Creating before-upgrade.log");
    await writeFile(join(this.#o.stateDir, "before-upgrade.log"), `${JSON.stringify({ active: this.#state.active, running: this.#state.running, backup: this.#state.backup, at: new Date().toISOString() })}\n`);
    log.info("upgrade.sh: Start doing upgrade arg1=PREDOWNLOAD arg2= arg3= ...");
    log.info(`upgrade.sh: Using image /tmp/part.tar on ${this.#o.hardwareClass.name} ...`);
    log.info(`upgrade.sh: part to upgrade is ${standby}`);
    let image: PartitionImage;
    try {
      image = await install(standby);
    } catch (err) {
      // The standby partition is replaced only once an install completes: it is as it was.
      throw err instanceof VapError ? err : new UpgradeError(describeError(err), { cause: err });
    } finally {
      await this.flash.cleanTmp();
    }
    this.#state.images[standby] = image;
    this.#state.backup = image.version;
    this.#pending = image;
    const v = (p: PartitionName) => this.#state.images[p]?.version ?? NO_VERSION;
    log.info(`upgrade.sh: AP version1: ${v("part1")}, version2: ${v("part2")}`);
    return image;
  }

  /** @internal Verify a stream and install it in `p` (a directory, or its record). */
  async #install(p: PartitionName, source: AsyncIterable<Uint8Array>): Promise<PartitionImage> {
    const options = this.#verifyOptions();
    let verified: VerifiedImage | undefined;
    await this.flash.replacePartition(p, async (dir) => {
      if (this.#o.storage === "flash") {
        verified = await verifyImage(source, { ...options, sink: directorySink(dir) });
      } else {
        verified = await verifyImage(source, { ...options, sink: hashOnlySink() });
        await writeRecord(dir, verified);
      }
    });
    return this.#accepted(verified!);
  }

  /** @internal record a streamed-and-verified image as a sink-mode partition's content. */
  async installVerified(verified: VerifiedImage): Promise<PartitionImage> {
    return this.#predownload(async (standby) => {
      await this.flash.replacePartition(standby, (dir) => writeRecord(dir, verified));
      return this.#accepted(verified);
    });
  }

  /** @internal */
  verifyOptions() {
    return this.#verifyOptions();
  }

  #verifyOptions() {
    return {
      limits: imageLimits(this.#o.hardwareClass),
      policy: this.#o.policy,
      trust: this.#o.trust,
      family: this.#o.hardwareClass.name,
    };
  }

  #accepted(verified: VerifiedImage): PartitionImage {
    if (verified.policy === "structure-only") {
      this.#o.log.warn("upgrade.sh: signature policy structure-only: the image's structure and hashes were checked, its signature was NOT");
    } else {
      this.#o.log.info("Image signing verify success.");
    }
    return { version: verified.version, family: verified.family as ClassName };
  }

  /** Verify what partition `p` holds. */
  async #check(p: PartitionName): Promise<PartitionImage | Error> {
    const dir = this.flash.partitionDir(p);
    try {
      if (this.#o.storage === "sink") {
        const record = JSON.parse(await readFile(join(dir, RECORD), "utf8")) as PartitionImage;
        if (record.family !== this.#o.hardwareClass.name) return new Error(`image family ${record.family} is not ${this.#o.hardwareClass.name}`);
        return record;
      }
      const verified = await verifyImageDirectory(dir, { policy: this.#o.policy, trust: this.#o.trust, family: this.#o.hardwareClass.name });
      return { version: verified.version, family: verified.family as ClassName };
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  #phase(name: string): void {
    this.#o.log.info(`upgrade.sh: Script called with args:[${name}]`);
    this.#o.log.info(`do ${name}, ${this.#state?.active ?? "part2"} is active part`);
  }
}

/** A trust file that holds no usable root is the operator's mistake, not a broken partition: say so before looking at the flash. */
function checkTrust(options: UpgradeEngineOptions): void {
  try {
    rootsFor(options.policy, options.trust);
  } catch (err) {
    throw new ConfigError(`image-signing trust: ${describeError(err)}`, { cause: err });
  }
}

async function writeRecord(dir: string, verified: VerifiedImage): Promise<void> {
  const image: PartitionImage & { finalHash: string } = { version: verified.version, family: verified.family as ClassName, finalHash: verified.finalHash };
  const fh = await open(join(dir, RECORD), "w", 0o644);
  try {
    await fh.writeFile(JSON.stringify(image));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A download's way into the engine: PRECHECK once, then the bytes, then
 * PREDOWNLOAD (and ACTIVATE after a join); ABORT when the download fails.
 * The two storage modes differ only in where the bytes go.
 *
 * Calls run one after another, whenever they arrive, in one queue for all
 * the engine's downloads: an ABORT waits for the step in progress, so a file
 * being opened is closed and cleaned up rather than left behind, and the
 * next download's PRECHECK waits for the last one's ABORT. An ABORT that arrives while PREDOWNLOAD installs lets the
 * install finish (the standby partition then holds a verified image, as after
 * a predownload) but stops ACTIVATE: BOOT stays where it was.
 */
abstract class EngineSink implements ImageSink {
  #prechecked = false;
  #aborted: string | undefined;
  protected bytes = 0;

  constructor(
    protected readonly engine: UpgradeEngine,
    private readonly mode: "join" | "predownload",
  ) {}

  precheck(): Promise<void> {
    return this.#step(async () => {
      await this.engine.precheck();
      this.#prechecked = true;
    });
  }

  begin(image: ImageDescription): Promise<void> {
    return this.#step(async () => {
      if (!this.#prechecked) {
        await this.engine.precheck();
        this.#prechecked = true;
      }
      this.bytes = 0;
      await this.open(image);
    });
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#step(async () => {
      this.bytes += chunk.length;
      await this.store(chunk);
    });
  }

  finish(): Promise<ImageSinkResult> {
    return this.#step(async () => {
      const image = await this.install();
      if (this.#aborted !== undefined) {
        this.engine.log.warn(`upgrade.sh: ABORT (${this.#aborted}) came during PREDOWNLOAD: ${image.version} stays in ${this.engine.standby}, BOOT unchanged`);
        throw new UpgradeError(`download aborted: ${this.#aborted}`);
      }
      if (this.mode === "join") await this.engine.activate();
      return { reboot: this.mode === "join", version: image.version };
    });
  }

  abort(reason: string): Promise<void> {
    this.#aborted ??= reason;
    return this.#queue(async () => {
      await this.close();
      await this.engine.abort(reason);
    });
  }

  #queue<T>(step: () => Promise<T>): Promise<T> {
    return this.engine.downloadSteps(step);
  }

  /** A step of the download, refused once it was aborted. */
  #step<T>(step: () => Promise<T>): Promise<T> {
    return this.#queue(() => (this.#aborted === undefined ? step() : Promise.reject(new UpgradeError(`download aborted: ${this.#aborted}`))));
  }

  protected abstract open(image: ImageDescription): Promise<void>;
  protected abstract store(chunk: Uint8Array): Promise<void>;
  /** PREDOWNLOAD: install what arrived in the standby partition. */
  protected abstract install(): Promise<PartitionImage>;
  /** Drop whatever is open (safe when nothing is). */
  protected abstract close(): Promise<void>;
}

/** flash: stage /tmp/part.tar as upgrade.sh does, and PREDOWNLOAD from it. */
class StagingSink extends EngineSink {
  #file: Awaited<ReturnType<typeof open>> | undefined;

  protected async open(image: ImageDescription): Promise<void> {
    const available = await this.engine.flash.tmpAvailableKiB();
    if (image.size !== undefined && image.size > available * 1024) {
      throw new UpgradeError(`image of ${image.size} bytes does not fit in /tmp (${available} KiB available)`);
    }
    await mkdir(this.engine.flash.tmpDir, { recursive: true });
    this.#file = await open(this.engine.flash.stagedImage, "w", 0o600);
  }

  protected async store(chunk: Uint8Array): Promise<void> {
    if (!this.#file) throw new UpgradeError("image data before the image was announced");
    if (this.bytes > this.engine.flash.tmpCapacityKiB * 1024) throw new UpgradeError("/tmp is full");
    await writeAll(this.#file, chunk);
  }

  protected async install(): Promise<PartitionImage> {
    const file = this.#file!;
    this.#file = undefined;
    await file.sync();
    await file.close();
    failpoint("upgrade.staged");
    return this.engine.predownload();
  }

  protected async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => undefined);
  }
}

/** sink: verify while the bytes stream and keep nothing but the result. */
class VerifyingSink extends EngineSink {
  #verifier: ImageVerifier | undefined;

  protected async open(): Promise<void> {
    this.#verifier = new ImageVerifier({ ...this.engine.verifyOptions(), sink: hashOnlySink() });
  }

  protected async store(chunk: Uint8Array): Promise<void> {
    await this.#verifier!.write(chunk);
  }

  protected async install(): Promise<PartitionImage> {
    const verified = await this.#verifier!.end();
    this.#verifier = undefined;
    return this.engine.installVerified(verified);
  }

  protected async close(): Promise<void> {
    await this.#verifier?.abort();
    this.#verifier = undefined;
  }
}
