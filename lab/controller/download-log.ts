/**
 * Each AP's latest image download, by AP name, across its sessions: a
 * 9800 keeps an AP's download statistics when it reloads into the new
 * image, while the lab controller's records are per session. An AP that
 * downloads at join (over HTTPS, the controller never sees its bytes)
 * reloads without reporting the end; when it comes back to Run on the
 * version it was given, the download is taken as complete at the moment
 * it left [inf].
 */
import type { Clock } from "../../agent/core/index.js";
import type { DownloadRecord } from "./ap-record.js";
import type { LabController } from "./controller.js";

const unfinished = (d: DownloadRecord | undefined): d is DownloadRecord => d !== undefined && (d.state === "queued" || d.state === "downloading");

export function downloadLog(controller: LabController, clock: Pick<Clock, "now">): () => ReadonlyMap<string, DownloadRecord> {
  const latest = new Map<string, DownloadRecord>();
  const leftAt = new Map<string, number>();
  controller.on("download", (ap) => {
    if (!ap.name || !ap.download) return;
    latest.set(ap.name, ap.download);
    leftAt.delete(ap.name);
  });
  controller.on("leave", (ap) => {
    if (ap.name && unfinished(latest.get(ap.name))) leftAt.set(ap.name, clock.now());
  });
  controller.on("run", (ap) => {
    const d = ap.name === undefined ? undefined : latest.get(ap.name);
    if (!unfinished(d) || ap.softwareVersion !== (d.predownload ?? controller.softwareVersion)) return;
    latest.set(ap.name!, { ...d, state: "complete", bytes: d.size, finishedAt: leftAt.get(ap.name!) ?? clock.now() });
  });
  return () => latest;
}
