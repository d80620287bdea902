/** The AP side of CAPWAP: the WTP session state machine. */
export { Wtp, type WtpOptions, type WtpState, type WtpEvent, type WtpNetwork, type CaptureSink, type JoinedController } from "./wtp.js";
export { chooseController, type AcCandidate, type ControllerPreference } from "./discovery.js";
export type { ImageStage, ImageStageHost, ImageContext } from "./image-stage.js";
