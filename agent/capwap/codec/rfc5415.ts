/**
 * RFC 5415 §4.6 message elements, declared once for both directions.
 * Field names follow the RFC's field names in camelCase.
 */
import { element } from "./element.js";
import {
  bytes,
  counted,
  ipv4,
  ipv6,
  list,
  macAddress,
  prefixed,
  restBytes,
  struct,
  u16,
  u32,
  u8,
  utf8,
} from "./schema.js";

/** Vendor/type/length/value sub-element of AC Descriptor and WTP Descriptor (§4.6.1, §4.6.41). */
export const descriptorSubElement = struct({ vendorId: u32, type: u16, data: prefixed(u16, restBytes, "descriptor value") });

/** Variable-length MAC with its length byte (§4.6.7 and friends). */
const lengthPrefixedMac = prefixed(u8, macAddress, "MAC address");

/** RFC 5415 §4.6.1 AC Descriptor: Security and DTLS Policy bit values. */
export const AcSecurity = { X509: 0x02, PreSharedSecret: 0x04 } as const;
export const DtlsPolicy = { ClearDataChannel: 0x02, DtlsDataChannel: 0x04 } as const;
/** §4.6.1 AC Information / §4.6.41 WTP Descriptor sub-element types. */
export const AcInformationType = { HardwareVersion: 4, SoftwareVersion: 5 } as const;
export const WtpDescriptorType = { HardwareVersion: 0, ActiveSoftwareVersion: 1, BootVersion: 2, OtherSoftwareVersion: 3 } as const;
/** §4.6.40 WTP Board Data sub-element types. */
export const BoardDataType = { ModelNumber: 0, SerialNumber: 1, BoardId: 2, BoardRevision: 3, BaseMacAddress: 4 } as const;
/** §4.6.21 Discovery Type values. */
export const DiscoveryType = { Unknown: 0, Static: 1, Dhcp: 2, Dns: 3, AcReferral: 4 } as const;
/** §4.6.26 Image Data: Data Type values. */
export const ImageDataType = { Data: 1, Eof: 2, Error: 5 } as const;

