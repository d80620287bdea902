/** How the WTP reads on the Cisco console: state names, discovery types, the discard line. */
import { messageTypeConstant } from "../codec/index.js";
import type { WtpState } from "./machine-types.js";

/** How each state reads on the Cisco console ("CAPWAP State: DTLS Setup"). */
export const STATE_NAMES: Record<WtpState, string> = {
  Idle: "Idle",
  Discovery: "Discovery",
  Sulking: "Sulking",
  DtlsSetup: "DTLS Setup",
  Join: "Join",
  ImageData: "Image Data",
  Configure: "Configure",
  DataCheck: "Data Check",
  Run: "Run",
  Reset: "Reset",
  DtlsTeardown: "DTLS Teardown",
};

export const DISCOVERY_TYPE_NAMES: Record<number, string> = { 0: "UNKNOWN", 1: "STATIC_CONFIG", 2: "DHCP", 3: "DNS", 4: "AC_REFERRAL" };

export function discardLine(type: number, state: WtpState): string {
  return `Discarding msg ${messageTypeConstant(type)}(type ${type}) in CAPWAP state: ${STATE_NAMES[state]}`;
}
