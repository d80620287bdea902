import type { ElementTable } from "../codec/index.js";

/** The names of the vendor profiles vap speaks. */
export type ProfileName = "rfc5415" | "cisco";

/**
 * A vendor profile: which element layouts apply on the wire. Standard
 * elements are shared; a profile overrides the few it lays out differently.
 */
export interface VendorProfile {
  readonly name: ProfileName;
  readonly elements: ElementTable;
}
