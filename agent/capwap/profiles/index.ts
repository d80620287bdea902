/**
 * Vendor profiles: element layouts and what each message carries, for the
 * AP side and the controller side alike.
 */
import { ciscoProfile } from "./cisco/profile.js";
import type { ProfileName, VendorProfile } from "./profile.js";
import { rfc5415Profile } from "./rfc5415.js";

export const profiles: Record<ProfileName, VendorProfile> = { rfc5415: rfc5415Profile, cisco: ciscoProfile };

export { rfc5415Profile, ciscoProfile };
export type { ProfileName, VendorProfile, WtpInfo, AcInfo, AcSummary, WtpSummary, JoinSettings, RadioInfo, ImageBlock } from "./profile.js";
export { type Element, type ElementKind, type ElementByKind, type Message, findElement, findElements } from "./element-types.js";
export * from "./cisco/elements.js";
export * from "./cisco/version.js";
export { DOCUMENTATION_ENTERPRISE, EfficientRole, PredownloadState, PRIMARY_TRIES } from "./vap-elements.js";
