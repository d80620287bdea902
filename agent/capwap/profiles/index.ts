/**
 * Vendor profiles and the typed element union every message carries.
 */
import type { ControlMessage, ElementOf, ieee80211Elements, rfc5415Elements, UnknownElement, VendorSpecificElement } from "../codec/index.js";
import type { ciscoLayoutOverrides, ciscoVendorElements } from "./cisco/elements.js";
import { ciscoProfile } from "./cisco/profile.js";
import type { ProfileName, VendorProfile } from "./profile.js";
import { rfc5415Profile } from "./rfc5415.js";

export type Element =
  | ElementOf<(typeof rfc5415Elements)[number]>
  | ElementOf<(typeof ieee80211Elements)[number]>
  | ElementOf<(typeof ciscoVendorElements)[number]>
  | ElementOf<(typeof ciscoLayoutOverrides)[number]>
  | UnknownElement
  | VendorSpecificElement;

export type ElementKind = Element["kind"];
/** The element of a given kind, e.g. `ElementByKind<"ResultCode">`. */
export type ElementByKind<K extends ElementKind> = Extract<Element, { kind: K }>;

export type Message = ControlMessage<Element>;

export const profiles: Record<ProfileName, VendorProfile> = { rfc5415: rfc5415Profile, cisco: ciscoProfile };

export { rfc5415Profile, ciscoProfile };
export type { ProfileName, VendorProfile };
export * from "./cisco/elements.js";
export * from "./cisco/version.js";
