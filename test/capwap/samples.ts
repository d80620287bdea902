/**
 * A realistic message of every kind an AP or a controller sends in the
 * discovery, join, configure, run, image-data, reset and event flows, with
 * every RFC 5415 element 1–53 and RFC 5416 element 1024–1048 appearing at
 * least once. The golden, round-trip and fuzz tests all start from these.
 */
import { AcSecurity, BoardDataType, DiscoveryType, DtlsPolicy, ImageDataType, MessageType, RadioType, ResultCode } from "../../agent/capwap/codec/index.js";
import type { AcInfo, Element, Message, VendorProfile, WtpInfo } from "../../agent/capwap/profiles/index.js";

const text = (s: string) => new TextEncoder().encode(s);
const bytesOf = (...b: number[]) => Uint8Array.from(b);
export const SESSION_ID = bytesOf(0x5e, 0x55, 0x10, 0x4d, 0xa0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b);
export const IMAGE_MD5 = bytesOf(0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e);
export const BASE_MAC = "00:11:22:33:44:55";

export const boardData: Element = {
  kind: "WtpBoardData",
  vendorId: 4232704,
  items: [
    { type: BoardDataType.ModelNumber, data: text("C9120AXI-B") },
    { type: BoardDataType.SerialNumber, data: text("FOC2345Z0AB") },
    { type: BoardDataType.BoardId, data: text("5A3B") },
    { type: BoardDataType.BoardRevision, data: text("A0") },
    { type: BoardDataType.BaseMacAddress, data: bytesOf(0x00, 0x11, 0x22, 0x33, 0x44, 0x55) },
  ],
};

export const rfcWtpDescriptor: Element = {
  kind: "WtpDescriptor",
  maxRadios: 2,
  radiosInUse: 2,
  encryption: [{ wbid: 1, capabilities: 0x0000 }],
  descriptors: [
    { vendorId: 4232704, type: 0, data: text("1.0") },
    { vendorId: 4232704, type: 1, data: text("17.9.4.27") },
    { vendorId: 4232704, type: 2, data: text("1.1.2.4") },
    { vendorId: 4232704, type: 3, data: text("8.10.130.0") },
  ],
};

export const acDescriptor: Element = {
  kind: "AcDescriptor",
  stations: 12,
  limit: 16000,
  activeWtps: 3,
  maxWtps: 6000,
  security: AcSecurity.X509,
  rmacField: 2,
  reserved: 0,
  dtlsPolicy: DtlsPolicy.ClearDataChannel,
  info: [
    { vendorId: 4232704, type: 4, data: text("C9800-CL") },
    { vendorId: 4232704, type: 5, data: text("17.12.1.5") },
  ],
};

const radioInfo = (radioId: number, radioType: number): Element => ({ kind: "Ieee80211WtpRadioInformation", radioId, radioType });
const radios = [radioInfo(0, RadioType.B | RadioType.G | RadioType.N), radioInfo(1, RadioType.A | RadioType.N)];

