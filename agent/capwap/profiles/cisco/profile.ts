/**
 * The Cisco profile's messages: which elements a Cisco lightweight AP and a
 * Cisco WLC put in each message (research notes from actube's dumps of real
 * APs and Wireshark's Cisco dissector; element order is our guess [inf]).
 */
import { ElementTable, encodeControlMessage, ieee80211Elements, rfc5415Elements, WtpDescriptorType } from "../../codec/index.js";
import {
  acDescriptor,
  boardData,
  discoveryElements,
  joinRequestExtensions,
  joinResponseExtensions,
  opaqueVersion,
  radioInformation,
  radioOperationalStates,
  radioStatistics,
  radiosOnWire,
  readJoinSettings,
  readRadios,
  rebootStatistics,
  success,
  summarizeAc,
  summarizeWtp,
  text,
  wtpDescriptor,
} from "../common.js";
import { type Element, findElement } from "../element-types.js";
import type { RadioInfo, VendorProfile, WtpInfo } from "../profile.js";
import { vapExtensionElements } from "../vap-elements.js";
import { CISCO_VENDOR_ID, ciscoImageChecksum, CiscoImageOpcode, ciscoLayoutOverrides, ciscoVendorElements, LwappElementId, lwappPathMtu } from "./elements.js";
import { decodeCiscoVersion, encodeCiscoVersion } from "./version.js";

/** Cisco's AC Information sub-element types: software first, then hardware [obs: actube]. */
const AcInfoType = { Hardware: 0, Software: 1 } as const;
/** The Join Request is padded to this size with an LWAPP Path MTU element, as Cisco APs do [obs]. */
const JOIN_TARGET_SIZE = 1400;
const PATH_MTU = 1485;

const descriptor = (wtp: WtpInfo) => wtpDescriptor(wtp, CISCO_VENDOR_ID, encodeCiscoVersion, 0x0001);

/**
 * Radio IDs are the slot numbers, 0 and 1, below RFC 5415/5416's 1–31 [inf]:
 * Cisco APs name slots 0 and 1 in their own elements (Regulatory Domain's
 * slot field) [obs], and actube, a controller for real Cisco APs, writes
 * radio elements for radios 0 to max-1; no capture at hand shows the radio
 * elements' IDs themselves. A capture that does corrects it here.
 */
const FIRST_RADIO_ID = 0;
const onWire = (radios: readonly RadioInfo[]) => radiosOnWire(radios, FIRST_RADIO_ID);

const boardDataOptions: Element = { kind: "CiscoBoardDataOptions", antennaType: 1, flexConnect: 0, apType: 0, joinPriority: 1 };
const lwapp = (lwappElementId: number, data: Uint8Array): Element => ({ kind: "CiscoLwapp", lwappVendorId: CISCO_VENDOR_ID, lwappElementId, data });

/**
 * Cisco versions are 4 bytes, printed dotted [obs]; any other length is
 * shown opaque ("0x…"), which no dotted form can equal, so the forms stay
 * one per byte string and compare as the bytes do.
 */
const versionOf = (type: number) => (subs: { type: number; data: Uint8Array }[]) => {
  const s = subs.find((d) => d.type === type);
  if (!s) return undefined;
  return s.data.length === 4 ? decodeCiscoVersion(s.data) : opaqueVersion(s.data);
};

const ciscoExtensions = vapExtensionElements(CISCO_VENDOR_ID, 1001);

