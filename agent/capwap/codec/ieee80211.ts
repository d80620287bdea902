/** RFC 5416 §6 IEEE 802.11 binding message elements (types 1024–1048). */
import { element } from "./element.js";
import { bytes, counted, list, mac48, prefixed, restBytes, struct, u16, u32, u8, utf8 } from "./schema.js";

/** RFC 5416 §6.25 WTP Radio Information: Radio Type bits. */
export const RadioType = { B: 0x01, A: 0x02, G: 0x04, N: 0x08 } as const;

export const Ieee80211AddWlan = element(1024, "Ieee80211AddWlan", "IEEE 802.11 Add WLAN", {
  radioId: u8,
  wlanId: u8,
  capability: u16,
  keyIndex: u8,
  keyStatus: u8,
  key: prefixed(u16, restBytes, "key"),
  groupTsc: bytes(6),
  qos: u8,
  authType: u8,
  macMode: u8,
  tunnelMode: u8,
  suppressSsid: u8,
  ssid: utf8,
});
export const Ieee80211Antenna = element(1025, "Ieee80211Antenna", "IEEE 802.11 Antenna", {
  radioId: u8,
  diversity: u8,
  combiner: u8,
  selections: counted(u8, u8),
});
export const Ieee80211AssignedWtpBssid = element(1026, "Ieee80211AssignedWtpBssid", "IEEE 802.11 Assigned WTP BSSID", { radioId: u8, wlanId: u8, bssid: mac48 });
export const Ieee80211DeleteWlan = element(1027, "Ieee80211DeleteWlan", "IEEE 802.11 Delete WLAN", { radioId: u8, wlanId: u8 });
export const Ieee80211DirectSequenceControl = element(1028, "Ieee80211DirectSequenceControl", "IEEE 802.11 Direct Sequence Control", {
  radioId: u8,
  reserved: u8,
  currentChannel: u8,
  currentCca: u8,
  energyDetectThreshold: u32,
});
export const Ieee80211InformationElement = element(1029, "Ieee80211InformationElement", "IEEE 802.11 Information Element", {
  radioId: u8,
  wlanId: u8,
  flags: u8,
  informationElement: restBytes,
});
export const Ieee80211MacOperation = element(1030, "Ieee80211MacOperation", "IEEE 802.11 MAC Operation", {
  radioId: u8,
  reserved: u8,
  rtsThreshold: u16,
  shortRetry: u8,
  longRetry: u8,
  fragmentationThreshold: u16,
  txMsduLifetime: u32,
  rxMsduLifetime: u32,
});
export const Ieee80211MicCountermeasures = element(1031, "Ieee80211MicCountermeasures", "IEEE 802.11 MIC Countermeasures", { radioId: u8, wlanId: u8, mac: mac48 });
export const Ieee80211MultiDomainCapability = element(1032, "Ieee80211MultiDomainCapability", "IEEE 802.11 Multi-Domain Capability", {
  radioId: u8,
  reserved: u8,
  firstChannel: u16,
  numberOfChannels: u16,
  maxTxPowerLevel: u16,
});
export const Ieee80211OfdmControl = element(1033, "Ieee80211OfdmControl", "IEEE 802.11 OFDM Control", {
  radioId: u8,
  reserved: u8,
  currentChannel: u8,
  bandSupport: u8,
  tiThreshold: u32,
});
export const Ieee80211RateSet = element(1034, "Ieee80211RateSet", "IEEE 802.11 Rate Set", { radioId: u8, rates: restBytes });
export const Ieee80211RsnaErrorReportFromStation = element(1035, "Ieee80211RsnaErrorReportFromStation", "IEEE 802.11 RSNA Error Report From Station", {
  clientMac: mac48,
  bssid: mac48,
  radioId: u8,
  wlanId: u8,
  reserved: u16,
  tkipIcvErrors: u32,
  tkipLocalMicFailures: u32,
  tkipRemoteMicFailures: u32,
  ccmpReplays: u32,
  ccmpDecryptErrors: u32,
  tkipReplays: u32,
});
export const Ieee80211Station = element(1036, "Ieee80211Station", "IEEE 802.11 Station", {
  radioId: u8,
  associationId: u16,
  flags: u8,
  mac: mac48,
  capabilities: u16,
  wlanId: u8,
  supportedRates: restBytes,
});
export const Ieee80211StationQosProfile = element(1037, "Ieee80211StationQosProfile", "IEEE 802.11 Station QoS Profile", { mac: mac48, priority: u16 });
export const Ieee80211StationSessionKey = element(1038, "Ieee80211StationSessionKey", "IEEE 802.11 Station Session Key", {
  mac: mac48,
  flags: u16,
  pairwiseTsc: bytes(6),
  pairwiseRsc: bytes(6),
  key: restBytes,
});
export const Ieee80211Statistics = element(1039, "Ieee80211Statistics", "IEEE 802.11 Statistics", {
  radioId: u8,
  reserved: bytes(3),
  txFragmentCount: u32,
  multicastTxCount: u32,
  failedCount: u32,
  retryCount: u32,
  multipleRetryCount: u32,
  frameDuplicateCount: u32,
  rtsSuccessCount: u32,
  rtsFailureCount: u32,
  ackFailureCount: u32,
  rxFragmentCount: u32,
  multicastRxCount: u32,
  fcsErrorCount: u32,
  txFrameCount: u32,
  decryptionErrors: u32,
  discardedQosFragmentCount: u32,
  associatedStationCount: u32,
  qosCfPollsReceivedCount: u32,
  qosCfPollsUnusedCount: u32,
  qosCfPollsUnusableCount: u32,
});
export const Ieee80211SupportedRates = element(1040, "Ieee80211SupportedRates", "IEEE 802.11 Supported Rates", { radioId: u8, rates: restBytes });
export const Ieee80211TxPower = element(1041, "Ieee80211TxPower", "IEEE 802.11 Tx Power", { radioId: u8, reserved: u8, currentTxPower: u16 });
export const Ieee80211TxPowerLevel = element(1042, "Ieee80211TxPowerLevel", "IEEE 802.11 Tx Power Level", { radioId: u8, levels: counted(u8, u16) });
export const Ieee80211UpdateStationQos = element(1043, "Ieee80211UpdateStationQos", "IEEE 802.11 Update Station QoS", {
  radioId: u8,
  mac: mac48,
  qos: list(u16),
});
export const Ieee80211UpdateWlan = element(1044, "Ieee80211UpdateWlan", "IEEE 802.11 Update WLAN", {
  radioId: u8,
  wlanId: u8,
  capability: u16,
  keyIndex: u8,
  keyStatus: u8,
  key: prefixed(u16, restBytes, "key"),
});
export const Ieee80211WtpQualityOfService = element(1045, "Ieee80211WtpQualityOfService", "IEEE 802.11 WTP Quality of Service", {
  radioId: u8,
  taggingPolicy: u8,
  queues: list(struct({ queueDepth: u8, cwMin: u16, cwMax: u16, aifs: u8, dot1p: u8, dscp: u8 })),
});
export const Ieee80211WtpRadioConfiguration = element(1046, "Ieee80211WtpRadioConfiguration", "IEEE 802.11 WTP Radio Configuration", {
  radioId: u8,
  shortPreamble: u8,
  numBssids: u8,
  dtimPeriod: u8,
  bssid: mac48,
  beaconPeriod: u16,
  countryString: bytes(4),
});
export const Ieee80211WtpRadioFailAlarmIndication = element(1047, "Ieee80211WtpRadioFailAlarmIndication", "IEEE 802.11 WTP Radio Fail Alarm Indication", {
  radioId: u8,
  type: u8,
  status: u8,
  pad: u8,
});
export const Ieee80211WtpRadioInformation = element(1048, "Ieee80211WtpRadioInformation", "IEEE 802.11 WTP Radio Information", { radioId: u8, radioType: u32 });

export const ieee80211Elements = [
  Ieee80211AddWlan,
  Ieee80211Antenna,
  Ieee80211AssignedWtpBssid,
  Ieee80211DeleteWlan,
  Ieee80211DirectSequenceControl,
  Ieee80211InformationElement,
  Ieee80211MacOperation,
  Ieee80211MicCountermeasures,
  Ieee80211MultiDomainCapability,
  Ieee80211OfdmControl,
  Ieee80211RateSet,
  Ieee80211RsnaErrorReportFromStation,
  Ieee80211Station,
  Ieee80211StationQosProfile,
  Ieee80211StationSessionKey,
  Ieee80211Statistics,
  Ieee80211SupportedRates,
  Ieee80211TxPower,
  Ieee80211TxPowerLevel,
  Ieee80211UpdateStationQos,
  Ieee80211UpdateWlan,
  Ieee80211WtpQualityOfService,
  Ieee80211WtpRadioConfiguration,
  Ieee80211WtpRadioFailAlarmIndication,
  Ieee80211WtpRadioInformation,
] as const;
