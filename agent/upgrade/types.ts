/** What the upgrade engine's callers see: its options, what a partition holds, the flash's state, its error. */
import type { ClassName, HardwareClass } from "../../platform/classes/index.js";
import type { FlashStore, PartitionName } from "../../platform/flash/index.js";
import type { SignaturePolicy } from "../../images/index.js";
import { type Log, VapError } from "../core/index.js";

export type StorageMode = "flash" | "sink";

export interface UpgradeEngineOptions {
  stateDir: string;
  hardwareClass: HardwareClass;
  storage: StorageMode;
  /** PEM of the image-signing roots the AP trusts. */
  trust: string;
  policy: SignaturePolicy;
  log: Log;
  /** The flash, when not the directory flash in stateDir: a fleet's volatile one in memory (MemoryFlash; sink storage only). */
  flash?: FlashStore;
}

/** One run of upgrade.sh for a download: where its lines go, and whether the console started it. */
export interface ScriptRun {
  /** Its upgrade.sh lines: the engine's log, or one that also shows them to the console's operator. */
  log: Log;
  /** From the console (`archive download-sw`): staged as /tmp/cli_part.tar, PREDOWNLOAD called with `-c`. */
  cli: boolean;
  /** From the console: replace a standby partition that already holds the image's version too (`/overwrite`). */
  overwrite: boolean;
}

export interface PartitionImage {
  version: string;
  family: ClassName;
}

/** One partition checked again (`show image integrity`). */
export interface PartitionIntegrity {
  partition: PartitionName;
  /** Each file of the image, hashed again (flash mode; empty in sink mode, or when the partition holds no file list). */
  files: { name: string; good: boolean }[];
  /** The image, when the whole of it verified (hashes, signature, family). */
  image?: PartitionImage;
  /** Why it did not (neither: the partition holds nothing). */
  problem?: string;
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

/** The version of a partition that holds no image. */
export const NO_VERSION = "0.0.0.0";

export class UpgradeError extends VapError {
  constructor(message: string, options?: ErrorOptions) {
    super("UPGRADE_FAILED", message, options);
  }
}
