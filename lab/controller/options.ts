/** What a lab controller is built with, its defaults, and what it tells its owner. */
import type { DtlsContext } from "../../agent/capwap/dtls/index.js";
import type { ProfileName, WtpSummary } from "../../agent/capwap/profiles/index.js";
import { RFC5415_TIMERS } from "../../agent/config/index.js";
import type { Clock, Log, Random } from "../../agent/core/index.js";
import type { DatagramSocket, Endpoint } from "../../agent/net/index.js";
import type { ApRecord } from "./ap-record.js";
import type { Election, PrimaryServing, SiteTag } from "./efficient/index.js";
import type { ImageLibrary } from "./image-library.js";

export interface LabControllerOptions {
  profile: ProfileName;
  control: DatagramSocket;
  data: DatagramSocket;
  /** Server DTLS context; "plaintext" only for debugging with APs that have DTLS off. */
  dtls: DtlsContext | "plaintext";
  name?: string;
  softwareVersion?: string;
  /** Image Data window offered at join, per AP (seed: the AP profile's "capwap window size"). */
  imageWindow?: (ap: WtpSummary) => number;
  /** Echo interval sent to APs in CAPWAP Timers, seconds. */
  echoIntervalSeconds?: number;
  retransmitIntervalMs?: number;
  maxRetransmit?: number;
  clock?: Clock;
  log?: Log;
  /** Plaintext CAPWAP packets in and out, for captures. */
  capture?: (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array) => void;
  /** The images to serve, by the name APs ask for (`bundleLibrary(dir)`). */
  images?: ImageLibrary;
  /** Image transfers at once; APs beyond wait their turn. */
  maxConcurrentDownloads?: number;
  /**
   * Out-of-band HTTPS (`ap upgrade method https`): the port told at join to
   * APs that advertise the capability, and an offer — URL and token — for
   * one AP and one image (oob/).
   */
  oob?: OobOffers;
  /** Site tags, each with its flex profile and its APs (by base MAC); an AP in none is in `default-site-tag`. */
  siteTags?: readonly SiteTag[];
  /** APs with a predownload order outstanding (ordered, neither Complete nor Failed); more wait in order. */
  maxPredownloads?: number;
  /** What `ap image predownload` sends (the image the controller has staged); default its softwareVersion. */
  predownloadVersion?: string;
  /** Picks each site's primaries. */
  random?: Random;
}

/** What the controller needs of its HTTPS file-transfer server. */
export interface OobOffers {
  readonly port: number;
  offer(claims: { ap: string; address: string; image: string }): { url: string; token: string };
}

/**
 * What a controller does when its options say nothing: RFC 5415 §4.7's
 * EchoInterval, RetransmitInterval and MaxRetransmit (the AP's defaults too),
 * the name and version it advertises, the window it offers (stop-and-wait,
 * Cisco's default), how many image transfers run at once, and how many
 * predownload orders may be outstanding (Cisco: 100 per WNCD process).
 */
export const CONTROLLER_DEFAULTS: Required<Pick<LabControllerOptions, "name" | "softwareVersion" | "echoIntervalSeconds" | "retransmitIntervalMs" | "maxRetransmit" | "imageWindow" | "maxConcurrentDownloads" | "maxPredownloads">> = {
  name: "vap-lab-wlc",
  softwareVersion: "17.9.4.27",
  echoIntervalSeconds: RFC5415_TIMERS.echoIntervalMs / 1000,
  retransmitIntervalMs: RFC5415_TIMERS.retransmitIntervalMs,
  maxRetransmit: RFC5415_TIMERS.maxRetransmit,
  imageWindow: () => 1,
  maxConcurrentDownloads: 100,
  maxPredownloads: 100,
};

/** The options with every default filled in. */
export type ResolvedOptions = LabControllerOptions & typeof CONTROLLER_DEFAULTS & { clock: Clock; log: Log };

export interface LabControllerEvents {
  /** An AP's phase changed. */
  phase: [ap: ApRecord];
  /** An AP reached Run. */
  run: [ap: ApRecord];
  /** An AP's session ended (DTLS closed, timeout, reset). */
  leave: [ap: ApRecord, reason: string];
  /** An AP's image download changed state (join-time or predownload). */
  download: [ap: ApRecord];
  /** A primary was elected for a model in a site tag (or re-elected when one was lost). */
  primary: [election: Election];
  /** A primary completed and serves its image; its subordinates are ordered right after. */
  "primary-serving": [primary: PrimaryServing];
}
