/**
 * The lab's sites (SPEC.md §3 "Efficient image upgrade"): the APs split
 * into site tags in order, each site behind a WAN link of its own when the
 * lab emulates one, so what crosses each site's WAN is counted apart.
 */
import { isIPv4 } from "node:net";
import { ConfigError } from "../../agent/core/index.js";

export interface LabSites {
  /** How many site tags the APs are split into (AP i of n in site ⌊i·count/n⌋). */
  count: number;
  /** Every site's flex profile has predownload on: one primary AP per model per site, the others from it by TFTP. */
  efficient: boolean;
  /** How often a subordinate tries its primary before it falls back to the controller (the flex profile's; default 44). */
  tries?: number;
}

/** The name of site `i` (0-based): site-1, site-2, … */
export const siteName = (i: number): string => `site-${i + 1}`;

/** The site AP `index` of `aps` belongs to: consecutive APs share a site, so classes cycling through them spread over every site. */
export function siteOf(index: number, aps: number, count: number): number {
  return Math.floor((index * count) / aps);
}

/**
 * Where site `i`'s WAN relays listen: the first site on `first`, each next
 * site one address further (127.0.0.2, 127.0.0.3, …), so the controller's
 * traffic to each site crosses a link of its own.
 */
export function siteWanAddress(first: string, i: number): string {
  if (!isIPv4(first)) throw new ConfigError(`--wan-address: "${first}" is not an IPv4 address`);
  const n = first.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0) + i;
  if (n > 0xffffffff) throw new ConfigError(`--wan-address: ${first} leaves no address for site ${i + 1}`);
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}
