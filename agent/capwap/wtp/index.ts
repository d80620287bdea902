/** The AP side of CAPWAP: the WTP session state machine (pure table) and its shell. */
export { Wtp } from "./wtp.js";
export type { WtpOptions, WtpNetwork, CaptureSink } from "./options.js";
export { initialMachine, transition, tableRows, type Machine } from "./machine.js";
export type { WtpState, WtpInput, WtpEffect, WtpTimer, WtpContext, MachineSettings, JoinedController, DownloadRun, EfficientRun } from "./machine-types.js";
export { PEER_CLOSED_RESTART_JITTER_MS } from "./table.js";
export { chooseController, type AcCandidate, type ControllerPreference } from "./discovery.js";
export type { ImageSourceName, ImageSourceFailure, ImageDownload, EfficientRole, ImageSourceResult, CapwapSession, DownloadHost, ImageSourceStarter, RunningDownload, ImageSources } from "./image-source.js";
