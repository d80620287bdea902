/**
 * The Discovery state's steps (RFC 5415 §3): rounds of Discovery Requests to
 * the configured controllers, broadcast and DNS, backing off towards
 * MaxDiscoveryInterval (they stay in Discovery: what a round's end leads to
 * is the table's to decide).
 */
import { CAPWAP_CONTROL_PORT, DiscoveryType } from "../codec/index.js";
import type { Endpoint } from "../../net/index.js";
import type { DiscoveryTarget, MachineSettings, Step, WtpContext, WtpEffect } from "./machine-types.js";
import { DISCOVERY_TYPE_NAMES } from "./console-lines.js";
import { arm, info, stay } from "./steps.js";

const BROADCAST = "255.255.255.255";
const CISCO_DNS_NAME = "CISCO-CAPWAP-CONTROLLER";

/** The DNS name discovery asks for, when it is configured and can be resolved. */
function dnsName(s: MachineSettings): string | undefined {
  const domain = s.config.discovery.dnsDomain;
  return domain && s.canResolve ? `${CISCO_DNS_NAME}.${domain}` : undefined;
}

/**
 * Whether a Discovery Response may come from `from`: with only a static
 * list, from a listed controller alone (a spoofed answer from anywhere else
 * would hold the AP in DTLS Setup); with broadcast or DNS, from anyone.
 */
export function mayAnswer(s: MachineSettings, from: Endpoint): boolean {
  if (s.config.discovery.broadcast || dnsName(s)) return true;
  return s.config.controllers.some((a) => a.address === from.address && a.port === from.port);
}

export function discoveryRound(s: MachineSettings, c: WtpContext, round: number): Step {
  const { config } = s;
  const seq = (c.discovery.seq + 1) & 0xff;
  const targets: DiscoveryTarget[] = config.controllers.map((a) => ({ address: a.address, port: a.port, discoveryType: DiscoveryType.Static }));
  if (config.discovery.broadcast) targets.push({ address: BROADCAST, port: CAPWAP_CONTROL_PORT, discoveryType: DiscoveryType.Unknown });
  const dns = dnsName(s);
  // Nobody knows how many will answer a broadcast or a DNS name: wait the interval.
  const expected = config.discovery.broadcast || dns ? Infinity : config.controllers.length;
  // RFC 5415 §4.7: wait DiscoveryInterval, backing off towards MaxDiscoveryInterval.
  const wait = Math.min(config.timers.discoveryIntervalMs * 2 ** round, config.timers.maxDiscoveryIntervalMs);
  return stay(
    { ...c, discovery: { seq, round, targets: expected, candidates: round === 0 ? [] : c.discovery.candidates } },
    ...discover(seq, targets),
    ...(dns ? [{ kind: "resolve", name: dns, round } as const] : []),
    arm("DiscoveryInterval", wait),
  );
}

export function discover(seq: number, targets: DiscoveryTarget[]): WtpEffect[] {
  if (targets.length === 0) return [];
  return [{ kind: "discover", seq, targets }, ...targets.map((t) => info(`Discovery Request sent to ${t.address}, discovery type ${DISCOVERY_TYPE_NAMES[t.discoveryType]}(${t.discoveryType})`))];
}
