/**
 * Element builders and readers both profiles share; each profile composes
 * them with its own layouts (versions as text or 4 bytes, Cisco extras).
 */
import { BoardDataType, fromHex, ResultCode, toHex, WtpDescriptorType } from "../codec/index.js";
import { type Element, findElement, findElements } from "./element-types.js";
import type { AcInfo, AcSummary, JoinSettings, RadioInfo, WtpInfo, WtpSummary } from "./profile.js";

const text = (s: string) => new TextEncoder().encode(s);
const fromText = (b: Uint8Array) => new TextDecoder().decode(b);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** C0 and C1 controls and DEL: bytes no one means as part of a printed version. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** The form opaqueVersion gives; text that reads like it is shown in that form too. */
const OPAQUE_FORM = /^0x[0-9a-f]*$/i;

/** Bytes that are no text: "0x" and their hex (00 31 ff fe → "0x0031fffe"). */
export function opaqueVersion(bytes: Uint8Array): string {
  return `0x${toHex(bytes)}`;
}

/**
 * A version field whose bytes the vendor chooses (RFC 5415 §4.6.1 AC
 * Information, §4.6.41 WTP Descriptor), as vap prints and compares it.
 * Printable UTF-8 stays itself ("8.10.130.0"); anything else, such as a
 * controller's 4 binary bytes, becomes opaqueVersion() — and so does text
 * that already reads "0x…", so no two byte strings share a form: comparing
 * the forms as strings compares the bytes.
 */
export function textOrOpaqueVersion(bytes: Uint8Array): string {
  let s: string;
  try {
    s = strictUtf8.decode(bytes);
  } catch {
    return opaqueVersion(bytes);
  }
  return CONTROL_CHARACTER.test(s) || OPAQUE_FORM.test(s) ? opaqueVersion(bytes) : s;
}

export function boardData(vendorId: number, wtp: WtpInfo): Element {
  return {
    kind: "WtpBoardData",
    vendorId,
    items: [
      { type: BoardDataType.ModelNumber, data: text(wtp.model) },
      { type: BoardDataType.SerialNumber, data: text(wtp.serial) },
      { type: BoardDataType.BoardRevision, data: text("A0") },
      { type: BoardDataType.BaseMacAddress, data: fromHex(wtp.baseMac) },
    ],
  };
}

/** How a profile writes a version into a descriptor sub-element (text, or Cisco's 4 bytes). */
export type VersionEncoding = (version: string) => Uint8Array;

/** RFC 5415 §4.6.41 WTP Descriptor with the hardware, active, boot and other versions. */
export function wtpDescriptor(wtp: WtpInfo, vendorId: number, encode: VersionEncoding, capabilities: number): Element {
  const sub = (type: number, version: string) => ({ vendorId, type, data: encode(version) });
  return {
    kind: "WtpDescriptor",
    maxRadios: wtp.radios.length,
    radiosInUse: wtp.radios.length,
    encryption: [{ wbid: 1, capabilities }],
    descriptors: [
      sub(WtpDescriptorType.HardwareVersion, wtp.hardwareVersion),
      sub(WtpDescriptorType.ActiveSoftwareVersion, wtp.softwareVersion),
      sub(WtpDescriptorType.BootVersion, wtp.bootVersion),
      sub(WtpDescriptorType.OtherSoftwareVersion, wtp.backupVersion),
    ],
  };
}

/** RFC 5415 §5.1's Discovery Request elements (both profiles start with these). */
export function discoveryElements(wtp: WtpInfo, vendorId: number, descriptor: Element): Element[] {
  return [
    { kind: "DiscoveryType", discoveryType: wtp.discoveryType },
    boardData(vendorId, wtp),
    descriptor,
    { kind: "WtpFrameTunnelMode", mode: 0x04 },
    { kind: "WtpMacType", macType: 1 },
    ...radioInformation(wtp.radios),
  ];
}

export function radioInformation(radios: readonly RadioInfo[]): Element[] {
  return radios.map((r) => ({ kind: "Ieee80211WtpRadioInformation", radioId: r.radioId, radioType: r.radioType }));
}

export function rebootStatistics(wtp: WtpInfo): Element {
  return {
    kind: "WtpRebootStatistics",
    rebootCount: Math.min(wtp.rebootCount, 0xffff),
    acInitiatedCount: 0,
    linkFailureCount: 0,
    swFailureCount: 0,
    hwFailureCount: 0,
    otherFailureCount: 0,
    unknownFailureCount: 0,
    lastFailureType: 0,
  };
}

export function radioOperationalStates(radios: readonly RadioInfo[]): Element[] {
  // RFC 5415 §4.6.34: state 2 = enabled, cause 0 = normal.
  return radios.map((r) => ({ kind: "RadioOperationalState", radioId: r.radioId, state: 2, cause: 0 }));
}

