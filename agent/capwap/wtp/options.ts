/** What a WTP is built from: its config, network, DTLS context, clock, and the hooks its host gives it. */
import type { ApConfig } from "../../config/index.js";
import type { Clock, Log, Random } from "../../core/index.js";
import type { DatagramSocket, Endpoint } from "../../net/index.js";
import type { DtlsContext } from "../dtls/index.js";
import type { ImageSources } from "./image-source.js";
import type { WtpState } from "./machine-types.js";

/** Where a plaintext CAPWAP packet went, for captures. */
export type CaptureSink = (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array) => void;

export interface WtpNetwork {
  /** A socket for the control channel (discovery, then DTLS) or the data channel. */
  bind(purpose: "control" | "data"): DatagramSocket | Promise<DatagramSocket>;
  /** DNS A lookup for CISCO-CAPWAP-CONTROLLER.<domain>. */
  resolve?(hostname: string): Promise<string[]>;
  /** The source address used to reach `remote` when the socket is bound to a wildcard. */
  localAddressToward?(remote: string): Promise<string>;
}

export interface WtpOptions {
  config: ApConfig;
  network: WtpNetwork;
  /** The AP's DTLS client context; absent only with `dtls.mode: plaintext`. */
  dtls?: DtlsContext;
  clock?: Clock;
  random?: Random;
  log?: Log;
  /** How the AP can get an image; without one it stays on its version. */
  imageSources?: ImageSources;
  /** Versions match after join: nothing to download (upgrade.sh NO_UPGRADE). */
  onNoUpgrade?: () => void;
  /** Running and backup versions (the flash's boot record once images are real). */
  versions?: () => { running: string; backup: string };
  capture?: CaptureSink;
  /**
   * The AP reloads: a Reset Request (with the version it names, when it
   * names one: a predownloaded image to swap to) or a newly activated image.
   */
  onReboot?: (reason: string, version?: string) => void;
  onStateChange?: (state: WtpState, previous: WtpState) => void;
  /**
   * Efficient image upgrade, primary: serve the predownloaded `version` to
   * the site's subordinates over TFTP, on the AP's `localAddress`; resolves
   * with where. Without it a primary reports Complete without a server.
   */
  serveImage?: (version: string, localAddress: string) => Promise<Endpoint>;
  /** A new predownload order: stop serving the image served before. */
  stopServing?: () => void;
  /**
   * ImageSwap: ACTIVATE the predownloaded `version` (BOOT names it) without
   * a reload; rejects when no such image is pending or it fails. Without it
   * every swap is refused.
   */
  swap?: (version: string) => Promise<void>;
}

