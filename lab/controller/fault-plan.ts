/**
 * Fault injection for the lab controller, to test how APs recover: responses
 * lost on the wire, joins refused, image blocks or the announced MD5
 * corrupted. The tests and the lab hand a plan to the controller next to its
 * options (never inside them); a controller built without one never asks it
 * anything and counts nothing for it.
 */
import type { WtpSummary } from "../../agent/capwap/profiles/index.js";
import { type Endpoint, endpointKey } from "../../agent/net/index.js";

export interface FaultPlan {
  /**
   * Drop the n-th transmission of a response (1-based, counted per request
   * type and per AP, resends from the response cache included; discovery,
   * counted per source endpoint, and data keep-alives too) as if lost on the
   * wire.
   */
  dropResponse?: (requestType: number, nth: number) => boolean;
  /** The Result Code for a Join Request (refuse joins); Success when absent. */
  admit?: (ap: WtpSummary) => number;
  /** Corrupt block `index` of the image going to `ap` (after its checksum), on its first transmission. */
  corruptBlock?: (ap: string, index: number) => boolean;
  /** Announce a wrong MD5 for the image going to `ap`. */
  corruptMd5?: (ap: string) => boolean;
}

/** Message type used for data-channel keep-alives in `dropResponse` (not a CAPWAP message type). */
export const KEEP_ALIVE = -1;

/** A plan at work in one controller: it keeps the counts the plan is asked with. */
export class FaultInjector {
  readonly #plan: FaultPlan;
  /** Discovery Requests per source endpoint. */
  readonly #discoveries = new Map<string, number>();

  constructor(plan: FaultPlan) {
    this.#plan = plan;
  }

  /** Whether the response to this Discovery Request from `from` is lost. */
  dropDiscoveryResponse(requestType: number, from: Endpoint): boolean {
    if (!this.#plan.dropResponse) return false;
    const key = endpointKey(from);
    const nth = (this.#discoveries.get(key) ?? 0) + 1;
    this.#discoveries.set(key, nth);
    return this.#plan.dropResponse(requestType, nth);
  }

  /** The plan as one AP's session sees it; `ap` names the AP (its name once joined). */
  forAp(ap: () => string): ApFaults {
    return new ApFaults(this.#plan, ap);
  }
}

export class ApFaults {
  readonly #plan: FaultPlan;
  readonly #ap: () => string;
  /** Responses sent, per request type. */
  readonly #answered = new Map<number, number>();

  constructor(plan: FaultPlan, ap: () => string) {
    this.#plan = plan;
    this.#ap = ap;
  }

  /** Whether this response (to a `requestType` request, or KEEP_ALIVE) is lost; counts it. */
  dropResponse(requestType: number): boolean {
    const nth = (this.#answered.get(requestType) ?? 0) + 1;
    this.#answered.set(requestType, nth);
    return this.#plan.dropResponse?.(requestType, nth) ?? false;
  }

  /** The Result Code the plan answers a Join Request with, if it decides. */
  admit(wtp: WtpSummary): number | undefined {
    return this.#plan.admit?.(wtp);
  }

  corruptBlock(index: number): boolean {
    return this.#plan.corruptBlock?.(this.#ap(), index) ?? false;
  }

  corruptMd5(): boolean {
    return this.#plan.corruptMd5?.(this.#ap()) ?? false;
  }
}
