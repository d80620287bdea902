/** What the lab controller tells its owner about each AP: a row of its AP table. */

/** The phases of an AP's session the controller shows (RFC 5415 §2.3, as the AC sees them). */
export type ApPhase = "DTLS Setup" | "Join" | "Configure" | "Data Check" | "Run";

/** One row of `show ap summary`. */
export interface ApRecord {
  /** Control channel peer, "address:port". */
  key: string;
  address: string;
  port: number;
  phase: ApPhase;
  name?: string;
  model?: string;
  serial?: string;
  baseMac?: string;
  softwareVersion?: string;
  /** Radio slots the AP announced in its Join Request. */
  slots?: number;
  /** It advertised out-of-band HTTPS image download in its Join Request (Cisco: AP Upgrade Out-Of-Band Capability). */
  oobCapable?: boolean;
  /** Certificate subject the AP authenticated with. */
  certificateSubject?: string;
  /** The Image Data window the controller offered at join. */
  imageWindow: number;
  joinedAt?: number;
  runSince?: number;
  echoes: number;
  /** The AP's latest image download, if any. */
  download?: DownloadRecord;
}

export type DownloadState = "queued" | "downloading" | "complete" | "failed";

/** How the image goes to the AP (Cisco's Method column): in-band CAPWAP Image Data, or out of band over HTTPS. */
export type DownloadMethod = "CAPWAP" | "HTTPS";

export interface DownloadRecord {
  /** The image name asked for (the AP's class). */
  name: string;
  /** Predownload of this version (ordered in Run), or a download after join. */
  predownload?: string;
  state: DownloadState;
  size: number;
  bytes: number;
  /** Blocks in flight: the window offered at join, or less when the AP accepted less (0 over HTTPS). */
  window: number;
  /** Known once the AP asks for the image (a predownload is queued before). */
  method?: DownloadMethod;
  /** Why the AP's HTTPS try failed, when this CAPWAP download is its fallback. */
  fallback?: string;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
}

/** The Method column: `HTTPS`, `CAPWAP`, or `CAPWAP (fallback: <why HTTPS failed>)`. */
export function methodLabel(download: Pick<DownloadRecord, "method" | "fallback">): string {
  if (download.method === undefined) return "-";
  return download.fallback !== undefined ? `${download.method} (fallback: ${download.fallback})` : download.method;
}
