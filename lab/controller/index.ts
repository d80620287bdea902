/** The lab controller: a CAPWAP AC for the lab, the tests and `vap lab`. */
export { LabController, type LabControllerListenOptions, type ControllerSocketBinder } from "./controller.js";
export { CONTROLLER_DEFAULTS, type LabControllerOptions, type LabControllerEvents } from "./options.js";
export type { ApRecord, ApPhase, DownloadRecord, DownloadState } from "./ap-record.js";
export { KEEP_ALIVE, type FaultPlan } from "./fault-plan.js";
export { bundleLibrary, type ImageLibrary, type ImageFile } from "./image-library.js";
export { imageServerFlag, imageServerLibrary, type ImageServer, type ImageServerLibrary, type ImageServerLibraryOptions } from "./image-server.js";
export { controllerCommand } from "./command.js";