/** The RFC 5415 profile's messages, AP → AC and AC → AP. */
export function rfc5415Messages(): { name: string; message: Message; direction: "ap" | "ac" }[] {
  const m = (name: string, direction: "ap" | "ac", type: number, seq: number, elements: Element[]) => ({ name, direction, message: { type, seq, elements } });
  return [
    m("discovery request", "ap", MessageType.DiscoveryRequest, 0, [
      { kind: "DiscoveryType", discoveryType: DiscoveryType.Static },
      boardData,
      rfcWtpDescriptor,
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radios,
      { kind: "MtuDiscoveryPadding", padding: new Uint8Array(16).fill(0xff) },
    ]),
    m("discovery response", "ac", MessageType.DiscoveryResponse, 0, [
      acDescriptor,
      { kind: "AcName", name: "vap-lab-wlc" },
      ...radios,
      { kind: "CapwapControlIpv4Address", address: "192.0.2.1", wtpCount: 3 },
      { kind: "CapwapControlIpv6Address", address: "2001:db8::1", wtpCount: 0 },
    ]),
    m("primary discovery request", "ap", MessageType.PrimaryDiscoveryRequest, 1, [
      { kind: "DiscoveryType", discoveryType: DiscoveryType.Dns },
      boardData,
      rfcWtpDescriptor,
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radios,
    ]),
    m("primary discovery response", "ac", MessageType.PrimaryDiscoveryResponse, 1, [
      acDescriptor,
      { kind: "AcName", name: "vap-lab-wlc" },
      ...radios,
      { kind: "CapwapControlIpv4Address", address: "192.0.2.1", wtpCount: 3 },
    ]),
    m("join request", "ap", MessageType.JoinRequest, 1, [
      { kind: "LocationData", location: "Lab rack 3" },
      boardData,
      rfcWtpDescriptor,
      { kind: "WtpName", name: "AP0011.2233.4455" },
      { kind: "SessionId", sessionId: SESSION_ID },
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radios,
      { kind: "EcnSupport", ecnSupport: 0 },
      { kind: "CapwapLocalIpv4Address", address: "192.0.2.10" },
      { kind: "CapwapLocalIpv6Address", address: "2001:db8::10" },
      { kind: "CapwapTransportProtocol", transport: 2 },
      { kind: "MaximumMessageLength", length: 1485 },
      { kind: "WtpRebootStatistics", rebootCount: 4, acInitiatedCount: 1, linkFailureCount: 2, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 1, unknownFailureCount: 0, lastFailureType: 2 },
    ]),
    m("join response", "ac", MessageType.JoinResponse, 1, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      acDescriptor,
      { kind: "AcName", name: "vap-lab-wlc" },
      ...radios,
      { kind: "EcnSupport", ecnSupport: 0 },
      { kind: "CapwapControlIpv4Address", address: "192.0.2.1", wtpCount: 3 },
      { kind: "CapwapLocalIpv4Address", address: "192.0.2.1" },
      { kind: "AcIpv4List", addresses: ["192.0.2.1", "192.0.2.2"] },
      { kind: "AcIpv6List", addresses: ["2001:db8::1"] },
      { kind: "ImageIdentifier", vendorId: 4232704, identifier: "17.12.1.5" },
    ]),
    m("configuration status request", "ap", MessageType.ConfigurationStatusRequest, 2, [
      { kind: "AcName", name: "vap-lab-wlc" },
      { kind: "RadioAdministrativeState", radioId: 0, adminState: 1 },
      { kind: "RadioAdministrativeState", radioId: 1, adminState: 1 },
      { kind: "StatisticsTimer", interval: 120 },
      { kind: "WtpRebootStatistics", rebootCount: 4, acInitiatedCount: 1, linkFailureCount: 2, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 1, unknownFailureCount: 0, lastFailureType: 2 },
      { kind: "AcNameWithPriority", priority: 1, name: "vap-lab-wlc" },
      { kind: "WtpStaticIpAddressInformation", address: "192.0.2.10", netmask: "255.255.255.0", gateway: "192.0.2.254", static: 0 },
      { kind: "Ieee80211Antenna", radioId: 1, diversity: 1, combiner: 3, selections: [1, 2] },
      { kind: "Ieee80211DirectSequenceControl", radioId: 0, reserved: 0, currentChannel: 6, currentCca: 1, energyDetectThreshold: 0 },
      { kind: "Ieee80211MacOperation", radioId: 1, reserved: 0, rtsThreshold: 2347, shortRetry: 7, longRetry: 4, fragmentationThreshold: 2346, txMsduLifetime: 512, rxMsduLifetime: 512 },
      { kind: "Ieee80211MultiDomainCapability", radioId: 1, reserved: 0, firstChannel: 36, numberOfChannels: 8, maxTxPowerLevel: 20 },
      { kind: "Ieee80211OfdmControl", radioId: 1, reserved: 0, currentChannel: 36, bandSupport: 0x0f, tiThreshold: 0 },
      { kind: "Ieee80211SupportedRates", radioId: 1, rates: bytesOf(0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c) },
      { kind: "Ieee80211TxPower", radioId: 1, reserved: 0, currentTxPower: 17 },
      { kind: "Ieee80211TxPowerLevel", radioId: 1, levels: [20, 17, 14, 11] },
      { kind: "Ieee80211WtpRadioConfiguration", radioId: 1, shortPreamble: 1, numBssids: 16, dtimPeriod: 1, bssid: "00:11:22:33:44:60", beaconPeriod: 100, countryString: bytesOf(0x55, 0x53, 0x20, 0x00) },
      ...radios,
    ]),
    m("configuration status response", "ac", MessageType.ConfigurationStatusResponse, 2, [
      { kind: "CapwapTimers", discovery: 5, echoRequest: 30 },
      { kind: "DecryptionErrorReportPeriod", radioId: 1, interval: 120 },
      { kind: "IdleTimeout", timeout: 300 },
      { kind: "WtpFallback", mode: 1 },
      { kind: "AcIpv4List", addresses: ["192.0.2.1"] },
      { kind: "Ieee80211WtpQualityOfService", radioId: 1, taggingPolicy: 0, queues: [0, 1, 2, 3].map((q) => ({ queueDepth: 32, cwMin: 15, cwMax: 1023, aifs: 2 + q, dot1p: q, dscp: 8 * q })) },
      { kind: "Ieee80211RateSet", radioId: 1, rates: bytesOf(0x8c, 0x98, 0xb0) },
    ]),
    m("change state event request", "ap", MessageType.ChangeStateEventRequest, 3, [
      { kind: "RadioOperationalState", radioId: 0, state: 2, cause: 0 },
      { kind: "RadioOperationalState", radioId: 1, state: 2, cause: 0 },
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ReturnedMessageElement", reason: 1, element: bytesOf(0x03, 0xe8, 0x00, 0x01, 0x01) },
    ]),
    m("change state event response", "ac", MessageType.ChangeStateEventResponse, 3, []),
    m("echo request", "ap", MessageType.EchoRequest, 4, []),
    m("echo response", "ac", MessageType.EchoResponse, 4, []),
    m("wtp event request", "ap", MessageType.WtpEventRequest, 5, [
      { kind: "DecryptionErrorReport", radioId: 1, macs: ["00:aa:bb:cc:dd:ee"] },
      { kind: "DuplicateIpv4Address", address: "192.0.2.10", status: 1, mac: "00:aa:bb:cc:dd:ef" },
      { kind: "DuplicateIpv6Address", address: "2001:db8::10", status: 0, mac: "00:aa:bb:cc:dd:ef" },
      { kind: "WtpRadioStatistics", radioId: 1, lastFailType: 0, resetCount: 1, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 0, unknownFailureCount: 0, configUpdateCount: 3, channelChangeCount: 2, bandChangeCount: 0, currentNoiseFloor: 0xffa6 },
      { kind: "WtpRebootStatistics", rebootCount: 4, acInitiatedCount: 1, linkFailureCount: 2, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 1, unknownFailureCount: 0, lastFailureType: 2 },
      { kind: "DeleteStation", radioId: 1, mac: "00:aa:bb:cc:dd:ee" },
      { kind: "Ieee80211MicCountermeasures", radioId: 1, wlanId: 1, mac: "00:aa:bb:cc:dd:ee" },
      { kind: "Ieee80211RsnaErrorReportFromStation", clientMac: "00:aa:bb:cc:dd:ee", bssid: "00:11:22:33:44:60", radioId: 1, wlanId: 1, reserved: 0, tkipIcvErrors: 1, tkipLocalMicFailures: 2, tkipRemoteMicFailures: 3, ccmpReplays: 4, ccmpDecryptErrors: 5, tkipReplays: 6 },
      { kind: "Ieee80211Statistics", radioId: 1, reserved: bytesOf(0, 0, 0), txFragmentCount: 1, multicastTxCount: 2, failedCount: 3, retryCount: 4, multipleRetryCount: 5, frameDuplicateCount: 6, rtsSuccessCount: 7, rtsFailureCount: 8, ackFailureCount: 9, rxFragmentCount: 10, multicastRxCount: 11, fcsErrorCount: 12, txFrameCount: 13, decryptionErrors: 14, discardedQosFragmentCount: 15, associatedStationCount: 16, qosCfPollsReceivedCount: 17, qosCfPollsUnusedCount: 18, qosCfPollsUnusableCount: 19 },
      { kind: "Ieee80211WtpRadioFailAlarmIndication", radioId: 1, type: 1, status: 0, pad: 0 },
    ]),
    m("wtp event response", "ac", MessageType.WtpEventResponse, 5, []),
    m("configuration update request", "ac", MessageType.ConfigurationUpdateRequest, 9, [
      { kind: "AcNameWithPriority", priority: 1, name: "vap-lab-wlc" },
      { kind: "AcTimestamp", timestamp: 3_915_000_000 },
      { kind: "AddMacAclEntry", macs: ["00:aa:bb:cc:dd:01", "00:aa:bb:cc:dd:02"] },
      { kind: "DeleteMacAclEntry", macs: ["00:aa:bb:cc:dd:03"] },
      { kind: "CapwapTimers", discovery: 5, echoRequest: 30 },
      { kind: "IdleTimeout", timeout: 300 },
      { kind: "LocationData", location: "Lab rack 4" },
      { kind: "RadioAdministrativeState", radioId: 1, adminState: 2 },
      { kind: "StatisticsTimer", interval: 180 },
      { kind: "WtpFallback", mode: 2 },
      { kind: "WtpName", name: "lab-ap-1" },
      { kind: "Ieee80211InformationElement", radioId: 1, wlanId: 1, flags: 0x80, informationElement: bytesOf(0xdd, 0x04, 0x00, 0x40, 0x96, 0x01) },
    ]),
    m("configuration update response", "ap", MessageType.ConfigurationUpdateResponse, 9, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("image data request (initiate)", "ap", MessageType.ImageDataRequest, 6, [
      { kind: "ImageIdentifier", vendorId: 4232704, identifier: "ap1g8" },
      { kind: "InitiateDownload" },
    ]),
    m("image data response (information)", "ac", MessageType.ImageDataResponse, 6, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: 70_512_640, hash: IMAGE_MD5 },
    ]),
    m("image data request (block)", "ac", MessageType.ImageDataRequest, 7, [
      { kind: "ImageData", dataType: ImageDataType.Data, data: new Uint8Array(1024).map((_, i) => i & 0xff) },
    ]),
    m("image data request (eof)", "ac", MessageType.ImageDataRequest, 8, [{ kind: "ImageData", dataType: ImageDataType.Eof, data: bytesOf(1, 2, 3) }]),
    m("image data response (ack)", "ap", MessageType.ImageDataResponse, 7, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("reset request", "ac", MessageType.ResetRequest, 10, [{ kind: "ImageIdentifier", vendorId: 4232704, identifier: "17.12.1.5" }]),
    m("reset response", "ap", MessageType.ResetResponse, 10, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("data transfer request", "ap", MessageType.DataTransferRequest, 11, [{ kind: "DataTransferData", dataType: 1, dataMode: 1, data: text("crash: none\n") }]),
    m("data transfer response", "ac", MessageType.DataTransferResponse, 11, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("data transfer request (mode)", "ac", MessageType.DataTransferRequest, 12, [{ kind: "DataTransferMode", dataMode: 1 }]),
    m("clear configuration request", "ac", MessageType.ClearConfigurationRequest, 13, []),
    m("clear configuration response", "ap", MessageType.ClearConfigurationResponse, 13, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("station configuration request", "ac", MessageType.StationConfigurationRequest, 14, [
      { kind: "AddStation", radioId: 1, mac: "00:aa:bb:cc:dd:ee", vlanName: "corp" },
      { kind: "Ieee80211Station", radioId: 1, associationId: 1, flags: 0, mac: "00:aa:bb:cc:dd:ee", capabilities: 0x0431, wlanId: 1, supportedRates: bytesOf(0x8c, 0x12, 0x98) },
      { kind: "Ieee80211StationSessionKey", mac: "00:aa:bb:cc:dd:ee", flags: 0, pairwiseTsc: new Uint8Array(6), pairwiseRsc: new Uint8Array(6), key: new Uint8Array(16).fill(0x42) },
      { kind: "Ieee80211StationQosProfile", mac: "00:aa:bb:cc:dd:ee", priority: 5 },
      { kind: "Ieee80211UpdateStationQos", radioId: 1, mac: "00:aa:bb:cc:dd:ee", qos: [0x0000, 0x0020, 0x00a0, 0x00c0] },
    ]),
    m("station configuration response", "ap", MessageType.StationConfigurationResponse, 14, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("wlan configuration request (add)", "ac", MessageType.Ieee80211WlanConfigurationRequest, 15, [
      { kind: "Ieee80211AddWlan", radioId: 1, wlanId: 1, capability: 0x0400, keyIndex: 0, keyStatus: 0, key: new Uint8Array(0), groupTsc: new Uint8Array(6), qos: 0, authType: 0, macMode: 1, tunnelMode: 0, suppressSsid: 0, ssid: "vap-lab" },
    ]),
    m("wlan configuration response", "ap", MessageType.Ieee80211WlanConfigurationResponse, 15, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "Ieee80211AssignedWtpBssid", radioId: 1, wlanId: 1, bssid: "00:11:22:33:44:61" },
    ]),
    m("wlan configuration request (update)", "ac", MessageType.Ieee80211WlanConfigurationRequest, 16, [
      { kind: "Ieee80211UpdateWlan", radioId: 1, wlanId: 1, capability: 0x0400, keyIndex: 1, keyStatus: 3, key: new Uint8Array(16).fill(7) },
    ]),
    m("wlan configuration request (delete)", "ac", MessageType.Ieee80211WlanConfigurationRequest, 17, [{ kind: "Ieee80211DeleteWlan", radioId: 1, wlanId: 1 }]),
  ];
}

/** Cisco's 4-byte Session ID (a real 1142 sent 4a 23 08 69). */
export const CISCO_SESSION_ID = bytesOf(0x4a, 0x23, 0x08, 0x69);
const CISCO = 4232704;
const version = (...parts: number[]) => Uint8Array.from(parts);

export const ciscoWtpDescriptor: Element = {
  kind: "WtpDescriptor",
  maxRadios: 2,
  radiosInUse: 2,
  encryption: [{ wbid: 1, capabilities: 0x0001 }],
  descriptors: [
    { vendorId: CISCO, type: 0, data: version(1, 0, 0, 0) },
    { vendorId: CISCO, type: 1, data: version(17, 9, 4, 27) },
    { vendorId: CISCO, type: 2, data: version(17, 9, 4, 27) },
    { vendorId: CISCO, type: 3, data: version(8, 10, 130, 0) },
  ],
};

const ciscoAcDescriptor: Element = {
  ...(acDescriptor as Extract<Element, { kind: "AcDescriptor" }>),
  // A Cisco WLC lists the software version (type 1) before the hardware (type 0), 4-byte values.
  info: [
    { vendorId: CISCO, type: 1, data: version(17, 12, 1, 5) },
    { vendorId: CISCO, type: 0, data: version(0, 0, 0, 0) },
  ],
};

/** 1377 bytes of image, the size of a Cisco image block. */
export const CISCO_BLOCK = new Uint8Array(1377).map((_, i) => i & 0xff);

/** The Cisco profile's messages (SPEC.md §3 "Cisco flavour"). */
export function ciscoMessages(): { name: string; message: Message; direction: "ap" | "ac" }[] {
  const m = (name: string, direction: "ap" | "ac", type: number, seq: number, elements: Element[]) => ({ name, direction, message: { type, seq, elements } });
  const pathMtu = (n: number): Element => ({ kind: "CiscoLwapp", lwappVendorId: CISCO, lwappElementId: 73, data: Uint8Array.of(0x05, 0xcd, n >> 8, n & 0xff, ...new Uint8Array(n - 4)) });
  return [
    m("discovery request", "ap", MessageType.DiscoveryRequest, 0, [
      { kind: "DiscoveryType", discoveryType: DiscoveryType.Static },
      boardData,
      ciscoWtpDescriptor,
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radios,
      { kind: "CiscoRadName", name: "AP0011.2233.4455" },
      { kind: "CiscoBoardDataOptions", antennaType: 1, flexConnect: 0, apType: 0, joinPriority: 1 },
    ]),
    m("discovery response", "ac", MessageType.DiscoveryResponse, 0, [
      ciscoAcDescriptor,
      { kind: "AcName", name: "vap-lab-wlc" },
      { kind: "CapwapControlIpv4Address", address: "192.0.2.1", wtpCount: 3 },
      ...radios,
      { kind: "CiscoApTimeSync", timestamp: 1_706_650_895, type: 0 },
      { kind: "CiscoMwarType", mwarType: 0 },
    ]),
    m("join request", "ap", MessageType.JoinRequest, 1, [
      { kind: "WtpIpv4Address", address: "192.0.2.10" },
      boardData,
      ciscoWtpDescriptor,
      { kind: "WtpName", name: "AP0011.2233.4455" },
      { kind: "SessionId", sessionId: CISCO_SESSION_ID },
      { kind: "WtpFrameTunnelMode", mode: 0x04 },
      { kind: "WtpMacType", macType: 1 },
      ...radios,
      { kind: "LocationData", location: "default location" },
      { kind: "MaximumMessageLength", length: 14000 },
      { kind: "CiscoApGroupName", name: "default-group" },
      { kind: "CiscoMwarAddress", mwarType: 0, address: "192.0.2.1", unknown: 0 },
      { kind: "CiscoBoardDataOptions", antennaType: 1, flexConnect: 0, apType: 0, joinPriority: 1 },
      pathMtu(412),
    ]),
    m("join response", "ac", MessageType.JoinResponse, 1, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      ciscoAcDescriptor,
      { kind: "AcName", name: "vap-lab-wlc" },
      { kind: "CapwapControlIpv4Address", address: "192.0.2.1", wtpCount: 3 },
      ...radios,
      pathMtu(8),
    ]),
    m("configuration status request", "ap", MessageType.ConfigurationStatusRequest, 2, [
      { kind: "AcName", name: "vap-lab-wlc" },
      { kind: "RadioAdministrativeState", radioId: 0, adminState: 1 },
      { kind: "RadioAdministrativeState", radioId: 1, adminState: 1 },
      { kind: "RadioAdministrativeState", radioId: 255, adminState: 1 },
      { kind: "StatisticsTimer", interval: 180 },
      { kind: "WtpRebootStatistics", rebootCount: 2, acInitiatedCount: 1, linkFailureCount: 0, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 0, unknownFailureCount: 1, lastFailureType: 5 },
      { kind: "CiscoApModel", model: "C9105AXI-B", image: "17.9.4.27" },
      {
        kind: "CiscoBoardData",
        cardId: 0,
        cardRevision: 0,
        modelLo: 0,
        modelHi: 0,
        serial: "FOC2345Z0AB",
        unknown: new Uint8Array(8),
        antennaType: 1,
        flexConnect: 0,
        apType: 0,
        failoverPriority: 1,
        ethernetMac: BASE_MAC,
      },
      { kind: "CiscoRegulatoryDomain", bandId: 0, set: 1, slot: 0, code0: 0x42, code1: 0x00 },
      { kind: "CiscoRegulatoryDomain", bandId: 1, set: 1, slot: 1, code0: 0x42, code1: 0x00 },
      { kind: "CiscoApUptime", current: 84, last: 1 },
      { kind: "CiscoBackupSoftwareVersion", version: "8.10.130.0" },
      { kind: "CiscoMinIosVersion", version: "8.3.111.0" },
      { kind: "CiscoApModeAndType", mode: 0, type: 15 },
      { kind: "CiscoApStaticIp", address: "0.0.0.0", netmask: "0.0.0.0", gateway: "0.0.0.0", static: 0, reserved: new Uint8Array(4) },
      { kind: "CiscoApLedState", ledState: 1, saveFlag: 0 },
    ]),
    m("configuration status response", "ac", MessageType.ConfigurationStatusResponse, 2, [
      { kind: "RadioAdministrativeState", radioId: 0, adminState: 1 },
      { kind: "RadioOperationalState", radioId: 0, state: 2, cause: 0 },
      { kind: "CapwapTimers", discovery: 5, echoRequest: 30 },
      { kind: "IdleTimeout", timeout: 300 },
      { kind: "WtpFallback", mode: 1 },
      { kind: "CiscoLwapp", lwappVendorId: CISCO, lwappElementId: 134, data: text("5b5f1e2d3c4b5a69788796a5b4c3d2e1f0011223") },
    ]),
    m("change state event request", "ap", MessageType.ChangeStateEventRequest, 3, [
      { kind: "RadioOperationalState", radioId: 0, state: 2, cause: 0 },
      { kind: "RadioOperationalState", radioId: 1, state: 2, cause: 0 },
      { kind: "ResultCode", resultCode: ResultCode.Success },
    ]),
    m("change state event response", "ac", MessageType.ChangeStateEventResponse, 3, []),
    m("echo request", "ap", MessageType.EchoRequest, 4, []),
    m("echo response", "ac", MessageType.EchoResponse, 4, [{ kind: "CiscoApTimeSync", timestamp: 1_706_650_925, type: 0 }]),
    m("wtp event request", "ap", MessageType.WtpEventRequest, 5, [
      { kind: "WtpRadioStatistics", radioId: 1, lastFailType: 0, resetCount: 1, swFailureCount: 0, hwFailureCount: 0, otherFailureCount: 0, unknownFailureCount: 0, configUpdateCount: 3, channelChangeCount: 2, bandChangeCount: 0, currentNoiseFloor: 0xffa6 },
    ]),
    m("wtp event response", "ac", MessageType.WtpEventResponse, 5, []),
    m("configuration update request", "ac", MessageType.ConfigurationUpdateRequest, 9, [
      { kind: "RadioAdministrativeState", radioId: 1, adminState: 1 },
      { kind: "CiscoRadName", name: "lab-ap-1" },
      { kind: "CiscoApGroupName", name: "branch-7" },
      { kind: "CiscoApModeAndType", mode: 2, type: 15 },
    ]),
    m("configuration update response", "ap", MessageType.ConfigurationUpdateResponse, 9, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("image data request (initiate)", "ap", MessageType.ImageDataRequest, 6, [
      { kind: "ImageIdentifier", vendorId: CISCO, identifier: "ap1g8" },
      { kind: "InitiateDownload" },
    ]),
    m("image data response (information)", "ac", MessageType.ImageDataResponse, 6, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: 70_512_640, hash: IMAGE_MD5 },
    ]),
    m("image data request (block)", "ac", MessageType.ImageDataRequest, 7, [{ kind: "CiscoImageData", opcode: 3, checksum: 0x05b8, data: CISCO_BLOCK }]),
    m("image data request (last block)", "ac", MessageType.ImageDataRequest, 8, [{ kind: "CiscoImageData", opcode: 3, checksum: 0xfbfd, data: bytesOf(1, 2, 3) }]),
    m("image data response (ack)", "ap", MessageType.ImageDataResponse, 7, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
    m("image data request (error)", "ac", MessageType.ImageDataRequest, 9, [{ kind: "CiscoImageData", opcode: 5, data: new Uint8Array(0) }]),
    m("reset request", "ac", MessageType.ResetRequest, 10, [{ kind: "ImageIdentifier", vendorId: CISCO, identifier: "ap1g8" }]),
    ...oobMessages(),
    ...efficientUpgradeMessages(),
    m("reset response", "ap", MessageType.ResetResponse, 10, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
  ];
}

/** Out-of-band HTTPS download (vap's extension elements, in Cisco's vendor space): the offer asked for and made, and the CAPWAP fallback that says why. */
function oobMessages(): { name: string; message: Message; direction: "ap" | "ac" }[] {
  const vendorId = CISCO;
  const m = (name: string, direction: "ap" | "ac", type: number, seq: number, elements: Element[]) => ({ name, direction, message: { type, seq, elements } });
  return [
    m("image data request (OOB offer wanted)", "ap", MessageType.ImageDataRequest, 11, [
      { kind: "ImageIdentifier", vendorId, identifier: "ap1g8" },
      { kind: "OobImageRequest", flags: 0 },
    ]),
    m("image data response (OOB offer)", "ac", MessageType.ImageDataResponse, 11, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: 70_512_640, hash: IMAGE_MD5 },
      { kind: "OobImageOffer", url: "https://192.0.2.1:8443/images/ap1g8", token: "eyJ2IjoxfQ.c2lnbmF0dXJl" },
    ]),
    m("image data request (initiate after an OOB failure)", "ap", MessageType.ImageDataRequest, 12, [
      { kind: "ImageIdentifier", vendorId, identifier: "ap1g8" },
      { kind: "InitiateDownload" },
      { kind: "ImageWindow", window: 8 },
      { kind: "OobFallback", reason: "connect ECONNREFUSED 192.0.2.1:8443" },
    ]),
  ];
}

