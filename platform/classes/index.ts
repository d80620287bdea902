/**
 * Hardware classes (SPEC.md §2): the image family a model runs. The AP's
 * identity in CAPWAP (model strings, radios) and its flash/`/tmp` limits all
 * come from here. Sizes marked [inf] are our estimates; the seed's bundle
 * sizes are the realistic image sizes.
 */

export type ClassName = "ap1g4" | "ap1g5" | "ap1g6" | "ap1g6a" | "ap1g7" | "ap1g8" | "ap3g3";

export type Band = "2.4GHz" | "5GHz" | "dual";

export interface ApModel {
  /** Catalog model, as in WTP Board Data and `show version` (e.g. "C9120AXI-B"). */
  model: string;
  /** Marketing family (e.g. "9120AX"). */
  family: string;
}

export interface HardwareClass {
  readonly name: ClassName;
  /** Models of the class; the first is the default. */
  readonly models: readonly ApModel[];
  /** Radios by slot; "dual" is a flexible 2.4/5 GHz radio. */
  readonly radios: readonly Band[];
  /** Flash size in MiB; each of the two partitions gets a little under half [inf]. */
  readonly flashMiB: number;
  /** Space in /tmp, KiB, as upgrade.sh reports it ("available 96064"). */
  readonly tmpKiB: number;
  /** Space PRECHECK insists on, KiB ("required 50000"). */
  readonly tmpRequiredKiB: number;
  /** Size of a real image of the class, bytes (the seed's bundle). */
  readonly typicalImageBytes: number;
}

const MiB = 1024 * 1024;

export const hardwareClasses: Readonly<Record<ClassName, HardwareClass>> = {
  ap1g4: {
    name: "ap1g4",
    models: [
      { model: "AIR-AP1832I-B-K9", family: "1830" },
      { model: "AIR-AP1852I-B-K9", family: "1850" },
      { model: "AIR-AP1810W-B-K9", family: "1810" },
    ],
    radios: ["2.4GHz", "5GHz"],
    flashMiB: 256,
    tmpKiB: 96_064,
    tmpRequiredKiB: 40_000,
    typicalImageBytes: 42_024_960,
  },
  ap1g5: {
    name: "ap1g5",
    models: [
      { model: "AIR-AP1815I-B-K9", family: "1815" },
      { model: "AIR-AP1840I-B-K9", family: "1840" },
      { model: "AIR-AP1542I-B-K9", family: "1540" },
      { model: "AIR-AP1800S-B-K9", family: "1800" },
    ],
    radios: ["2.4GHz", "5GHz"],
    flashMiB: 256,
    tmpKiB: 96_064,
    tmpRequiredKiB: 40_000,
    typicalImageBytes: 39_895_040,
  },
  ap1g6: {
    name: "ap1g6",
    models: [{ model: "C9117AXI-B", family: "9117AX" }],
    radios: ["2.4GHz", "5GHz"],
    flashMiB: 512,
    tmpKiB: 101_272,
    tmpRequiredKiB: 50_000,
    typicalImageBytes: 70_307_840,
  },
  ap1g6a: {
    name: "ap1g6a",
    models: [
      { model: "C9130AXI-B", family: "9130AX" },
      { model: "C9124AXI-B", family: "9124AX" },
    ],
    radios: ["2.4GHz", "5GHz", "dual"],
    flashMiB: 512,
    tmpKiB: 101_272,
    tmpRequiredKiB: 50_000,
    typicalImageBytes: 84_623_360,
  },
  ap1g7: {
    name: "ap1g7",
    models: [
      { model: "C9120AXI-B", family: "9120AX" },
      { model: "C9115AXI-B", family: "9115AX" },
    ],
    radios: ["dual", "5GHz"],
    flashMiB: 512,
    tmpKiB: 101_272,
    tmpRequiredKiB: 50_000,
    typicalImageBytes: 76_728_320,
  },
  ap1g8: {
    name: "ap1g8",
    models: [{ model: "C9105AXI-B", family: "9105AX" }],
    radios: ["2.4GHz", "5GHz"],
    flashMiB: 256,
    tmpKiB: 96_064,
    tmpRequiredKiB: 50_000,
    typicalImageBytes: 70_512_640,
  },
  ap3g3: {
    name: "ap3g3",
    models: [
      { model: "AIR-AP4800-D-K9", family: "4800" },
      { model: "AIR-AP3802I-B-K9", family: "3800" },
      { model: "AIR-AP2802I-B-K9", family: "2800" },
      { model: "AIR-AP1562I-B-K9", family: "1560" },
      { model: "IW-6300H-AC-B-K9", family: "6300" },
    ],
    radios: ["dual", "5GHz", "5GHz"],
    flashMiB: 512,
    tmpKiB: 101_272,
    tmpRequiredKiB: 40_000,
    typicalImageBytes: 59_156_480,
  },
};

export const classNames = Object.keys(hardwareClasses) as ClassName[];

export function isClassName(name: string): name is ClassName {
  return Object.hasOwn(hardwareClasses, name);
}

/** Bytes available to each flash partition [inf: half the flash less 10% for boot and config]. */
export function partitionBytes(c: HardwareClass): number {
  return Math.floor((c.flashMiB * MiB * 0.9) / 2);
}

/**
 * An AP software version (17.12.1.5): four parts of 0–255 each, which is
 * what Cisco's 4-byte version encoding carries and what image `info` names.
 */
export function isSoftwareVersion(version: string): boolean {
  const parts = version.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
