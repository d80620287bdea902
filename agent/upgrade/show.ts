import { otherPartition } from "../../platform/flash/index.js";
import type { FlashState } from "./types.js";

/** `show version`'s image lines: what runs, and what each partition would boot. */
export function bootImageLines(state: FlashState): string[] {
  const boot = state.images[state.boot]?.version ?? "0.0.0.0";
  const other = state.images[otherPartition(state.boot)]?.version ?? "0.0.0.0";
  return [`AP Running Image     : ${state.running}`, `Primary Boot Image   : ${boot}`, `Backup Boot Image    : ${other}`];
}

/** `show boot`'s lines: the partition BOOT names (genielibs reads `BOOT path-list:`), and a fallback if boot passed it over. */
export function bootPathLines(state: FlashState): string[] {
  return [`BOOT path-list:      ${state.boot}`, ...(state.fellBack ? [`Boot fell back from ${state.fellBack}`] : [])];
}

/** The image lines of Cisco's `show version` and `show boot`, from the flash state (`vap flash show`). */
export function showImageLines(state: FlashState): string[] {
  return [...bootImageLines(state), `Last reload reason   : ${state.lastReloadReason}`, ...bootPathLines(state)];
}