/** Efficient image upgrade (vap's extension elements): a subordinate's order, a primary's report, a retry, the swap. */
function efficientUpgradeMessages(): { name: string; message: Message; direction: "ap" | "ac" }[] {
  const m = (name: string, direction: "ap" | "ac", type: number, seq: number, elements: Element[]) => ({ name, direction, message: { type, seq, elements } });
  return [
    m("configuration update request (predownload, subordinate)", "ac", MessageType.ConfigurationUpdateRequest, 13, [
      { kind: "PredownloadOrder", version: "17.12.1.5" },
      { kind: "EfficientUpgrade", role: 2, tries: 44, primaryAddress: "192.0.2.17", primaryPort: 69 },
    ]),
    m("wtp event request (primary complete)", "ap", MessageType.WtpEventRequest, 14, [
      { kind: "PredownloadStatus", state: 2, version: "17.12.1.5" },
      { kind: "PrimaryImageServer", address: "192.0.2.17", port: 69 },
    ]),
    m("wtp event request (retry)", "ap", MessageType.WtpEventRequest, 15, [{ kind: "PredownloadRetry", attempt: 3, tries: 44, nextRetrySeconds: 7, reason: "server busy (3 transfers), try later" }]),
    m("configuration update request (swap)", "ac", MessageType.ConfigurationUpdateRequest, 16, [{ kind: "ImageSwap", version: "17.12.1.5" }]),
  ];
}

