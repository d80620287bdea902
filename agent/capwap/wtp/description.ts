/** How the WTP describes itself in its requests (WTP Board Data, Descriptor, Radio Information, …). */
import type { ApConfig } from "../../config/index.js";
import { DiscoveryType, MessageType, RadioType } from "../codec/index.js";
import type { Element, RadioInfo, VendorProfile, WtpInfo } from "../profiles/index.js";
import type { Band } from "../../../platform/classes/index.js";
import type { ImageSourceName } from "./image-source.js";
import type { WtpContext } from "./machine-types.js";

/** The AP advertises out-of-band HTTPS download when its configuration allows it and it has the source to do it. */
export function oobCapable(config: ApConfig, sources: readonly ImageSourceName[]): boolean {
  return config.oob.enabled && sources.includes("https");
}

/** Requests whose elements the profile builds from the WTP's own description. */
export const DESCRIBED_REQUESTS: Record<number, (profile: VendorProfile, wtp: WtpInfo) => Element[]> = {
  [MessageType.JoinRequest]: (p, wtp) => p.joinRequest(wtp),
  [MessageType.ConfigurationStatusRequest]: (p, wtp) => p.configurationStatusRequest(wtp),
  [MessageType.ChangeStateEventRequest]: (p, wtp) => p.changeStateEventRequest(wtp),
  [MessageType.WtpEventRequest]: (p, wtp) => p.wtpEventRequest(wtp),
};

/** What only the shell knows at the moment of sending. */
export interface LiveFacts {
  running: string;
  backup: string;
  localAddress: string;
  sessionId: Uint8Array;
  uptimeSeconds: number;
}

export function describeWtp(config: ApConfig, radios: RadioInfo[], context: WtpContext, live: LiveFacts, sources: readonly ImageSourceName[]): WtpInfo {
  const { identity } = config;
  const info: WtpInfo = {
    name: context.name,
    baseMac: identity.baseMac,
    serial: identity.serial,
    model: identity.model,
    radios,
    softwareVersion: live.running,
    backupVersion: live.backup,
    bootVersion: "1.1.2.4",
    hardwareVersion: "1.0.0.0",
    location: identity.location,
    group: identity.group,
    localAddress: live.localAddress,
    sessionId: live.sessionId,
    discoveryType: DiscoveryType.Static, // a Discovery Request names its own
    rebootCount: context.rebootCount,
    uptimeSeconds: live.uptimeSeconds,
    oobCapable: oobCapable(config, sources),
  };
  if (context.ac) info.acAddress = context.ac.endpoint.address;
  const acName = context.joined?.name ?? context.ac?.summary.name;
  if (acName) info.acName = acName;
  return info;
}

/** RFC 5416 §6.25 radio types for a class's bands (a flexible radio does both). */
export function radiosOf(bands: readonly Band[]): RadioInfo[] {
  const type: Record<Band, number> = {
    "2.4GHz": RadioType.B | RadioType.G | RadioType.N,
    "5GHz": RadioType.A | RadioType.N,
    dual: RadioType.A | RadioType.B | RadioType.G | RadioType.N,
  };
  return bands.map((band, radioId) => ({ radioId, radioType: type[band] }));
}
