import { otherPartition } from "../../platform/flash/index.js";
import type { FlashState } from "./types.js";

/** The image lines of Cisco's `show version` and `show boot`, from the flash state. */
export function showImageLines(state: FlashState): string[] {
  const boot = state.images[state.boot]?.version ?? "0.0.0.0";
  const other = state.images[otherPartition(state.boot)]?.version ?? "0.0.0.0";
  return [
    `AP Running Image     : ${state.running}`,
    `Primary Boot Image   : ${boot}`,
    `Backup Boot Image    : ${other}`,
    `Last reload reason   : ${state.lastReloadReason}`,
    `BOOT path-list:      ${state.boot}`,
    ...(state.fellBack ? [`Boot fell back from ${state.fellBack}`] : []),
  ];
}