/** An AP and a controller as the profiles describe them. */
export const sampleWtp: WtpInfo = {
  name: "AP0011.2233.4455",
  baseMac: BASE_MAC,
  serial: "FOC2345Z0AB",
  model: "C9120AXI-B",
  radios: [
    { radioId: 0, radioType: RadioType.B | RadioType.G | RadioType.N },
    { radioId: 1, radioType: RadioType.A | RadioType.N },
  ],
  softwareVersion: "17.9.4.27",
  backupVersion: "8.10.130.0",
  bootVersion: "1.1.2.4",
  hardwareVersion: "1.0.0.0",
  location: "default location",
  group: "default-group",
  localAddress: "192.0.2.10",
  sessionId: CISCO_SESSION_ID,
  discoveryType: DiscoveryType.Static,
  rebootCount: 3,
  oobCapable: false,
  uptimeSeconds: 84,
  acAddress: "192.0.2.1",
  acName: "vap-lab-wlc",
};

export const sampleAc: AcInfo = {
  name: "vap-lab-wlc",
  softwareVersion: "17.12.1.5",
  hardwareVersion: "0.0.0.0",
  stations: 0,
  stationLimit: 32000,
  activeWtps: 3,
  maxWtps: 6000,
  security: AcSecurity.X509,
  controlAddress: "192.0.2.1",
  unixTime: 1_706_650_895,
  echoIntervalSeconds: 30,
};