export const ciscoProfile: VendorProfile = {
  name: "cisco",
  elements: new ElementTable([...rfc5415Elements, ...ieee80211Elements, ...ciscoVendorElements, ...ciscoLayoutOverrides, ...ciscoExtensions]),
  sessionIdBytes: 4,
  firstRadioId: FIRST_RADIO_ID,
  imageBlockSize: 1377,
  vendorId: CISCO_VENDOR_ID,

  discoveryRequest: (wtp) => [...discoveryElements({ ...wtp, radios: onWire(wtp.radios) }, CISCO_VENDOR_ID, descriptor(wtp)), { kind: "CiscoRadName", name: wtp.name }, boardDataOptions],
  joinRequest(wtp) {
    const elements: Element[] = [
      { kind: "WtpIpv4Address", address: wtp.localAddress },
      boardData(CISCO_VENDOR_ID, wtp),
      descriptor(wtp),
      { kind: "WtpName", name: wtp.name },
      { kind: "SessionId", sessionId: wtp.sessionId },
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radioInformation(onWire(wtp.radios)),
      { kind: "LocationData", location: wtp.location },
      { kind: "MaximumMessageLength", length: 14000 },
      { kind: "CiscoApGroupName", name: wtp.group },
      { kind: "CiscoMwarAddress", mwarType: 0, address: wtp.acAddress ?? "0.0.0.0", unknown: 0 },
      boardDataOptions,
      ...joinRequestExtensions(wtp),
    ];
    // Cisco pads the Join Request to ~1400 bytes with the Path MTU element so the
    // controller learns the path carries that much [obs]. 8 bytes of CAPWAP header,
    // the message so far, then 16 bytes of TLV, vendor and LWAPP ids before the value.
    const sizeSoFar = 8 + encodeControlMessage({ type: 3, seq: 0, elements }, this.elements).length;
    const value = JOIN_TARGET_SIZE - sizeSoFar - 16;
    if (value > 40) elements.push(lwapp(LwappElementId.PathMtu, lwappPathMtu(PATH_MTU, value)));
    return elements;
  },
  configurationStatusRequest: (wtp) => [
    { kind: "AcName", name: wtp.acName ?? "" },
    // Radio ID 255 addresses the whole WTP (RFC 5415 §4.6.33).
    ...[...onWire(wtp.radios).map((r) => r.radioId), 255].map((radioId) => ({ kind: "RadioAdministrativeState" as const, radioId, adminState: 1 })),
    { kind: "StatisticsTimer", interval: 180 },
    rebootStatistics(wtp),
    { kind: "CiscoApModel", model: wtp.model, image: wtp.softwareVersion },
    {
      kind: "CiscoBoardData",
      cardId: 0,
      cardRevision: 0,
      modelLo: 0,
      modelHi: 0,
      serial: wtp.serial,
      unknown: new Uint8Array(8),
      antennaType: 1,
      flexConnect: 0,
      apType: 0,
      failoverPriority: 1,
      ethernetMac: wtp.baseMac,
    },
    ...wtp.radios.map((r) => ({ kind: "CiscoRegulatoryDomain" as const, bandId: r.radioId, set: 1, slot: r.radioId, code0: 0x42, code1: 0 })),
    { kind: "CiscoApUptime", current: wtp.uptimeSeconds, last: 0 },
    { kind: "CiscoBackupSoftwareVersion", version: wtp.backupVersion },
    { kind: "CiscoApModeAndType", mode: 0, type: 15 },
    { kind: "CiscoApLedState", ledState: 1, saveFlag: 0 },
  ],
  changeStateEventRequest: (wtp) => [...radioOperationalStates(onWire(wtp.radios)), success()],
  wtpEventRequest: (wtp) => radioStatistics(onWire(wtp.radios)),

  discoveryResponse: (ac, radios) => [
    acDescriptor(ac, [
      { vendorId: CISCO_VENDOR_ID, type: AcInfoType.Software, data: encodeCiscoVersion(ac.softwareVersion) },
      { vendorId: CISCO_VENDOR_ID, type: AcInfoType.Hardware, data: encodeCiscoVersion(ac.hardwareVersion) },
    ]),
    { kind: "AcName", name: ac.name },
    { kind: "CapwapControlIpv4Address", address: ac.controlAddress, wtpCount: ac.activeWtps },
    ...radioInformation(onWire(radios)),
    // The AP does not proceed to DTLS without AP Time Sync [obs].
    { kind: "CiscoApTimeSync", timestamp: ac.unixTime, type: 0 },
    { kind: "CiscoMwarType", mwarType: 0 },
  ],
  joinResponse(ac, resultCode, radios, settings) {
    const [descriptor, name, control] = this.discoveryResponse(ac, radios);
    return [
      { kind: "ResultCode", resultCode },
      descriptor!,
      name!,
      control!,
      ...radioInformation(onWire(radios)),
      lwapp(LwappElementId.PathMtu, lwappPathMtu(PATH_MTU, 8)),
      ...joinResponseExtensions(resultCode, settings),
    ];
  },
  configurationStatusResponse: (ac, radios) => [
    ...onWire(radios).map((r) => ({ kind: "RadioAdministrativeState" as const, radioId: r.radioId, adminState: 1 })),
    ...radioOperationalStates(onWire(radios)),
    { kind: "CapwapTimers", discovery: 5, echoRequest: ac.echoIntervalSeconds },
    { kind: "IdleTimeout", timeout: 300 },
    { kind: "WtpFallback", mode: 1 },
    lwapp(LwappElementId.MwarHashValue, text(ac.name)),
  ],
  echoResponse: (ac) => [{ kind: "CiscoApTimeSync", timestamp: ac.unixTime, type: 0 }],

  // LWAPP-style blocks: opcode 3, RFC 1071 checksum, data; the end is known from the size [obs].
  imageBlock: (data) => ({ kind: "CiscoImageData", opcode: CiscoImageOpcode.Data, checksum: ciscoImageChecksum(data), data }),
  imageAbort: () => ({ kind: "CiscoImageData", opcode: CiscoImageOpcode.Error, data: new Uint8Array(0) }),
  readImageBlock(elements) {
    const el = findElement(elements, "CiscoImageData");
    if (!el) return { kind: "corrupt", reason: "no Image Data element" };
    if (el.opcode === CiscoImageOpcode.Error) return { kind: "abort", reason: "the controller aborted the transfer (opcode 5)" };
    if (el.opcode !== CiscoImageOpcode.Data || el.checksum === undefined) return { kind: "corrupt", reason: `unknown Image Data opcode ${el.opcode}` };
    const checksum = ciscoImageChecksum(el.data);
    if (checksum !== el.checksum) return { kind: "corrupt", reason: `block checksum 0x${checksum.toString(16)} ≠ 0x${el.checksum.toString(16)}` };
    return { kind: "data", data: el.data, last: false };
  },

  acSummary: (elements) => summarizeAc(elements, versionOf(AcInfoType.Software)),
  wtpSummary: (elements) => summarizeWtp(elements, versionOf(WtpDescriptorType.ActiveSoftwareVersion)),
  joinSettings: readJoinSettings,
  radios: (elements) => readRadios(elements, FIRST_RADIO_ID),
};
