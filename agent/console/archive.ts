/**
 * `archive download-sw`'s work (console-design.md): this branch's
 * placeholder with the agreed API; the archive engineer's archive.ts
 * replaces it at merge.
 */
import type { Log } from "../core/index.js";
import type { UpgradeEngine } from "../upgrade/index.js";

export interface ArchiveRequest {
  /** tftp://, sftp://[user[:pass]@]host/path, ftp://, ftps/ftpes://, http://, https:// */
  url: string;
  /** /reload: reload once the image is set up; /no-reload: leave that to the operator. */
  reload: boolean;
  /** /overwrite: replace an identical version in the standby partition too (else: "already present"). */
  overwrite: boolean;
}

export interface ArchiveContext {
  engine: UpgradeEngine;
  /** The AP's class ("ap1g8"): the image family the AP accepts. */
  imageName: string;
  /** To the operator's session (progress, result lines), "\n" line ends. */
  write(text: string): void;
  /** Ask the operator on the same session: "Username: " (echoed) or "Password: " (secret: true, never echoed). */
  ask(prompt: string, secret: boolean): Promise<string>;
  /** Ctrl-C or the session's end: abort cleanly (ABORT phase), partitions untouched. */
  signal: AbortSignal;
  /** The AP's log: upgrade.sh lines go there as for any download (and thus to `show logging`). */
  log: Log;
  /** PEM roots an https:// / ftpes:// server is checked against, beyond the system's (the AP config may give one). */
  ca?: string;
}

export interface ArchiveResult {
  /** "Successfully setup AP image." and "Image download completed." were printed. */
  ok: boolean;
}

export function archiveDownload(_request: ArchiveRequest, _context: ArchiveContext): Promise<ArchiveResult> {
  throw new Error("archive download-sw: not merged yet");
}
