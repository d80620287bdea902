/**
 * Choosing a controller from Discovery Responses (RFC 5415 §3.3): a
 * controller the operator named wins, in the order named (Cisco's primary,
 * secondary, tertiary controller); otherwise the least loaded one by its AC
 * Descriptor. Addresses without a name are only where to look.
 */
import type { Endpoint } from "../../net/index.js";
import type { AcSummary } from "../profiles/index.js";

export interface AcCandidate {
  from: Endpoint;
  summary: AcSummary;
  /** Order of arrival, the last tie-breaker. */
  order: number;
}

/** A controller from the AP's list; only a named one is a preference (its address is where discovery looks). */
export interface ControllerPreference {
  name?: string;
}

export function chooseController(candidates: readonly AcCandidate[], preferences: readonly ControllerPreference[]): AcCandidate | undefined {
  for (const pref of preferences) {
    const match = pref.name ? candidates.find((c) => c.summary.name === pref.name) : undefined;
    if (match) return match;
  }
  return [...candidates].sort((a, b) => load(a) - load(b) || a.order - b.order)[0];
}

/** Share of capacity in use: joined APs first, stations as the finer measure. */
function load(c: AcCandidate): number {
  const { activeWtps, maxWtps, stations, stationLimit } = c.summary;
  const wtpLoad = maxWtps > 0 ? activeWtps / maxWtps : 1;
  const stationLoad = stationLimit > 0 ? stations / stationLimit : 0;
  return wtpLoad + stationLoad / 1000;
}
