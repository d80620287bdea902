import { AcInformationType, ElementTable, ImageDataType, ieee80211Elements, rfc5415Elements, WtpDescriptorType } from "../codec/index.js";
import { ciscoVendorElements } from "./cisco/elements.js";
import {
  acDescriptor,
  boardData,
  discoveryElements,
  joinRequestExtensions,
  joinResponseExtensions,
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
  textOrOpaqueVersion,
  wtpDescriptor,
} from "./common.js";
import { findElement } from "./element-types.js";
import type { RadioInfo, VendorProfile, WtpInfo } from "./profile.js";
import { DOCUMENTATION_ENTERPRISE, vapElements } from "./vap-elements.js";

/** vap's own vendor id for the RFC profile's board data and descriptors: the documentation PEN. */
const VENDOR_ID = DOCUMENTATION_ENTERPRISE;

const descriptor = (wtp: WtpInfo) => wtpDescriptor(wtp, VENDOR_ID, text, 0);

/** RFC 5415 §4.6.31 and RFC 5416 §6: Radio IDs run from 1 to 31. */
const FIRST_RADIO_ID = 1;
const onWire = (radios: readonly RadioInfo[]) => radiosOnWire(radios, FIRST_RADIO_ID);

const textVersion = (type: number) => (subs: { type: number; data: Uint8Array }[]) => {
  const s = subs.find((d) => d.type === type);
  return s ? textOrOpaqueVersion(s.data) : undefined;
};

/**
 * Pure RFC 5415/5416: versions as text, 16-byte Session IDs, the mandatory
 * elements of each message (RFC 5415 §5–§8). Cisco's vendor elements are
 * still understood (keyed by vendor id, they cannot be confused).
 */
export const rfc5415Profile: VendorProfile = {
  name: "rfc5415",
  elements: new ElementTable([...rfc5415Elements, ...ieee80211Elements, ...ciscoVendorElements, ...vapElements]),
  sessionIdBytes: 16,
  firstRadioId: FIRST_RADIO_ID,
  imageBlockSize: 1024,
  vendorId: VENDOR_ID,

  discoveryRequest: (wtp) => discoveryElements({ ...wtp, radios: onWire(wtp.radios) }, VENDOR_ID, descriptor(wtp)),
  joinRequest: (wtp) => [
    { kind: "LocationData", location: wtp.location },
    boardData(VENDOR_ID, wtp),
    descriptor(wtp),
    { kind: "WtpName", name: wtp.name },
    { kind: "SessionId", sessionId: wtp.sessionId },
    { kind: "WtpFrameTunnelMode", mode: 0x04 },
    { kind: "WtpMacType", macType: 1 },
    ...radioInformation(onWire(wtp.radios)),
    { kind: "EcnSupport", ecnSupport: 0 },
    { kind: "CapwapLocalIpv4Address", address: wtp.localAddress },
    ...joinRequestExtensions(wtp),
  ],
  configurationStatusRequest: (wtp) => [
    { kind: "AcName", name: wtp.acName ?? "" },
    ...onWire(wtp.radios).map((r) => ({ kind: "RadioAdministrativeState" as const, radioId: r.radioId, adminState: 1 })),
    { kind: "StatisticsTimer", interval: 120 },
    rebootStatistics(wtp),
  ],
  changeStateEventRequest: (wtp) => [...radioOperationalStates(onWire(wtp.radios)), success()],
  wtpEventRequest: (wtp) => [...radioStatistics(onWire(wtp.radios)), rebootStatistics(wtp)],

  discoveryResponse: (ac, radios) => [
    acDescriptor(ac, [
      { vendorId: VENDOR_ID, type: AcInformationType.HardwareVersion, data: text(ac.hardwareVersion) },
      { vendorId: VENDOR_ID, type: AcInformationType.SoftwareVersion, data: text(ac.softwareVersion) },
    ]),
    { kind: "AcName", name: ac.name },
    ...radioInformation(onWire(radios)),
    { kind: "CapwapControlIpv4Address", address: ac.controlAddress, wtpCount: ac.activeWtps },
  ],
  joinResponse(ac, resultCode, radios, settings) {
    const [descriptor, name, ...rest] = this.discoveryResponse(ac, radios);
    return [
      { kind: "ResultCode", resultCode },
      descriptor!,
      name!,
      ...rest,
      { kind: "EcnSupport", ecnSupport: 0 },
      { kind: "CapwapLocalIpv4Address", address: ac.controlAddress },
      ...joinResponseExtensions(resultCode, settings),
    ];
  },
  configurationStatusResponse: (ac, radios) => [
    { kind: "CapwapTimers", discovery: 5, echoRequest: ac.echoIntervalSeconds },
    ...onWire(radios).map((r) => ({ kind: "DecryptionErrorReportPeriod" as const, radioId: r.radioId, interval: 120 })),
    { kind: "IdleTimeout", timeout: 300 },
    { kind: "WtpFallback", mode: 1 },
  ],
  echoResponse: () => [],

  // RFC 5415 §4.6.26: data type 1 = data, 2 = the last data (EOF), 5 = error.
  imageBlock: (data, last) => ({ kind: "ImageData", dataType: last ? ImageDataType.Eof : ImageDataType.Data, data }),
  imageAbort: () => ({ kind: "ImageData", dataType: ImageDataType.Error, data: new Uint8Array(0) }),
  readImageBlock(elements) {
    const el = findElement(elements, "ImageData");
    if (!el) return { kind: "corrupt", reason: "no Image Data element" };
    if (el.dataType === ImageDataType.Error) return { kind: "abort", reason: "the controller aborted the transfer (data type 5)" };
    if (el.dataType !== ImageDataType.Data && el.dataType !== ImageDataType.Eof) return { kind: "corrupt", reason: `unknown Image Data type ${el.dataType}` };
    return { kind: "data", data: el.data, last: el.dataType === ImageDataType.Eof };
  },

  acSummary: (elements) => summarizeAc(elements, textVersion(AcInformationType.SoftwareVersion)),
  wtpSummary: (elements) => summarizeWtp(elements, textVersion(WtpDescriptorType.ActiveSoftwareVersion)),
  joinSettings: readJoinSettings,
  radios: (elements) => readRadios(elements, FIRST_RADIO_ID),
};

