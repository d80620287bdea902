/**
 * What the console reads and asks of the AP it runs on. agent/ap gives the
 * live one (its WTP session, flash, config, log); every line a command
 * prints comes from here at the moment it runs.
 */
import type { JoinedController, WtpState } from "../capwap/wtp/index.js";
import type { ConsoleLogin } from "../config/index.js";
import type { Log } from "../core/index.js";
import type { HardwareClass } from "../../platform/classes/index.js";
import type { UpgradeEngine } from "../upgrade/index.js";

/** A console line the AP logged, and at which level (debug lines reach only sessions that asked for them). */
export interface ConsoleLine {
  /** As printed: `[*01/30/2024 21:41:35.1120] CAPWAP State: Join`. */
  text: string;
  level: "debug" | "info" | "warn" | "error";
}

/** The CAPWAP side as `show capwap client rcb` reads it. */
export interface CapwapView {
  state: WtpState;
  controller: JoinedController | undefined;
  /** The largest control packet the session sends unfragmented; undefined before a session has a channel. */
  pathMtu: number | undefined;
  /** Why CAPWAP last restarted (the controller's or the AP's reason). */
  restartReason: string | undefined;
  /** Efficient image upgrade, in a few words ("Primary, serving 1 transfer", "Subordinate, try 2 of 44", "Idle"). */
  efficient: string;
}

export interface ConsoleHost {
  /** The AP's name now (its prompt): the configured one, or what `capwap ap hostname` set. */
  readonly name: string;
  readonly identity: { model: string; serial: string; baseMac: string; classProfile: HardwareClass; location: string; group: string };
  readonly login: ConsoleLogin;
  /** Out-of-band HTTPS image download capability (the config's oob.enabled). */
  readonly oobEnabled: boolean;
  capwap(): CapwapView;
  /** The flash and its upgrade engine; undefined when the AP manages no images. */
  readonly engine: UpgradeEngine | undefined;
  /** The versions an AP without an engine reports. */
  readonly versions: { running: string; backup: string };
  /** Wall-clock ms of this boot (the AP's start, or its last reload). */
  readonly bootedAt: number;
  /** Wall-clock now (the host's clock). */
  now(): number;
  readonly log: Log;
  /** PEM roots for https:// and ftpes:// downloads, beyond the system's. */
  readonly ca?: string;
  /** The last console lines, oldest first (`show logging`). */
  logLines(): readonly string[];
  /** Every console line from now on, until the returned function is called. */
  onLine(listener: (line: ConsoleLine) => void): () => void;
  /** Reload the AP (boot the flash again, BOOT's partition); `reason` is the next boot's Last reload reason. */
  reload(reason: string): void;
  /** `test capwap restart`: the CAPWAP session starts over (rediscovery), the AP does not reload. */
  restartCapwap(reason: string): void;
  /** `capwap ap hostname`: the new name, kept across reloads; CAPWAP rejoins under it. */
  setName(name: string): Promise<void>;
  /** `capwap ap primary-base`: the controller tried first, kept across reloads; CAPWAP starts over toward it. */
  setPrimaryBase(name: string, address: string): Promise<void>;
  /** `clear capwap private-config` / `capwap ap erase all`: what the console set is forgotten, the config file's values return; CAPWAP starts over. */
  clearPrivateConfig(): Promise<void>;
}
