/**
 * A download's way into the engine: PRECHECK once, then the bytes, then
 * PREDOWNLOAD (and ACTIVATE after a join); ABORT when the download fails.
 * The two storage modes differ only in where the bytes go.
 *
 * Calls run one after another, whenever they arrive, in one queue for all
 * the engine's downloads: an ABORT waits for the step in progress, so a file
 * being opened is closed and cleaned up rather than left behind, and the
 * next download's PRECHECK waits for the last one's ABORT. An ABORT that
 * arrives while PREDOWNLOAD installs lets the install finish (the standby
 * partition then holds a verified image, as after a predownload) but stops
 * ACTIVATE: BOOT stays where it was.
 */
import type { ImageVerifier } from "../../images/index.js";
import { type DurableFile, failpoint } from "../core/index.js";
import type { ImageDescription, ImageSink, ImageSinkResult } from "../transfer/index.js";
import type { UpgradeEngine } from "./engine.js";
import { type PartitionImage, type ScriptRun, UpgradeError } from "./types.js";

/**
 * Whether a download ends in ACTIVATE and a reboot (after a join), leaves the
 * image standing by (a predownload), or comes from the console
 * (`archive download-sw`: staged as /tmp/cli_part.tar, ACTIVATE, the reload
 * left to the operator).
 */
export type DownloadMode = "join" | "predownload" | "cli";

/** What a download's upgrade.sh run may differ in (ScriptRun's defaults otherwise). */
export type DownloadOptions = Partial<Pick<ScriptRun, "log" | "overwrite">>;

abstract class EngineSink implements ImageSink {
  #prechecked = false;
  #aborted: string | undefined;
  #aborting: Promise<void> | undefined;
  protected bytes = 0;
  protected readonly run: Partial<ScriptRun>;

  constructor(
    protected readonly engine: UpgradeEngine,
    private readonly mode: DownloadMode,
    options: DownloadOptions,
  ) {
    this.run = { ...options, cli: mode === "cli" };
  }

  get #log() {
    return this.run.log ?? this.engine.log;
  }

  precheck(): Promise<void> {
    return this.#step(async () => {
      await this.engine.precheck(this.#log);
      this.#prechecked = true;
    });
  }

  begin(image: ImageDescription): Promise<void> {
    return this.#step(async () => {
      if (!this.#prechecked) {
        await this.engine.precheck(this.#log);
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
        this.#log.warn(`upgrade.sh: ABORT (${this.#aborted}) came during PREDOWNLOAD: ${image.version} stays in ${this.engine.standby}, BOOT unchanged`);
        throw new UpgradeError(`download aborted: ${this.#aborted}`);
      }
      if (this.mode !== "predownload") await this.engine.activate(undefined, this.#log);
      return { reboot: this.mode === "join", version: image.version };
    });
  }

  /** ABORT runs once per download, however many parties call it (an HTTP source aborts its sink, then the WTP's starter does). */
  abort(reason: string): Promise<void> {
    this.#aborted ??= reason;
    this.#aborting ??= this.#queue(async () => {
      await this.close();
      await this.engine.abort(reason, this.#log);
    });
    return this.#aborting;
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

/** flash: stage /tmp/part.tar (/tmp/cli_part.tar from the console) as upgrade.sh does, and PREDOWNLOAD from it. */
export class StagingSink extends EngineSink {
  #file: DurableFile | undefined;

  protected async open(image: ImageDescription): Promise<void> {
    const available = await this.engine.flash.tmpAvailableKiB();
    if (image.size !== undefined && image.size > available * 1024) {
      throw new UpgradeError(`image of ${image.size} bytes does not fit in /tmp (${available} KiB available)`);
    }
    this.#file = await this.engine.flash.openStagedImage(this.run.cli ? "cli" : "download");
  }

  protected async store(chunk: Uint8Array): Promise<void> {
    if (!this.#file) throw new UpgradeError("image data before the image was announced");
    if (this.bytes > this.engine.flash.tmpCapacityKiB * 1024) throw new UpgradeError("/tmp is full");
    await this.#file.write(chunk);
  }

  protected async install(): Promise<PartitionImage> {
    const file = this.#file!;
    this.#file = undefined;
    await file.commit();
    failpoint("upgrade.staged");
    return this.engine.predownload(this.run);
  }

  protected async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.discard();
  }
}

/** sink: verify while the bytes stream and keep nothing but the result. */
export class VerifyingSink extends EngineSink {
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
    return this.engine.installVerified(verified, this.run);
  }

  protected async close(): Promise<void> {
    await this.#verifier?.abort();
    this.#verifier = undefined;
  }
}
