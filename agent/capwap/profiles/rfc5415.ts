import { ElementTable, ieee80211Elements, rfc5415Elements } from "../codec/index.js";
import { ciscoVendorElements } from "./cisco/elements.js";
import type { VendorProfile } from "./profile.js";

/**
 * Pure RFC 5415/5416. Cisco's vendor elements are still understood (they are
 * keyed by vendor id, so they cannot be confused with anything standard).
 */
export const rfc5415Profile: VendorProfile = {
  name: "rfc5415",
  elements: new ElementTable([...rfc5415Elements, ...ieee80211Elements, ...ciscoVendorElements]),
};
