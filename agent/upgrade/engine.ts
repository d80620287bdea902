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
import type { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ClassName, type HardwareClass } from "../../platform/classes/index.js";
import { Flash, otherPartition, type PartitionName } from "../../platform/flash/index.js";
import {
  directorySink,
  fileSource,
  hashOnlySink,
  imageLimits,
  ImageVerifier,
  rootsFor,
  type SignaturePolicy,
  type VerifiedImage,
  readImageDirectoryInfo,
  verifyImage,
  verifyImageDirectory,
} from "../../images/index.js";
import { ConfigError, describeError, failpoint, type Log, serial, UsageError, VapError, writeAll } from "../core/index.js";
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

/** What the engine keeps of the flash; FlashState derives the rest. */
interface Layout {
  active: PartitionName;
  boot: PartitionName;
  images: Record<PartitionName, PartitionImage | undefined>;
  lastReloadReason: string;
  fellBack?: string;
}

/** The options, the flash and the parsed roots: what reading and writing partitions needs. */
interface Context {
  options: UpgradeEngineOptions;
  flash: Flash;
  roots: readonly X509Certificate[];
}

export class UpgradeEngine {
  readonly #ctx: Context;
  #layout: Layout;
  /** The standby partition holds a verified image not yet activated. */
  #pending: PartitionImage | undefined;
  /** @internal Download steps run one at a time, across downloads (upgrade.sh's lock). */
  readonly downloadSteps = serial();

  private constructor(ctx: Context, layout: Layout) {
    this.#ctx = ctx;
    this.#layout = layout;
  }

  get flash(): Flash {
    return this.#ctx.flash;
  }

  get state(): FlashState {
    const { active, boot, images, lastReloadReason, fellBack } = this.#layout;
    const copy = (i: PartitionImage | undefined) => i && { ...i };
    return { active, boot, running: this.running, backup: this.backup, images: { part1: copy(images.part1), part2: copy(images.part2) }, lastReloadReason, ...(fellBack ? { fellBack } : {}) };
  }

  /** The version running now. */
  get running(): string {
    return this.#layout.images[this.#layout.active]!.version;
  }

  /** The standby partition's version, "0.0.0.0" when it holds no image. */
  get backup(): string {
    return this.#layout.images[this.standby]?.version ?? NO_VERSION;
  }

