import type { ElementTable } from "../codec/index.js";
import type { ProfileName } from "../../config/index.js";
import type { Element } from "./element-types.js";

/** The names of the vendor profiles vap speaks are configuration's (PROFILE_NAMES). */
export type { ProfileName };

/**
 * A radio as the AP reports it: its slot and RFC 5416 §6.25 radio type bits.
 * `radioId` is vap's slot number (0, 1, …) on both sides; the profile turns
 * it into the Radio ID of its wire elements (firstRadioId + slot) when it
 * builds them, and back when it reads them.
 */
export interface RadioInfo {
  radioId: number;
  radioType: number;
}

/** What the AP says about itself; the profile decides the elements and their order. */
export interface WtpInfo {
  name: string;
  baseMac: string;
  serial: string;
  model: string;
  radios: readonly RadioInfo[];
  softwareVersion: string;
  backupVersion: string;
  bootVersion: string;
  hardwareVersion: string;
  location: string;
  group: string;
  /** The AP's IPv4 address on the control path. */
  localAddress: string;
  sessionId: Uint8Array;
  discoveryType: number;
  rebootCount: number;
  uptimeSeconds: number;
  /** The AP downloads images out of band over HTTPS when the controller offers it. */
  oobCapable: boolean;
  /** The controller this AP is joining (its MWAR address), when known. */
  acAddress?: string;
  acName?: string;
}

/** What a controller says about itself. */
export interface AcInfo {
  name: string;
  softwareVersion: string;
  hardwareVersion: string;
  stations: number;
  stationLimit: number;
  activeWtps: number;
  maxWtps: number;
  /** RFC 5415 §4.6.1 security bits (AcSecurity). */
  security: number;
  /** IPv4 address APs reach the control channel on. */
  controlAddress: string;
  /** Current unix time, seconds (Cisco AP Time Sync). */
  unixTime: number;
  /** Echo interval handed to APs in CAPWAP Timers, seconds. */
  echoIntervalSeconds: number;
}

/** Per-AP settings a controller hands out in the Join Response. */
export interface JoinSettings {
  /** Image download sliding window, 1 = stop-and-wait (seed: applied at join). */
  imageWindow: number;
  /** The controller's upgrade method is HTTPS on this port (given only to an AP that advertised the capability). */
  oobPort?: number;
}

/** What an AP learns about a controller from its Discovery or Join Response. */
export interface AcSummary {
  name?: string;
  /**
   * The controller's software version in a printable form that is one per
   * byte string (the profile's reading: Cisco's dotted 4 bytes, RFC text,
   * "0x…" for bytes that are neither), so the AP compares versions as bytes
   * by comparing these strings.
   */
  softwareVersion?: string;
  activeWtps: number;
  maxWtps: number;
  stations: number;
  stationLimit: number;
}

/** An Image Data Request's block as the receiving AP reads it. */
export type ImageBlock =
  | { kind: "data"; data: Uint8Array; /** The sender marked it the last block (RFC EOF). */ last: boolean }
  | { kind: "corrupt"; reason: string }
  | { kind: "abort"; reason: string };

/** What a controller learns about an AP from its Join Request. */
export interface WtpSummary {
  name?: string;
  model?: string;
  serial?: string;
  baseMac?: string;
  softwareVersion?: string;
  sessionId?: Uint8Array;
  /** It advertised out-of-band HTTPS image download. */
  oobCapable?: boolean;
}

/**
 * A vendor profile: which element layouts apply on the wire, and which
 * elements each message carries. Standard elements are shared; a profile
 * overrides the few it lays out differently.
 */
export interface VendorProfile {
  readonly name: ProfileName;
  readonly elements: ElementTable;
  /** Image Data block size (RFC 5415: up to 1024; Cisco: 1377). */
  readonly imageBlockSize: number;
  /** Vendor id in Board Data, descriptors and Image Identifier. */
  readonly vendorId: number;
  /** Session ID size: RFC 5415 says 16 bytes; Cisco APs send 4 [obs]. */
  readonly sessionIdBytes: number;
  /** The Radio ID of slot 0 in radio elements: RFC 5415/5416 number radios from 1. */
  readonly firstRadioId: number;

  /** AP → AC message elements. */
  discoveryRequest(wtp: WtpInfo): Element[];
  joinRequest(wtp: WtpInfo): Element[];
  configurationStatusRequest(wtp: WtpInfo): Element[];
  changeStateEventRequest(wtp: WtpInfo): Element[];
  wtpEventRequest(wtp: WtpInfo): Element[];

  /** AC → AP message elements. */
  discoveryResponse(ac: AcInfo, wtpRadios: readonly RadioInfo[]): Element[];
  joinResponse(ac: AcInfo, resultCode: number, wtpRadios: readonly RadioInfo[], settings: JoinSettings): Element[];
  configurationStatusResponse(ac: AcInfo, wtpRadios: readonly RadioInfo[]): Element[];
  echoResponse(ac: AcInfo): Element[];

  /** The Image Data element for one block of an image. */
  imageBlock(block: Uint8Array, last: boolean): Element;
  /** An abort notice in place of a block. */
  imageAbort(): Element;
  readImageBlock(elements: readonly Element[]): ImageBlock;

  /** Reading the other side's messages. */
  acSummary(elements: readonly Element[]): AcSummary;
  wtpSummary(elements: readonly Element[]): WtpSummary;
  joinSettings(elements: readonly Element[]): JoinSettings;
  /** The radios of a Discovery or Join Request, by slot. */
  radios(elements: readonly Element[]): RadioInfo[];
}
