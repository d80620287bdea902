/** The lab controller: a CAPWAP AC for the lab, the tests and `vap lab`. */
export { LabController, KEEP_ALIVE, type LabControllerOptions, type LabControllerListenOptions, type ControllerSocketBinder, type LabControllerEvents, type ApRecord, type ApPhase, type DownloadRecord, type DownloadState } from "./controller.js";
export { bundleLibrary, type ImageLibrary, type ImageFile } from "./image-library.js";
export { controllerCommand } from "./command.js";