export function radioStatistics(radios: readonly RadioInfo[]): Element[] {
  return radios.map((r) => ({
    kind: "WtpRadioStatistics",
    radioId: r.radioId,
    lastFailType: 0,
    resetCount: 0,
    swFailureCount: 0,
    hwFailureCount: 0,
    otherFailureCount: 0,
    unknownFailureCount: 0,
    configUpdateCount: 0,
    channelChangeCount: 0,
    bandChangeCount: 0,
    currentNoiseFloor: 0xffa6,
  }));
}

export function acDescriptor(ac: AcInfo, info: { vendorId: number; type: number; data: Uint8Array }[]): Element {
  return {
    kind: "AcDescriptor",
    stations: ac.stations,
    limit: ac.stationLimit,
    activeWtps: ac.activeWtps,
    maxWtps: ac.maxWtps,
    security: ac.security,
    rmacField: 2, // RFC 5415 §4.6.1: 2 = R-MAC not supported
    reserved: 0,
    dtlsPolicy: 0x02, // clear-text data channel
    info,
  };
}

export function success(): Element {
  return { kind: "ResultCode", resultCode: ResultCode.Success };
}

/** AC summary from a Discovery or Join Response, with the profile's reading of the software version. */
export function summarizeAc(elements: readonly Element[], softwareVersion: (info: { vendorId: number; type: number; data: Uint8Array }[]) => string | undefined): AcSummary {
  const d = findElement(elements, "AcDescriptor");
  const summary: AcSummary = { activeWtps: d?.activeWtps ?? 0, maxWtps: d?.maxWtps ?? 0, stations: d?.stations ?? 0, stationLimit: d?.limit ?? 0 };
  const name = findElement(elements, "AcName")?.name;
  if (name !== undefined) summary.name = name;
  const version = d ? softwareVersion(d.info) : undefined;
  if (version !== undefined) summary.softwareVersion = version;
  return summary;
}

export function summarizeWtp(elements: readonly Element[], softwareVersion: (descriptors: { vendorId: number; type: number; data: Uint8Array }[]) => string | undefined): WtpSummary {
  const summary: WtpSummary = {};
  const name = findElement(elements, "WtpName")?.name ?? findElement(elements, "CiscoRadName")?.name;
  if (name !== undefined) summary.name = name;
  for (const item of findElement(elements, "WtpBoardData")?.items ?? []) {
    if (item.type === BoardDataType.ModelNumber) summary.model = fromText(item.data);
    if (item.type === BoardDataType.SerialNumber) summary.serial = fromText(item.data);
    if (item.type === BoardDataType.BaseMacAddress) summary.baseMac = toHex(item.data, ":");
  }
  const descriptor = findElement(elements, "WtpDescriptor");
  const version = descriptor ? softwareVersion(descriptor.descriptors) : undefined;
  if (version !== undefined) summary.softwareVersion = version;
  const sessionId = findElement(elements, "SessionId")?.sessionId;
  if (sessionId) summary.sessionId = sessionId;
  summary.oobCapable = findElement(elements, "OobCapability")?.enabled === 1;
  return summary;
}

/** Slots as the Radio IDs a profile's elements carry: slot 0 is `firstRadioId`. */
export function radiosOnWire(radios: readonly RadioInfo[], firstRadioId: number): RadioInfo[] {
  return radios.map((r) => ({ ...r, radioId: r.radioId + firstRadioId }));
}

/** The radios a request's WTP Radio Information elements name, by slot. */
export function readRadios(elements: readonly Element[], firstRadioId: number): RadioInfo[] {
  return findElements(elements, "Ieee80211WtpRadioInformation").map((r) => ({ radioId: r.radioId - firstRadioId, radioType: r.radioType }));
}

/** The AP's own extensions in its Join Request: OOB capability, when it has it. */
export function joinRequestExtensions(wtp: WtpInfo): Element[] {
  return wtp.oobCapable ? [{ kind: "OobCapability", enabled: 1 }] : [];
}

/** The per-AP settings a successful Join Response carries: the image window, and the HTTPS port when the controller offers OOB download. */
export function joinResponseExtensions(resultCode: number, settings: JoinSettings): Element[] {
  if (resultCode !== ResultCode.Success) return [];
  return [{ kind: "ImageWindow", window: settings.imageWindow }, ...(settings.oobPort !== undefined ? [{ kind: "OobImageDownload" as const, port: settings.oobPort }] : [])];
}

export function readJoinSettings(elements: readonly Element[]): JoinSettings {
  const oob = findElement(elements, "OobImageDownload");
  return { imageWindow: findElement(elements, "ImageWindow")?.window ?? 1, ...(oob ? { oobPort: oob.port } : {}) };
}

export { text, fromText };