  get standby(): PartitionName {
    return otherPartition(this.#layout.active);
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
    const ctx = context(options);
    await ctx.flash.claim();
    try {
      for (const note of await ctx.flash.recover()) options.log.info(`flash: ${note}`);
      return new UpgradeEngine(ctx, await loadLayout(ctx));
    } catch (err) {
      await ctx.flash.release();
      throw err;
    }
  }

  /**
   * What `show version` / `show boot` print, for a flash a running AP may be
   * using: it verifies and reports, and writes nothing.
   */
  static async inspect(options: UpgradeEngineOptions): Promise<FlashState> {
    const ctx = context(options);
    if (!existsSync(ctx.flash.root)) throw new ConfigError(`${options.stateDir} holds no flash`);
    return new UpgradeEngine(ctx, await loadLayout(ctx)).state;
  }

  /** Verify an image file once, to provision many sink-mode flashes with it. */
  static async verifyFile(options: UpgradeEngineOptions, image: string): Promise<VerifiedImage> {
    const ctx = context(options);
    return verifyImage(fileSource(image), verifyOptions(ctx));
  }

  /**
   * Factory provisioning (`vap flash install`): install an image file into
   * the standby partition — part2 of an empty flash, the one BOOT names when
   * nothing on the flash is bootable — and make it the one BOOT names. A
   * sink-mode flash also takes an image verified before (verifyFile), so a
   * fleet checks each class's image once.
   */
  static async provision(options: UpgradeEngineOptions, image: string | VerifiedImage): Promise<PartitionImage> {
    const ctx = context(options);
    if (typeof image !== "string" && options.storage !== "sink") throw new UsageError("a flash-mode partition is extracted from the image file");
    await ctx.flash.claim();
    try {
      await ctx.flash.recover();
      const record = await ctx.flash.readBoot();
      let target: PartitionName;
      try {
        target = otherPartition((await loadLayout(ctx)).active);
      } catch (err) {
        if (!(err instanceof UpgradeError)) throw err;
        target = record?.boot ?? "part2";
      }
      const verified = typeof image === "string" ? await install(ctx, target, fileSource(image)) : await installRecord(ctx, target, image);
      await ctx.flash.writeBoot({ boot: target, lastReloadReason: "factory install", reloads: record?.reloads ?? 0 });
      return accepted(ctx, verified);
    } finally {
      await ctx.flash.release();
    }
  }

  /** Power off: let the last download step finish, then give up the flash. */
  async close(): Promise<void> {
    await this.settled();
    await this.flash.release();
  }

  /** upgrade.sh PRECHECK: clean /tmp and make sure it has the room the class needs. */
  async precheck(): Promise<void> {
    this.#phase("PRECHECK");
    const { log, hardwareClass } = this.#ctx.options;
    log.info("upgrade.sh: Cleanup tmp files ...");
    await this.flash.cleanTmp();
    const available = await this.flash.tmpAvailableKiB();
    const required = hardwareClass.tmpRequiredKiB;
    if (available < required) {
      log.warn(`upgrade.sh: /tmp space: NOT OK available ${available}, required ${required}`);
      throw new UpgradeError(`/tmp space: available ${available} KiB, required ${required} KiB`);
    }
    log.info(`upgrade.sh: /tmp space: OK available ${available}, required ${required} `);
  }

  /** Resolves once every download step queued so far has run (before a reload boots the flash again). */
  settled(): Promise<void> {
    return this.downloadSteps(async () => undefined);
  }

  /** @internal */
  get log(): Log {
    return this.#ctx.options.log;
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
    return this.#ctx.options.storage === "flash" ? new StagingSink(this, mode) : new VerifyingSink(this, mode);
  }

  /** upgrade.sh PREDOWNLOAD on the image staged in /tmp. */
  async predownload(): Promise<PartitionImage> {
    return this.#predownload((standby) => install(this.#ctx, standby, fileSource(this.flash.stagedImage)));
  }

  /** @internal PREDOWNLOAD of an image the sink-mode download verified as it streamed. */
  async installVerified(verified: VerifiedImage): Promise<PartitionImage> {
    return this.#predownload((standby) => installRecord(this.#ctx, standby, verified));
  }

  /** @internal a verifier for a download streaming into a sink-mode flash. */
  verifier(): ImageVerifier {
    return new ImageVerifier({ ...verifyOptions(this.#ctx), sink: hashOnlySink() });
  }

  /** upgrade.sh ACTIVATE: check the standby partition again, then point BOOT at it. */
  async activate(reason = "Image upgrade"): Promise<void> {
    this.#phase("ACTIVATE");
    const standby = this.standby;
    const checked = await verifyPartition(this.#ctx, standby);
    if (checked instanceof Error) throw new UpgradeError(`${standby} fails verification: ${checked.message}`);
    const record = await this.flash.readBoot();
    failpoint("upgrade.activate-verified");
    await this.flash.writeBoot({ boot: standby, lastReloadReason: reason, reloads: (record?.reloads ?? 0) + 1 });
    this.log.info(`activate ${standby}, set BOOT to ${standby}`);
    this.#layout.boot = standby;
    this.#pending = undefined;
  }

  /** upgrade.sh ABORT: clean /tmp; the partitions stay as they were. */
  async abort(reason: string): Promise<void> {
    this.#phase("ABORT");
    this.log.info(`upgrade.sh: Cleanup tmp files ... (${reason})`);
    await this.flash.cleanTmp();
  }

  /** The shared PREDOWNLOAD steps around an install. */
  async #predownload(install: (standby: PartitionName) => Promise<VerifiedImage>): Promise<PartitionImage> {
    this.#phase("PREDOWNLOAD");
    const { log, stateDir, hardwareClass } = this.#ctx.options;
    const standby = this.standby;
    log.info("upgrade.sh: Creating before-upgrade.log");
    await writeFile(join(stateDir, "before-upgrade.log"), `${JSON.stringify({ active: this.#layout.active, running: this.running, backup: this.backup, at: new Date().toISOString() })}\n`);
    log.info("upgrade.sh: Start doing upgrade arg1=PREDOWNLOAD arg2= arg3= ...");
    log.info(`upgrade.sh: Using image /tmp/part.tar on ${hardwareClass.name} ...`);
    log.info(`upgrade.sh: part to upgrade is ${standby}`);
    let image: PartitionImage;
    try {
      image = accepted(this.#ctx, await install(standby));
    } catch (err) {
      // The standby partition is replaced only once an install completes: it is as it was.
      throw err instanceof VapError ? err : new UpgradeError(describeError(err), { cause: err });
    } finally {
      await this.flash.cleanTmp();
    }
    this.#layout.images[standby] = image;
    this.#pending = image;
    const v = (p: PartitionName) => this.#layout.images[p]?.version ?? NO_VERSION;
    log.info(`upgrade.sh: AP version1: ${v("part1")}, version2: ${v("part2")}`);
    return image;
  }

  #phase(name: string): void {
    this.log.info(`upgrade.sh: Script called with args:[${name}]`);
    this.log.info(`do ${name}, ${this.#layout.active} is active part`);
  }
}

function context(options: UpgradeEngineOptions): Context {
  return { options, flash: new Flash(options.stateDir, options.hardwareClass.tmpKiB), roots: trustRoots(options) };
}

function verifyOptions({ options, roots }: Context) {
  return { limits: imageLimits(options.hardwareClass), policy: options.policy, trust: roots, family: options.hardwareClass.name };
}

/**
 * Which partition runs: the one BOOT names if it verifies, else the other
 * (and say so). Only the partition that runs is verified in full, as a real
 * AP's boot does; the other one's `info` names the backup version, and it is
 * verified again before ACTIVATE ever points BOOT at it. A flash without a
 * boot record boots part2, as a factory-fresh AP does, unless only part1 is
 * valid.
 */
async function loadLayout(ctx: Context): Promise<Layout> {
  const { flash, options } = ctx;
  const record = await flash.readBoot();
  const named = record?.boot ?? "part2";
  const other = otherPartition(named);
  const lastReloadReason = record?.lastReloadReason ?? "power on";
  const first = await verifyPartition(ctx, named);
  if (!(first instanceof Error)) {
    return { active: named, boot: named, images: { [named]: first, [other]: await peekPartition(ctx, other) } as Layout["images"], lastReloadReason };
  }
  const second = await verifyPartition(ctx, other);
  if (second instanceof Error) throw new UpgradeError(`no bootable image: ${named}: ${first.message}; ${other}: ${second.message}`);
  const images = { [named]: undefined, [other]: second } as Layout["images"];
  if (!record) return { active: other, boot: other, images, lastReloadReason };
  options.log.warn(`verify signature failed for /bootpart/${named}/: ${first.message}`);
  options.log.warn(`Booting ${other} instead of ${named}`);
  return { active: other, boot: named, images, lastReloadReason, fellBack: `${named}: ${first.message}` };
}

/** Verify what partition `p` holds (sink mode: its record). */
async function verifyPartition({ options, flash, roots }: Context, p: PartitionName): Promise<PartitionImage | Error> {
  const dir = flash.partitionDir(p);
  try {
    const image: PartitionImage =
      options.storage === "sink"
        ? (JSON.parse(await readFile(join(dir, RECORD), "utf8")) as PartitionImage)
        : await verifyImageDirectory(dir, { policy: options.policy, trust: roots, family: options.hardwareClass.name });
    if (image.family !== options.hardwareClass.name) return new Error(`image family ${image.family} is not ${options.hardwareClass.name}`);
    return { version: image.version, family: image.family };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** What partition `p` says it holds, unverified (undefined when it says nothing usable). */
async function peekPartition(ctx: Context, p: PartitionName): Promise<PartitionImage | undefined> {
  if (ctx.options.storage === "sink") {
    const checked = await verifyPartition(ctx, p);
    return checked instanceof Error ? undefined : checked;
  }
  try {
    const info = await readImageDirectoryInfo(ctx.flash.partitionDir(p));
    return info.family === ctx.options.hardwareClass.name ? { version: info.version, family: info.family } : undefined;
  } catch {
    return undefined;
  }
}

/** Verify a stream and install it in `p` (extracted in flash mode, as a record in sink mode). */
async function install(ctx: Context, p: PartitionName, source: AsyncIterable<Uint8Array>): Promise<VerifiedImage> {
  let verified: VerifiedImage | undefined;
  await ctx.flash.replacePartition(p, async (dir) => {
    if (ctx.options.storage === "flash") {
      verified = await verifyImage(source, { ...verifyOptions(ctx), sink: directorySink(dir) });
    } else {
      verified = await verifyImage(source, { ...verifyOptions(ctx), sink: hashOnlySink() });
      await writeRecord(dir, verified);
    }
  });
  return verified!;
}

/** Record an image verified elsewhere as a sink-mode partition's content. */
async function installRecord(ctx: Context, p: PartitionName, verified: VerifiedImage): Promise<VerifiedImage> {
  await ctx.flash.replacePartition(p, (dir) => writeRecord(dir, verified));
  return verified;
}

/** Log what upgrade.sh logs for an image it accepted. */
function accepted({ options }: Context, verified: VerifiedImage): PartitionImage {
  if (verified.policy === "structure-only") {
    options.log.warn("upgrade.sh: signature policy structure-only: the image's structure and hashes were checked, its signature was NOT");
  } else {
    options.log.info("Image signing verify success.");
  }
  return { version: verified.version, family: verified.family };
}

/** A trust file that holds no usable root is the operator's mistake, not a broken partition: say so before looking at the flash. */
function trustRoots(options: UpgradeEngineOptions): readonly X509Certificate[] {
  try {
    return rootsFor(options.policy, options.trust);
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
    this.#verifier = this.engine.verifier();
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