export const AcDescriptor = element(1, "AcDescriptor", "AC Descriptor", {
  stations: u16,
  limit: u16,
  activeWtps: u16,
  maxWtps: u16,
  security: u8,
  rmacField: u8,
  reserved: u8,
  dtlsPolicy: u8,
  info: list(descriptorSubElement),
});
export const AcIpv4List = element(2, "AcIpv4List", "AC IPv4 List", { addresses: list(ipv4) });
export const AcIpv6List = element(3, "AcIpv6List", "AC IPv6 List", { addresses: list(ipv6) });
export const AcName = element(4, "AcName", "AC Name", { name: utf8 });
export const AcNameWithPriority = element(5, "AcNameWithPriority", "AC Name with Priority", { priority: u8, name: utf8 });
export const AcTimestamp = element(6, "AcTimestamp", "AC Timestamp", { timestamp: u32 });
export const AddMacAclEntry = element(7, "AddMacAclEntry", "Add MAC ACL Entry", { macs: counted(u8, lengthPrefixedMac) });
export const AddStation = element(8, "AddStation", "Add Station", { radioId: u8, mac: lengthPrefixedMac, vlanName: utf8 });
export const CapwapControlIpv4Address = element(10, "CapwapControlIpv4Address", "CAPWAP Control IPv4 Address", { address: ipv4, wtpCount: u16 });
export const CapwapControlIpv6Address = element(11, "CapwapControlIpv6Address", "CAPWAP Control IPv6 Address", { address: ipv6, wtpCount: u16 });
export const CapwapTimers = element(12, "CapwapTimers", "CAPWAP Timers", { discovery: u8, echoRequest: u8 });
export const DataTransferData = element(13, "DataTransferData", "Data Transfer Data", { dataType: u8, dataMode: u8, data: prefixed(u16, restBytes, "data") });
export const DataTransferMode = element(14, "DataTransferMode", "Data Transfer Mode", { dataMode: u8 });
export const DecryptionErrorReport = element(15, "DecryptionErrorReport", "Decryption Error Report", { radioId: u8, macs: counted(u8, lengthPrefixedMac) });
export const DecryptionErrorReportPeriod = element(16, "DecryptionErrorReportPeriod", "Decryption Error Report Period", { radioId: u8, interval: u16 });
export const DeleteMacAclEntry = element(17, "DeleteMacAclEntry", "Delete MAC ACL Entry", { macs: counted(u8, lengthPrefixedMac) });
export const DeleteStation = element(18, "DeleteStation", "Delete Station", { radioId: u8, mac: lengthPrefixedMac });
export const DiscoveryTypeElement = element(20, "DiscoveryType", "Discovery Type", { discoveryType: u8 });
export const DuplicateIpv4Address = element(21, "DuplicateIpv4Address", "Duplicate IPv4 Address", { address: ipv4, status: u8, mac: lengthPrefixedMac });
export const DuplicateIpv6Address = element(22, "DuplicateIpv6Address", "Duplicate IPv6 Address", { address: ipv6, status: u8, mac: lengthPrefixedMac });
export const IdleTimeout = element(23, "IdleTimeout", "Idle Timeout", { timeout: u32 });
export const ImageData = element(24, "ImageData", "Image Data", { dataType: u8, data: restBytes });
export const ImageIdentifier = element(25, "ImageIdentifier", "Image Identifier", { vendorId: u32, identifier: utf8 });
export const ImageInformation = element(26, "ImageInformation", "Image Information", { fileSize: u32, hash: bytes(16) });
export const InitiateDownload = element(27, "InitiateDownload", "Initiate Download", {});
export const LocationData = element(28, "LocationData", "Location Data", { location: utf8 });
export const MaximumMessageLength = element(29, "MaximumMessageLength", "Maximum Message Length", { length: u16 });
export const CapwapLocalIpv4Address = element(30, "CapwapLocalIpv4Address", "CAPWAP Local IPv4 Address", { address: ipv4 });
export const RadioAdministrativeState = element(31, "RadioAdministrativeState", "Radio Administrative State", { radioId: u8, adminState: u8 });
export const RadioOperationalState = element(32, "RadioOperationalState", "Radio Operational State", { radioId: u8, state: u8, cause: u8 });
export const ResultCodeElement = element(33, "ResultCode", "Result Code", { resultCode: u32 });
export const ReturnedMessageElement = element(34, "ReturnedMessageElement", "Returned Message Element", { reason: u8, element: prefixed(u8, restBytes, "returned element") });
/** §4.6.37: 128 bits. */
export const SessionId = element(35, "SessionId", "Session ID", { sessionId: bytes(16) });
export const StatisticsTimer = element(36, "StatisticsTimer", "Statistics Timer", { interval: u16 });
export const WtpBoardData = element(38, "WtpBoardData", "WTP Board Data", {
  vendorId: u32,
  items: list(struct({ type: u16, data: prefixed(u16, restBytes, "board data value") })),
});
export const WtpDescriptor = element(39, "WtpDescriptor", "WTP Descriptor", {
  maxRadios: u8,
  radiosInUse: u8,
  encryption: counted(u8, struct({ wbid: u8, capabilities: u16 })),
  descriptors: list(descriptorSubElement),
});
export const WtpFallback = element(40, "WtpFallback", "WTP Fallback", { mode: u8 });
export const WtpFrameTunnelMode = element(41, "WtpFrameTunnelMode", "WTP Frame Tunnel Mode", { mode: u8 });
export const WtpMacType = element(44, "WtpMacType", "WTP MAC Type", { macType: u8 });
export const WtpName = element(45, "WtpName", "WTP Name", { name: utf8 });
export const WtpRadioStatistics = element(47, "WtpRadioStatistics", "WTP Radio Statistics", {
  radioId: u8,
  lastFailType: u8,
  resetCount: u16,
  swFailureCount: u16,
  hwFailureCount: u16,
  otherFailureCount: u16,
  unknownFailureCount: u16,
  configUpdateCount: u16,
  channelChangeCount: u16,
  bandChangeCount: u16,
  currentNoiseFloor: u16,
});
export const WtpRebootStatistics = element(48, "WtpRebootStatistics", "WTP Reboot Statistics", {
  rebootCount: u16,
  acInitiatedCount: u16,
  linkFailureCount: u16,
  swFailureCount: u16,
  hwFailureCount: u16,
  otherFailureCount: u16,
  unknownFailureCount: u16,
  lastFailureType: u8,
});
export const WtpStaticIpAddressInformation = element(49, "WtpStaticIpAddressInformation", "WTP Static IP Address Information", {
  address: ipv4,
  netmask: ipv4,
  gateway: ipv4,
  static: u8,
});
export const CapwapLocalIpv6Address = element(50, "CapwapLocalIpv6Address", "CAPWAP Local IPv6 Address", { address: ipv6 });
export const CapwapTransportProtocol = element(51, "CapwapTransportProtocol", "CAPWAP Transport Protocol", { transport: u8 });
export const MtuDiscoveryPadding = element(52, "MtuDiscoveryPadding", "MTU Discovery Padding", { padding: restBytes });
export const EcnSupport = element(53, "EcnSupport", "ECN Support", { ecnSupport: u8 });

export const rfc5415Elements = [
  AcDescriptor,
  AcIpv4List,
  AcIpv6List,
  AcName,
  AcNameWithPriority,
  AcTimestamp,
  AddMacAclEntry,
  AddStation,
  CapwapControlIpv4Address,
  CapwapControlIpv6Address,
  CapwapTimers,
  DataTransferData,
  DataTransferMode,
  DecryptionErrorReport,
  DecryptionErrorReportPeriod,
  DeleteMacAclEntry,
  DeleteStation,
  DiscoveryTypeElement,
  DuplicateIpv4Address,
  DuplicateIpv6Address,
  IdleTimeout,
  ImageData,
  ImageIdentifier,
  ImageInformation,
  InitiateDownload,
  LocationData,
  MaximumMessageLength,
  CapwapLocalIpv4Address,
  RadioAdministrativeState,
  RadioOperationalState,
  ResultCodeElement,
  ReturnedMessageElement,
  SessionId,
  StatisticsTimer,
  WtpBoardData,
  WtpDescriptor,
  WtpFallback,
  WtpFrameTunnelMode,
  WtpMacType,
  WtpName,
  WtpRadioStatistics,
  WtpRebootStatistics,
  WtpStaticIpAddressInformation,
  CapwapLocalIpv6Address,
  CapwapTransportProtocol,
  MtuDiscoveryPadding,
  EcnSupport,
] as const;
