/**
 * vap's own extension elements, for what real controllers signal in ways no
 * public source documents [inf]: the image sliding window given at join (the
 * seed: "the window size reaches the AP only at join"), the controller's
 * predownload order (in a Configuration Update Request) and the AP's
 * predownload report (in a WTP Event Request). Each profile carries
 * them in its own vendor space: the Cisco profile under Cisco's vendor id,
 * the RFC profile under the IANA enterprise number reserved for
 * documentation (RFC 5612: 32473), so they can never be mistaken for a real
 * vendor's element. One definition, two homes.
 */
import { u8, utf8, vendorElement } from "../codec/index.js";

export const DOCUMENTATION_ENTERPRISE = 32473;

/** PredownloadStatus.state values. */
export const PredownloadState = { Downloading: 1, Complete: 2, Failed: 3 } as const;

export function vapExtensionElements(vendorId: number, firstId: number) {
  return [
    vendorElement(vendorId, firstId, "ImageWindow", "vap Image Window", { window: u8 }),
    /** Fetch the image for `version` into the backup partition, staying in Run. */
    vendorElement(vendorId, firstId + 1, "PredownloadOrder", "vap Predownload Order", { version: utf8 }),
    /** How the predownload of `version` stands (PredownloadState). */
    vendorElement(vendorId, firstId + 2, "PredownloadStatus", "vap Predownload Status", { state: u8, version: utf8 }),
  ] as const;
}

/** The RFC profile's home for the extensions (the element union is typed from these). */
export const vapElements = vapExtensionElements(DOCUMENTATION_ENTERPRISE, 1);
