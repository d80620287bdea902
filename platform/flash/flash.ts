/**
 * An AP's dual-partition flash in its state directory (SPEC.md §4):
 *
 *   flash/part1/, flash/part2/   the two image partitions
 *   flash/boot                   the boot record: which partition BOOT names,
 *                                the last reload reason (JSON)
 *   flash/tmp/                   /tmp: the staged download (part.tar, or
 *                                cli_part.tar from the console), with the
 *                                class's space limit
 *   flash/owner                  the process using the flash (pid, boot id/start time)
 *   before-upgrade.log           what ran before the last PREDOWNLOAD (beside
 *                                flash/, where upgrade.sh keeps it)
 *
 * The boot record is replaced atomically (write a temporary file, fsync,
 * rename, fsync the directory) and a partition is replaced by building the
 * new one beside it and swapping, so a power cut at any instant leaves a
 * record naming a complete partition. `recover()` finishes or undoes
 * whatever a cut interrupted; /tmp is volatile and starts empty.
 *
 * Every file the upgrade engine keeps goes through here, and every file
 * written to last is written through core's DurableFile.
 */
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, createDurableFile, type DurableFile, failpoint, writeFileDurably } from "../../agent/core/index.js";
import { currentOwner, formatOwner, ownerAlive, parseOwner, sameOwner } from "./owner.js";

/** The flash's files are world-readable, as on an AP; an unverified download in /tmp is readable by its owner only. */
const FILE_MODE = 0o644;
const STAGED_IMAGE_MODE = 0o600;

/** upgrade.sh's staged download: /tmp/part.tar, or /tmp/cli_part.tar for one the console started (`archive download-sw`). */
export const STAGED_IMAGES = { download: "part.tar", cli: "cli_part.tar" } as const;
export type StagedImage = keyof typeof STAGED_IMAGES;

export type PartitionName = "part1" | "part2";

/** What a sink-mode partition holds: one record file naming the image it would hold (version, family, final hash). */
export const SINK_RECORD = "image.json";
export const PARTITIONS: readonly PartitionName[] = ["part1", "part2"];

export function otherPartition(p: PartitionName): PartitionName {
  return p === "part1" ? "part2" : "part1";
}

export interface BootRecord {
  /** The partition BOOT names. */
  boot: PartitionName;
  lastReloadReason: string;
  reloads: number;
}

/** A partition being built beside the live one (Flash.replacePartition). */
export interface PartitionDraft {
  /** Its directory: an image extracts into it. */
  readonly dir: string;
  /** Write a file into it (durably: the swap makes it live). */
  writeFile(name: string, content: string): Promise<void>;
}

/**
 * What the upgrade engine needs of a flash: the directory one below, or a
 * volatile one in memory (memory.ts) for sink-mode APs by the thousand.
 * Staging and partition directories exist on the directory flash only.
 */
export interface FlashStore {
  /** Where it lives, as `show flash` names it. */
  readonly root: string;
  readonly tmpCapacityKiB: number;
  exists(): Promise<boolean>;
  claim(): Promise<void>;
  release(): Promise<void>;
  recover(): Promise<string[]>;
  readBoot(): Promise<BootRecord | undefined>;
  writeBoot(record: BootRecord): Promise<void>;
  readPartitionFile(p: PartitionName, name: string): Promise<string>;
  /** Whether partition `p` holds nothing at all. */
  partitionEmpty(p: PartitionName): Promise<boolean>;
  replacePartition(p: PartitionName, fill: (draft: PartitionDraft) => Promise<void>): Promise<void>;
  writeBeforeUpgradeLog(line: string): Promise<void>;
  cleanTmp(): Promise<void>;
  tmpAvailableKiB(): Promise<number>;
  partitionDir(p: PartitionName): string;
  readonly tmpDir: string;
  readonly stagedImage: string;
  stagedImagePath(which: StagedImage): string;
  openStagedImage(which?: StagedImage): Promise<DurableFile>;
  stageImageFile(path: string): Promise<void>;
}

export class Flash implements FlashStore {
  readonly root: string;
  readonly #beforeUpgradeLog: string;

  constructor(
    stateDir: string,
    /** /tmp capacity, KiB (the hardware class's). */
    readonly tmpCapacityKiB: number,
  ) {
    this.root = join(stateDir, "flash");
    this.#beforeUpgradeLog = join(stateDir, "before-upgrade.log");
  }

  /** Whether a flash was ever laid out here (claim() or recover() creates it). */
  async exists(): Promise<boolean> {
    return exists(this.root);
  }

  partitionDir(p: PartitionName): string {
    return join(this.root, p);
  }

  get tmpDir(): string {
    return join(this.root, "tmp");
  }

  /** Where a download is staged (upgrade.sh: /tmp/part.tar). */
  get stagedImage(): string {
    return this.stagedImagePath("download");
  }

  stagedImagePath(which: StagedImage): string {
    return join(this.tmpDir, STAGED_IMAGES[which]);
  }

