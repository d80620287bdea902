/**
 * How each `show` output is laid out, as data: table columns (header and
 * width) and the label column of the key–value pages. Where a public
 * 9800 output exists it is the reference; the rest is [inf], marked.
 */

/** A table column: its header, and the width every cell is padded to (a longer cell pushes the row right by one space). */
export interface Column {
  readonly header: string;
  readonly width: number;
}

/** Columns from [header, width] pairs (a width of 0 for the last, which is never padded). */
const columns = (...pairs: readonly (readonly [string, number])[]): readonly Column[] => pairs.map(([header, width]) => ({ header, width }));

/**
 * `show ap summary`: the columns and header positions of a 9800's output
 * as Cisco's pyATS/genieparser iosxe ShowApSummary tests hold it (17.x,
 * "Number of APs: N", AP Name at 0, Slots at 35, …), except AP Model at
 * the 21 columns later releases give it so that a full model number fits.
 */
export const AP_SUMMARY_COLUMNS: readonly Column[] = columns(["AP Name", 35], ["Slots", 9], ["AP Model", 21], ["Ethernet MAC", 16], ["Radio MAC", 16], ["Location", 34], ["Country", 12], ["IP Address", 43], ["State", 0]);

/** `show ap uptime` (9800 column names; widths [inf]). */
export const AP_UPTIME_COLUMNS: readonly Column[] = columns(["AP Name", 35], ["Ethernet MAC", 16], ["Radio MAC", 16], ["AP Up Time", 40], ["Association Up Time", 0]);

/**
 * `show wireless stats ap image-download`, per AP [inf]: no public 9800
 * output shows its rows; the Method column is the one Cisco documents for
 * OOB download (CAPWAP, HTTPS, and CAPWAP after a failed HTTPS try).
 */
export const IMAGE_DOWNLOAD_COLUMNS: readonly Column[] = columns(["AP Name", 35], ["Image", 10], ["Method", 20], ["State", 13], ["Bytes", 12], ["Size", 12], ["Window", 8], ["Time (s)", 10], ["Reason", 0]);

/** The totals under it: image downloads started, by Method [inf]. */
export const DOWNLOADS_BY_METHOD_COLUMNS: readonly Column[] = columns(["Method", 20], ["Downloads", 0]);

/**
 * `show ap image`: the 9800's column names and order (as Cisco's pyATS
 * parsers and AireOS's `show ap image all` hold them; Method is the 9800's
 * last column, where AireOS had Flexconnect Predownload); widths [inf].
 */
export const AP_IMAGE_COLUMNS: readonly Column[] = columns(
  ["AP Name", 35],
  ["Primary Image", 18],
  ["Backup Image", 18],
  ["Predownload Status", 22],
  ["Predownload Version", 23],
  ["Next Retry Time", 19],
  ["Retry Count", 15],
  ["Method", 0],
);

/** The summary above it: "Total number of APs", then the counts by predownload state, indented under "Number of APs" (labels the 9800's; widths [inf]). */
export const IMAGE_SUMMARY_INDENT = " ".repeat(8);
export const IMAGE_SUMMARY_LABEL_WIDTH = 40;

/** What `show ap image` prints for no retry scheduled, and for no predownload (Cisco's words). */
export const NO_RETRY = "NA";
export const NO_PREDOWNLOAD = "None";

/** `show ap primary list` [inf: no public output]: each site's primary AP per model and how its subordinates stand. */
export const PRIMARY_LIST_COLUMNS: readonly Column[] = columns(
  ["AP Name", 35],
  ["Model", 21],
  ["Site Tag", 20],
  ["Image", 14],
  ["Predownload Status", 20],
  ["Image Server", 23],
  ["Subordinates", 14],
  ["Complete", 0],
);

/** Key–value pages (`show ap name X config general`): the label padded to this, then ": " and the value, as the 9800 prints them. */
export const LABEL_WIDTH = 48;

/** The rule under `show ap name X config general`'s title line. */
export const TITLE_RULE = "=".repeat(49);

/** What the 9800 prints for an AP's location until one is configured. */
export const DEFAULT_LOCATION = "default location";

/** A field the lab controller has no value for. */
export const UNKNOWN = "-";

/** The state column: an AP in Run is what a 9800 calls Registered; one still joining shows its phase. */
export const REGISTERED = "Registered";
