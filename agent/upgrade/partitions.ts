/**
 * Reading and writing the two partitions: which one boots, what each holds,
 * and installing a verified image into one. A flash-mode partition holds
 * the extracted image; a sink-mode partition holds only a record of what it
 * would hold (version, family, hash), verified the same way.
 */
import type { ClassName } from "../../platform/classes/index.js";
import { otherPartition, type PartitionDraft, type PartitionName, SINK_RECORD } from "../../platform/flash/index.js";
import { checkImageDirectoryFiles, directorySink, hashOnlySink, type MemberCheck, readImageDirectoryInfo, verifyImage, verifyImageDirectory, type VerifiedImage } from "../../images/index.js";
import type { Log } from "../core/index.js";
import { type Context, verifyOptions } from "./context.js";
import { type PartitionImage, type PartitionIntegrity, UpgradeError } from "./types.js";

/** What the engine keeps of the flash; FlashState derives the rest. */
export interface Layout {
  active: PartitionName;
  boot: PartitionName;
  images: Record<PartitionName, PartitionImage | undefined>;
  lastReloadReason: string;
  fellBack?: string;
}

/**
 * Which partition runs: the one BOOT names if it verifies, else the other
 * (and say so). Only the partition that runs is verified in full, as a real
 * AP's boot does; the other one's `info` names the backup version, and it is
 * verified again before ACTIVATE ever points BOOT at it. A flash without a
 * boot record boots part2, as a factory-fresh AP does, unless only part1 is
 * valid.
 */
export async function loadLayout(ctx: Context): Promise<Layout> {
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
export async function verifyPartition({ options, flash, roots }: Context, p: PartitionName): Promise<PartitionImage | Error> {
  try {
    const image: PartitionImage =
      options.storage === "sink"
        ? parseRecord(await flash.readPartitionFile(p, SINK_RECORD))
        : await verifyImageDirectory(flash.partitionDir(p), { policy: options.policy, trust: roots, family: options.hardwareClass.name });
    if (image.family !== options.hardwareClass.name) return new Error(`image family ${image.family} is not ${options.hardwareClass.name}`);
    return { version: image.version, family: image.family };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** A sink-mode partition's record: a version and a family, or an Error (a damaged record is no image). */
function parseRecord(text: string): PartitionImage {
  const record = JSON.parse(text) as { version?: unknown; family?: unknown } | null;
  if (typeof record?.version !== "string" || typeof record.family !== "string") throw new Error(`${SINK_RECORD} names no version and family`);
  return { version: record.version, family: record.family as ClassName };
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
export async function install(ctx: Context, p: PartitionName, source: AsyncIterable<Uint8Array>): Promise<VerifiedImage> {
  let verified: VerifiedImage | undefined;
  await ctx.flash.replacePartition(p, async (draft) => {
    if (ctx.options.storage === "flash") {
      verified = await verifyImage(source, { ...verifyOptions(ctx), sink: directorySink(draft.dir) });
    } else {
      verified = await verifyImage(source, { ...verifyOptions(ctx), sink: hashOnlySink() });
      await writeRecord(draft, verified);
    }
  });
  return verified!;
}

/** Record an image verified elsewhere as a sink-mode partition's content. */
export async function installRecord(ctx: Context, p: PartitionName, verified: VerifiedImage): Promise<VerifiedImage> {
  await ctx.flash.replacePartition(p, (draft) => writeRecord(draft, verified));
  return verified;
}

/** Log (to the download's `log`) what upgrade.sh logs for an image it accepted. */
export function accepted(log: Log, verified: VerifiedImage): PartitionImage {
  if (verified.policy === "structure-only") {
    log.warn("upgrade.sh: signature policy structure-only: the image's structure and hashes were checked, its signature was NOT");
  } else {
    log.info("Image signing verify success.");
  }
  return { version: verified.version, family: verified.family };
}

async function writeRecord(draft: PartitionDraft, verified: VerifiedImage): Promise<void> {
  const image: PartitionImage & { finalHash: string } = { version: verified.version, family: verified.family as ClassName, finalHash: verified.finalHash };
  await draft.writeFile(SINK_RECORD, JSON.stringify(image));
}

/** The image's final_hash (hex) as partition `p` holds it, unverified; undefined when it holds none. */
export async function partitionHash({ options, flash }: Context, p: PartitionName): Promise<string | undefined> {
  try {
    if (options.storage === "sink") {
      const { finalHash } = JSON.parse(await flash.readPartitionFile(p, SINK_RECORD)) as { finalHash?: unknown };
      return typeof finalHash === "string" ? finalHash : undefined;
    }
    return (await flash.readPartitionFile(p, "final_hash")).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Partition `p` checked again now: each file against file_hashes (flash
 * mode; a sink-mode partition keeps no files), and the whole image — hashes,
 * signature, family — as ACTIVATE checks it.
 */
export async function partitionIntegrity(ctx: Context, p: PartitionName): Promise<PartitionIntegrity> {
  if (await ctx.flash.partitionEmpty(p)) return { partition: p, files: [] };
  const checked = await verifyPartition(ctx, p);
  let files: MemberCheck[] = [];
  if (ctx.options.storage === "flash") files = await checkImageDirectoryFiles(ctx.flash.partitionDir(p)).catch(() => []);
  return checked instanceof Error ? { partition: p, files, problem: checked.message } : { partition: p, files, image: checked };
}