  /**
   * Claim the flash for this process (flash/owner names it: owner.ts),
   * before anything writes to it: a second process — `vap flash upgrade`
   * run against a live AP — is refused instead of rewriting partitions under
   * it. A claim whose process is gone (power cut, kill -9) is taken over,
   * even when its pid now belongs to another process.
   */
  async claim(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const file = join(this.root, "owner");
    const me = currentOwner();
    for (;;) {
      try {
        await writeFile(file, formatOwner(me), { flag: "wx" });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const owner = parseOwner(await readFile(file, "utf8").catch(() => ""));
      if (owner && sameOwner(owner, me)) return;
      if (owner && ownerAlive(owner)) throw new ConfigError(`${this.root} is in use by process ${owner.pid} (a running AP): stop it first`);
      await rm(file, { force: true });
    }
  }

  /** Give up this process's claim. */
  async release(): Promise<void> {
    const file = join(this.root, "owner");
    const owner = parseOwner(await readFile(file, "utf8").catch(() => ""));
    if (owner && sameOwner(owner, currentOwner())) await rm(file, { force: true });
  }

  /** Create the layout if new, and repair what a power cut interrupted. Returns what was repaired. */
  async recover(): Promise<string[]> {
    const notes: string[] = [];
    await mkdir(this.root, { recursive: true });
    for (const p of PARTITIONS) {
      const dir = this.partitionDir(p);
      const [live, old, oldImage, fresh] = await Promise.all([exists(dir), exists(`${dir}.old`), isDirectory(`${dir}.old`), exists(`${dir}.new`)]);
      // Not a partition this code could have left: refuse before touching anything (its .old may be the only image).
      if (live && !(await isDirectory(dir))) throw new ConfigError(`${dir} is not a directory: the flash is damaged (move it away to boot)`);
      if (!live && oldImage) {
        // Cut between the two renames of a swap: the old content is complete, the new was never announced.
        await rename(`${dir}.old`, dir);
        notes.push(`${p}: restored the previous image after an interrupted swap`);
      } else if (old) {
        await rm(`${dir}.old`, { recursive: true, force: true });
        notes.push(`${p}: removed the replaced image left by an interrupted swap`);
      }
      if (fresh) {
        await rm(`${dir}.new`, { recursive: true, force: true });
        notes.push(`${p}: removed an image whose installation was interrupted`);
      }
      await mkdir(dir, { recursive: true });
    }
    if (await exists(join(this.root, "boot.tmp"))) {
      await rm(join(this.root, "boot.tmp"), { force: true });
      notes.push("boot: discarded a boot record that was never put in place");
    }
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await syncDir(this.root);
    return notes;
  }

  async readBoot(): Promise<BootRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(join(this.root, "boot"), "utf8")) as Partial<BootRecord>;
      if (record.boot !== "part1" && record.boot !== "part2") return undefined;
      // A damaged count or reason is not a reason to refuse the boot: a count starts again at 0.
      const { reloads, lastReloadReason } = record;
      return {
        boot: record.boot,
        lastReloadReason: typeof lastReloadReason === "string" ? lastReloadReason : "unknown",
        reloads: Number.isSafeInteger(reloads) && reloads! >= 0 ? reloads! : 0,
      };
    } catch {
      return undefined;
    }
  }

  /** Atomically replace the boot record. */
  async writeBoot(record: BootRecord): Promise<void> {
    const tmp = join(this.root, "boot.tmp");
    await writeFileDurably(tmp, JSON.stringify(record), { mode: FILE_MODE, written: () => failpoint("flash.boot-written") });
    failpoint("flash.boot-synced");
    await rename(tmp, join(this.root, "boot"));
    failpoint("flash.boot-renamed");
    await syncDir(this.root);
  }

  async partitionEmpty(p: PartitionName): Promise<boolean> {
    return readdir(this.partitionDir(p)).then(
      (names) => names.length === 0,
      () => true,
    );
  }

  /** A file of partition `p`, as text. */
  async readPartitionFile(p: PartitionName, name: string): Promise<string> {
    return readFile(join(this.partitionDir(p), name), "utf8");
  }

  /**
   * Replace partition `p` with what `fill` writes into a fresh directory;
   * until `fill` succeeds (and after it fails) `p` is untouched.
   */
  async replacePartition(p: PartitionName, fill: (draft: PartitionDraft) => Promise<void>): Promise<void> {
    const dir = this.partitionDir(p);
    const fresh = `${dir}.new`;
    await rm(fresh, { recursive: true, force: true });
    await mkdir(fresh);
    try {
      await fill({ dir: fresh, writeFile: (name, content) => writeFileDurably(join(fresh, name), content, { mode: FILE_MODE }) });
    } catch (err) {
      await rm(fresh, { recursive: true, force: true });
      throw err;
    }
    await syncDir(fresh);
    failpoint("flash.partition-filled");
    await rename(dir, `${dir}.old`);
    failpoint("flash.partition-moved-aside");
    await rename(fresh, dir);
    failpoint("flash.partition-swapped");
    await syncDir(this.root);
    await rm(`${dir}.old`, { recursive: true, force: true });
  }

  /** Create the staged image for a download to stream into; commit() it before PREDOWNLOAD reads it. */
  async openStagedImage(which: StagedImage = "download"): Promise<DurableFile> {
    await mkdir(this.tmpDir, { recursive: true });
    return createDurableFile(this.stagedImagePath(which), STAGED_IMAGE_MODE);
  }

  /** Stage an image file that is already whole (`vap flash upgrade FILE`). */
  async stageImageFile(path: string): Promise<void> {
    await copyFile(path, this.stagedImage);
  }

  /** Record, durably, what ran before a PREDOWNLOAD (upgrade.sh's before-upgrade.log): it is read after the cut it may explain. */
  async writeBeforeUpgradeLog(line: string): Promise<void> {
    await writeFileDurably(this.#beforeUpgradeLog, `${line}\n`, { mode: FILE_MODE });
  }

  /** Empty /tmp (upgrade.sh: "Cleanup tmp files ..."). */
  async cleanTmp(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  /** KiB of /tmp not in use. */
  async tmpAvailableKiB(): Promise<number> {
    let used = 0;
    for (const f of await readdir(this.tmpDir).catch(() => [] as string[])) used += (await stat(join(this.tmpDir, f)).catch(() => ({ size: 0 }))).size;
    return Math.max(0, this.tmpCapacityKiB - Math.ceil(used / 1024));
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** fsync a directory so a rename in it survives a power cut. */
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
