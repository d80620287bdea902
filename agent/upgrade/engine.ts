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
 * upgrade storms on one host. Both verify signatures the same way. Every
 * file the engine keeps is read and written through its Flash.
 */
import { type FlashStore, otherPartition, type PartitionName, STAGED_IMAGES } from "../../platform/flash/index.js";
import { fileSource, hashOnlySink, ImageVerifier, verifyImage, type VerifiedImage } from "../../images/index.js";
import { ConfigError, describeError, failpoint, type Log, serial, UsageError, VapError } from "../core/index.js";
import type { ImageSink } from "../transfer/index.js";
import { type Context, context, verifyOptions } from "./context.js";
import { type DownloadMode, type DownloadOptions, StagingSink, VerifyingSink } from "./download-sink.js";
import { accepted, install, installRecord, type Layout, loadLayout, partitionHash, partitionIntegrity, verifyPartition } from "./partitions.js";
import { type FlashState, NO_VERSION, type PartitionImage, type PartitionIntegrity, type ScriptRun, UpgradeError, type UpgradeEngineOptions } from "./types.js";

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

  get flash(): FlashStore {
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
    if (!(await ctx.flash.exists())) throw new ConfigError(`${options.stateDir} holds no flash`);
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
      return accepted(options.log, verified);
    } finally {
      await ctx.flash.release();
    }
  }

  /** Power off: let the last download step finish, then give up the flash. */
  async close(): Promise<void> {
    await this.settled();
    await this.flash.release();
  }

  /** Both partitions checked again, file by file and whole (`show image integrity`), between download steps: never a half-written partition. */
  integrity(): Promise<PartitionIntegrity[]> {
    return this.downloadSteps(async () => [await partitionIntegrity(this.#ctx, "part1"), await partitionIntegrity(this.#ctx, "part2")]);
  }

  /** The final_hash of the image partition `p` holds (`show version`'s Boot Image Hash lines), unverified. */
  imageHash(p: PartitionName): Promise<string | undefined> {
    return partitionHash(this.#ctx, p);
  }

  /** A reload asked for by name (the console's `reload`): the next boot's Last reload reason; BOOT stays as it is. */
  async noteReload(reason: string): Promise<void> {
    await this.settled();
    const record = await this.flash.readBoot();
    await this.flash.writeBoot({ boot: record?.boot ?? this.#layout.boot, lastReloadReason: reason, reloads: (record?.reloads ?? 0) + 1 });
  }

  /** upgrade.sh PRECHECK: clean /tmp and make sure it has the room the class needs. */
  async precheck(log = this.log): Promise<void> {
    this.#phase(log, "PRECHECK");
    const { hardwareClass } = this.#ctx.options;
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
    this.#phase(this.log, "NO_UPGRADE");
  }

  /**
   * A download's sink: stages the image (flash) or verifies it as it
   * streams (sink), then runs PREDOWNLOAD; a download after join also runs
   * ACTIVATE and asks for a reboot, a predownload keeps the image standing by,
   * the console's (`archive download-sw`) runs ACTIVATE and leaves the reload
   * to its operator.
   */
  downloadSink(mode: DownloadMode, options: DownloadOptions = {}): ImageSink {
    return this.#ctx.options.storage === "flash" ? new StagingSink(this, mode, options) : new VerifyingSink(this, mode, options);
  }

  /** upgrade.sh PREDOWNLOAD on the image staged in /tmp (/tmp/cli_part.tar for a `run` from the console). */
  async predownload(run: Partial<ScriptRun> = {}): Promise<PartitionImage> {
    const staged = () => fileSource(this.flash.stagedImagePath(run.cli ? "cli" : "download"));
    const verifyStaged = () => verifyImage(staged(), { ...verifyOptions(this.#ctx), sink: hashOnlySink() });
    return this.#predownload(this.#run(run), verifyStaged, (standby) => install(this.#ctx, standby, staged()));
  }

  /** @internal PREDOWNLOAD of an image the sink-mode download verified as it streamed. */
  async installVerified(verified: VerifiedImage, run: Partial<ScriptRun> = {}): Promise<PartitionImage> {
    return this.#predownload(this.#run(run), async () => verified, (standby) => installRecord(this.#ctx, standby, verified));
  }

  /** @internal a verifier for a download streaming into a sink-mode flash. */
  verifier(): ImageVerifier {
    return new ImageVerifier({ ...verifyOptions(this.#ctx), sink: hashOnlySink() });
  }

  /** upgrade.sh ACTIVATE: check the standby partition again, then point BOOT at it. */
  async activate(reason = "Image upgrade", log = this.log): Promise<void> {
    this.#phase(log, "ACTIVATE");
    const standby = this.standby;
    const checked = await verifyPartition(this.#ctx, standby);
    if (checked instanceof Error) throw new UpgradeError(`${standby} fails verification: ${checked.message}`);
    const record = await this.flash.readBoot();
    failpoint("upgrade.activate-verified");
    await this.flash.writeBoot({ boot: standby, lastReloadReason: reason, reloads: (record?.reloads ?? 0) + 1 });
    log.info(`activate ${standby}, set BOOT to ${standby}`);
    this.#layout.boot = standby;
    this.#pending = undefined;
  }

  /** upgrade.sh ABORT: clean /tmp; the partitions stay as they were. */
  async abort(reason: string, log = this.log): Promise<void> {
    this.#phase(log, "ABORT");
    log.info(`upgrade.sh: Cleanup tmp files ... (${reason})`);
    await this.flash.cleanTmp();
  }

  /** A run's defaults: the engine's log, not from the console. */
  #run(run: Partial<ScriptRun>): ScriptRun {
    return { log: this.log, cli: false, overwrite: false, ...run };
  }

  /**
   * The shared PREDOWNLOAD steps around an install. From the console without
   * /overwrite, a standby partition that holds the image's version already
   * is kept as it is (`verified` tells the version, once the signature checked).
   */
  async #predownload(run: ScriptRun, verified: () => Promise<VerifiedImage>, install: (standby: PartitionName) => Promise<VerifiedImage>): Promise<PartitionImage> {
    const { log, cli } = run;
    this.#phase(log, "PREDOWNLOAD", cli ? "-c PREDOWNLOAD" : "PREDOWNLOAD");
    const { hardwareClass } = this.#ctx.options;
    const standby = this.standby;
    log.info("upgrade.sh: Creating before-upgrade.log");
    await this.flash.writeBeforeUpgradeLog(JSON.stringify({ active: this.#layout.active, running: this.running, backup: this.backup, at: new Date().toISOString() }));
    log.info(`upgrade.sh: Start doing upgrade arg1=PREDOWNLOAD arg2=${cli ? ",from_cli" : ""} arg3= ...`);
    log.info(`upgrade.sh: Using image /tmp/${STAGED_IMAGES[cli ? "cli" : "download"]} on ${hardwareClass.name} ...`);
    log.info(`upgrade.sh: part to upgrade is ${standby}`);
    let image: PartitionImage;
    try {
      const present = this.#layout.images[standby]?.version;
      const kept = cli && !run.overwrite && present !== undefined ? await verified() : undefined;
      if (kept !== undefined && kept.version === present) {
        log.info(`upgrade.sh: ${present} is already present in ${standby}: kept (/overwrite replaces it)`);
        image = accepted(log, kept);
      } else {
        image = accepted(log, await install(standby));
      }
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

  /** upgrade.sh's first two lines: the arguments it was called with (`-c PREDOWNLOAD` from the console), the phase it does. */
  #phase(log: Log, name: string, args = name): void {
    log.info(`upgrade.sh: Script called with args:[${args}]`);
    log.info(`do ${name}, ${this.#layout.active} is active part`);
  }
}
