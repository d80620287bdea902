/**
 * A volatile flash for sink-mode APs by the thousand (`vap fleet`, a large
 * `vap lab`): the boot record and each partition's record live in memory,
 * so a fleet touches no file per AP (a 1,000-AP lab spent its time in
 * mkdir, fsync and rename before this). It holds only what a sink-mode
 * partition holds — records, never an extracted image or a staged
 * download — and forgets everything when the process ends, as a fleet AP
 * is powered on afresh each run.
 */
import { type DurableFile, UsageError } from "../../agent/core/index.js";
import { type BootRecord, type FlashStore, type PartitionDraft, type PartitionName, SINK_RECORD } from "./flash.js";

/** The image a fleet AP ships with: a sink-mode record names its version and family only. */
export interface FactoryRecord {
  version: string;
  family: string;
}

export class MemoryFlash implements FlashStore {
  readonly root = "(volatile flash in memory)";
  #boot: BootRecord | undefined;
  readonly #partitions = new Map<PartitionName, Map<string, string>>();
  #beforeUpgradeLog = "";

  constructor(
    /** /tmp capacity, KiB (the hardware class's): nothing is ever staged there. */
    readonly tmpCapacityKiB: number,
    factory?: FactoryRecord,
  ) {
    if (factory) {
      this.#partitions.set("part2", new Map([[SINK_RECORD, JSON.stringify({ version: factory.version, family: factory.family, finalHash: "factory" })]]));
      this.#boot = { boot: "part2", lastReloadReason: "power on", reloads: 0 };
    }
  }

  async exists(): Promise<boolean> {
    return true;
  }

  async claim(): Promise<void> {}

  async release(): Promise<void> {}

  async recover(): Promise<string[]> {
    return [];
  }

  async readBoot(): Promise<BootRecord | undefined> {
    return this.#boot && { ...this.#boot };
  }

  async writeBoot(record: BootRecord): Promise<void> {
    this.#boot = { ...record };
  }

  async readPartitionFile(p: PartitionName, name: string): Promise<string> {
    const content = this.#partitions.get(p)?.get(name);
    if (content === undefined) throw new Error(`${p}/${name}: no such file`);
    return content;
  }

  async partitionEmpty(p: PartitionName): Promise<boolean> {
    return (this.#partitions.get(p)?.size ?? 0) === 0;
  }

  async replacePartition(p: PartitionName, fill: (draft: PartitionDraft) => Promise<void>): Promise<void> {
    const files = new Map<string, string>();
    await fill({
      get dir(): string {
        return recordsOnly("no image is extracted into it");
      },
      writeFile: async (name, content) => void files.set(name, content),
    });
    this.#partitions.set(p, files);
  }

  async writeBeforeUpgradeLog(line: string): Promise<void> {
    this.#beforeUpgradeLog = `${line}\n`;
  }

  /** What the last PREDOWNLOAD recorded before it ran (before-upgrade.log). */
  get beforeUpgradeLog(): string {
    return this.#beforeUpgradeLog;
  }

  async cleanTmp(): Promise<void> {}

  async tmpAvailableKiB(): Promise<number> {
    return this.tmpCapacityKiB;
  }

  partitionDir(): string {
    return recordsOnly("it has no partition directories");
  }

  get tmpDir(): string {
    return recordsOnly("it has no /tmp");
  }

  get stagedImage(): string {
    return this.stagedImagePath();
  }

  stagedImagePath(): string {
    return recordsOnly(NOT_STAGED);
  }

  async openStagedImage(): Promise<DurableFile> {
    return recordsOnly(NOT_STAGED);
  }

  async stageImageFile(): Promise<void> {
    recordsOnly(NOT_STAGED);
  }
}

const NOT_STAGED = "downloads are verified as they stream, not staged";

/** A directory-flash operation asked of a volatile flash: the caller's mistake (flash storage given a MemoryFlash). */
function recordsOnly(why: string): never {
  throw new UsageError(`a volatile flash holds sink-mode records only: ${why}`);
}
