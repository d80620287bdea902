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
 * (its Initiate Download Image Data Request); and efficient image upgrade
 * (SPEC.md §3 "Efficient image upgrade"): the AP's role in its site
 * (with the predownload order), the primary's TFTP endpoint (with its
 * Complete report), a subordinate's retries (WTP Event Request), and the
 * swap to a predownloaded image without a reload. Each profile carries
 * them in its own vendor space: the Cisco profile under Cisco's vendor id,
 * the RFC profile under the IANA enterprise number reserved for
 * documentation (RFC 5612: 32473), so they can never be mistaken for a real
 * vendor's element. One definition, two homes.
 */
import { ipv4, prefixed, u16, u8, utf8, vendorElement } from "../codec/index.js";

export const DOCUMENTATION_ENTERPRISE = 32473;

/** PredownloadStatus.state values. */
export const PredownloadState = { Downloading: 1, Complete: 2, Failed: 3 } as const;

/** EfficientUpgrade.role values: the site's primary for its model fetches from the controller; a subordinate from the primary. */
export const EfficientRole = { Primary: 1, Subordinate: 2 } as const;

/**
 * How often a subordinate tries its primary before it falls back to the
 * controller (SPEC.md: default 44, configurable 1 to 63). The count is the
 * controller's setting and travels in the order [inf].
 */
export const PRIMARY_TRIES = { default: 44, min: 1, max: 63 } as const;

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
    /**
     * With a PredownloadOrder in an efficient site: this AP's role (EfficientRole), how many tries a
     * subordinate gives its primary, and the primary's TFTP endpoint (0.0.0.0:0 for a primary).
     */
    vendorElement(vendorId, firstId + 8, "EfficientUpgrade", "vap Efficient Upgrade", { role: u8, tries: u8, primaryAddress: ipv4, primaryPort: u16 }),
    /** With a primary's PredownloadStatus Complete: where it serves the image to its subordinates over TFTP. */
    vendorElement(vendorId, firstId + 9, "PrimaryImageServer", "vap Primary Image Server", { address: ipv4, port: u16 }),
    /** A subordinate's try `attempt` of `tries` at its primary failed for `reason`; the next in `nextRetrySeconds` (WTP Event Request). */
    vendorElement(vendorId, firstId + 10, "PredownloadRetry", "vap Predownload Retry", { attempt: u8, tries: u8, nextRetrySeconds: u16, reason: utf8 }),
    /** Make the predownloaded `version` the one BOOT names (ACTIVATE), without a reload (Configuration Update Request). */
    vendorElement(vendorId, firstId + 11, "ImageSwap", "vap Image Swap", { version: utf8 }),
  ] as const;
}

/** The RFC profile's home for the extensions (the element union is typed from these). */
export const vapElements = vapExtensionElements(DOCUMENTATION_ENTERPRISE, 1);
