/**
 * vap's own extension elements, for what real controllers signal in ways no
 * public source documents [inf]: the image sliding window given at join (the
 * seed: "the window size reaches the AP only at join"), the controller's
 * predownload order (in a Configuration Update Request), the AP's
 * predownload report (in a WTP Event Request), and out-of-band HTTPS image
 * download (SPEC.md §3 "Out-of-band HTTPS"): the AP's capability (Join
 * Request), the controller's method (Join Response), the AP asking for an
 * offer (Image Data Request), the offer — URL and token — (Image Data
 * Response) and, after a failed HTTPS try, why the AP falls back to CAPWAP
 * (its Initiate Download Image Data Request). Each profile carries
 * them in its own vendor space: the Cisco profile under Cisco's vendor id,
 * the RFC profile under the IANA enterprise number reserved for
 * documentation (RFC 5612: 32473), so they can never be mistaken for a real
 * vendor's element. One definition, two homes.
 */
import { prefixed, u16, u8, utf8, vendorElement } from "../codec/index.js";

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
    /** The AP can download its image out of band over HTTPS (Cisco: "AP Upgrade Out-Of-Band Capability : Enabled"). */
    vendorElement(vendorId, firstId + 3, "OobCapability", "vap OOB Image Download Capability", { enabled: u8 }),
    /** The controller's upgrade method is HTTPS, on this port: the AP asks for an offer before it asks for Image Data. */
    vendorElement(vendorId, firstId + 4, "OobImageDownload", "vap OOB Image Download", { port: u16 }),
    /** With an Image Identifier and no Initiate Download: offer me this image over HTTPS. */
    vendorElement(vendorId, firstId + 5, "OobImageRequest", "vap OOB Image Request", { flags: u8 }),
    /** Where the image is and the token that opens it (sent as `Authorization: Bearer`; a secret: never logged). */
    vendorElement(vendorId, firstId + 6, "OobImageOffer", "vap OOB Image Offer", { url: prefixed(u16, utf8, "URL"), token: prefixed(u16, utf8, "token") }),
    /** The HTTPS try failed for this reason: this Initiate Download is the fallback to CAPWAP. */
    vendorElement(vendorId, firstId + 7, "OobFallback", "vap OOB Fallback", { reason: utf8 }),
  ] as const;
}

/** The RFC profile's home for the extensions (the element union is typed from these). */
export const vapElements = vapExtensionElements(DOCUMENTATION_ENTERPRISE, 1);
