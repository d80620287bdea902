/**
 * What the WTP knows of image sources: the seam its shell calls. A source
 * (CAPWAP Image Data, later HTTPS, TFTP, SFTP, FTP, HTTP) lives in
 * agent/transfer/<name>/ and is handed to the WTP as a starter; the WTP's
 * table only starts one, aborts it, and reacts to "started", "finished" or
 * "failed(reason)". Fallback from one source to another is a transition, never
 * a branch inside a source.
 */
import type { Log } from "../../core/index.js";
import type { Endpoint } from "../../net/index.js";
import type { Element, Message, VendorProfile } from "../profiles/index.js";

/**
 * The sources the table can start, by name: CAPWAP Image Data, out-of-band
 * HTTPS when the controller offers it, and TFTP from the site's primary AP
 * (efficient image upgrade: a subordinate's source).
 */
export type ImageSourceName = "capwap" | "https" | "tftp";

/** Why a download failed, whatever the source: what a transition (retry, fallback, give up) can decide on. */
export type ImageSourceFailure = "refused" | "auth" | "not-found" | "timeout" | "integrity" | "sink" | "aborted" | "network" | "internal";

/** What a download is for: the transition that starts one says. */
export interface ImageDownload {
  /** After Join on a version mismatch, or ordered in Run (predownload: stay in Run). */
  mode: "join" | "predownload";
  /** The version the controller runs (join) or ordered (predownload). */
  version: string;
  controllerAddress: string;
  /** Image Data window negotiated at join. */
  window: number;
  /** Why the HTTPS try (or the primary) failed, when this CAPWAP download is its fallback (the controller is told). */
  fallback?: string;
  /** Efficient image upgrade: this AP's role in its site (its request line says it); a subordinate fetches from its primary's TFTP server. */
  efficient?: EfficientRole;
}

/** A primary downloads from the controller and keeps the image to serve; a subordinate fetches it from `primary`. */
export type EfficientRole = { role: "primary" } | { role: "subordinate"; primary: Endpoint };

export interface ImageSourceResult {
  /** The image was installed and the AP should reboot into it. */
  reboot: boolean;
  /** Its version, when the sink read it. */
  version?: string;
}

/** The joined CAPWAP session, lent to a source that downloads through it (CAPWAP Image Data). */
export interface CapwapSession {
  readonly profile: VendorProfile;
  readonly log: Log;
  /** Send a request to the controller; resolves with the response, rejects when retransmissions run out. */
  request(message: Omit<Message, "seq">): Promise<Message>;
  /** Answer a controller request (same sequence number). */
  respond(request: Message, elements: Element[]): void;
  /** Where the controller's Image Data Requests go while this download runs. */
  onImageData(receive: (message: Message) => void): void;
}

/** How a running download reports back to the WTP; after it is aborted, nothing it reports counts. */
export interface DownloadHost {
  readonly session: CapwapSession;
  /** The source found the image and its bytes start to flow. */
  started(): void;
  finished(result: ImageSourceResult): void;
  failed(reason: ImageSourceFailure, message: string): void;
}

/** One way of getting an image; agent/transfer implements it, agent/ap hands it to the WTP. */
export interface ImageSourceStarter {
  start(download: ImageDownload, host: DownloadHost): RunningDownload;
}

export interface RunningDownload {
  /** The WTP moved on (teardown): stop and clean up, synchronously; a failure here is the WTP's to handle. */
  abort(reason: string): void;
}

export type ImageSources = Partial<Record<ImageSourceName, ImageSourceStarter>>;