/** The messages the profile's own builders produce, as the agent and the lab controller send them. */
export function builtMessages(profile: VendorProfile): { name: string; message: Message; direction: "ap" | "ac" }[] {
  const wtp = profile.name === "rfc5415" ? { ...sampleWtp, sessionId: SESSION_ID } : sampleWtp;
  const m = (name: string, direction: "ap" | "ac", type: number, elements: Element[]) => ({ name: `built ${name}`, direction, message: { type, seq: 20, elements } });
  return [
    m("discovery request", "ap", MessageType.DiscoveryRequest, profile.discoveryRequest(wtp)),
    m("discovery response", "ac", MessageType.DiscoveryResponse, profile.discoveryResponse(sampleAc, wtp.radios)),
    m("join request", "ap", MessageType.JoinRequest, profile.joinRequest(wtp)),
    m("join response", "ac", MessageType.JoinResponse, profile.joinResponse(sampleAc, ResultCode.Success, wtp.radios, { imageWindow: 8 })),
    m("join request (OOB capable)", "ap", MessageType.JoinRequest, profile.joinRequest({ ...wtp, oobCapable: true })),
    m("join response (HTTPS offered)", "ac", MessageType.JoinResponse, profile.joinResponse(sampleAc, ResultCode.Success, wtp.radios, { imageWindow: 8, oobPort: 8443 })),
    m("configuration status request", "ap", MessageType.ConfigurationStatusRequest, profile.configurationStatusRequest(wtp)),
    m("configuration status response", "ac", MessageType.ConfigurationStatusResponse, profile.configurationStatusResponse(sampleAc, wtp.radios)),
    m("change state event request", "ap", MessageType.ChangeStateEventRequest, profile.changeStateEventRequest(wtp)),
    m("wtp event request", "ap", MessageType.WtpEventRequest, profile.wtpEventRequest(wtp)),
    m("echo response", "ac", MessageType.EchoResponse, profile.echoResponse(sampleAc)),
  ];
}
