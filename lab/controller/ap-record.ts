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
  /** The site tag its base MAC is in (a 9800 tags APs by wired MAC); `default-site-tag` when in none. */
  siteTag?: string;
  /** The AP's latest image download, if any. */
  download?: DownloadRecord;
}

export type DownloadState = "queued" | "downloading" | "complete" | "failed";

/**
 * How the image goes to the AP (Cisco's Method column): in-band CAPWAP
 * Image Data, out of band over HTTPS, or over TFTP from its site's primary
 * AP (efficient image upgrade: the controller only orders it and hears the end).
 */
export type DownloadMethod = "CAPWAP" | "HTTPS" | "TFTP";

/** An AP's part in its site's efficient image upgrade: the primary of its model fetches from the controller, subordinates from the primary. */
export type EfficientRoleName = "primary" | "subordinate";

/** A subordinate's latest failed try at its primary (its PredownloadRetry report). */
export interface PredownloadRetryRecord {
  /** The try that failed (1-based) of how many it has. */
  attempt: number;
  tries: number;
  /** When it tries again, on the controller's clock. */
  nextRetryAt: number;
  reason: string;
}

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
  /** Why the AP's HTTPS try (or its tries at its primary) failed, when this CAPWAP download is its fallback. */
  fallback?: string;
  /** Its role in an efficient predownload, and the site tag that made it one. */
  role?: EfficientRoleName;
  siteTag?: string;
  /** A primary's TFTP endpoint, as it reported it with Complete. */
  imageServer?: { address: string; port: number };
  /** A subordinate's latest failed try at its primary. */
  retry?: PredownloadRetryRecord;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
}

/** What each method is called in the Method column. */
const METHOD_WORDS: Record<DownloadMethod, string> = { CAPWAP: "CAPWAP", HTTPS: "HTTPS", TFTP: "TFTP from primary" };

/** The Method column: `HTTPS`, `CAPWAP`, `TFTP from primary`, or `CAPWAP (fallback: <why HTTPS or the primary failed>)`. */
export function methodLabel(download: Pick<DownloadRecord, "method" | "fallback">): string {
  if (download.method === undefined) return "-";
  const method = METHOD_WORDS[download.method];
  return download.fallback !== undefined ? `${method} (fallback: ${download.fallback})` : method;
}

/** What an efficient predownload's record carries over when the AP's request turns it into a transfer (its version, role and site tag). */
export function predownloadPart(download: DownloadRecord | undefined): Pick<DownloadRecord, "predownload" | "role" | "siteTag"> {
  if (!download) return {};
  const { predownload, role, siteTag } = download;
  return { ...(predownload ? { predownload } : {}), ...(role ? { role } : {}), ...(siteTag ? { siteTag } : {}) };
}
