/**
 * vap's own extension elements, for what real controllers signal in ways no
 * public source documents [inf]: the image sliding window given at join (the
 * seed: "the window size reaches the AP only at join"). Each profile carries
 * them in its own vendor space: the Cisco profile under Cisco's vendor id,
 * the RFC profile under the IANA enterprise number reserved for
 * documentation (RFC 5612: 32473), so they can never be mistaken for a real
 * vendor's element. One definition, two homes.
 */
import { u8, vendorElement } from "../codec/index.js";

export const DOCUMENTATION_ENTERPRISE = 32473;

export function vapExtensionElements(vendorId: number, firstId: number) {
  return [vendorElement(vendorId, firstId, "ImageWindow", "vap Image Window", { window: u8 })] as const;
}

/** The RFC profile's home for the extensions (the element union is typed from these). */
export const vapElements = vapExtensionElements(DOCUMENTATION_ENTERPRISE, 1);
