/**
 * A fleet AP's identity from its index alone, so shards and restarts agree
 * without sharing anything: base MAC = prefix + index + 1, class from the
 * weighted mix, name and certificate subject from the model and MAC.
 */
import { hardwareClasses, type ClassName, type HardwareClass } from "../../platform/classes/index.js";
import type { FleetOptions } from "./options.js";

export interface FleetIdentity {
  index: number;
  mac: string;
  classProfile: HardwareClass;
  model: string;
}

/** The classes in AP order: ap1g8:3,ap1g4:1 → ap1g8 ap1g8 ap1g8 ap1g4, repeated. */
export function classPattern(mix: FleetOptions["classes"]): ClassName[] {
  return mix.flatMap(({ name, weight }) => Array.from({ length: weight }, () => name));
}

export function fleetIdentity(index: number, options: Pick<FleetOptions, "macPrefix">, pattern: readonly ClassName[]): FleetIdentity {
  const n = index + 1; // the first AP is …:00:00:01, as in the lab
  const bytes = [...options.macPrefix, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const classProfile = hardwareClasses[pattern[index % pattern.length]!];
  return {
    index,
    mac: bytes.map((b) => b.toString(16).padStart(2, "0")).join(":"),
    classProfile,
    model: classProfile.models[0]!.model,
  };
}
