/** The lab controller: a CAPWAP AC for the lab, the tests and `vap lab`. */
export { LabController, type LabControllerListenOptions, type ControllerSocketBinder, type SiteResult } from "./controller.js";
export { CONTROLLER_DEFAULTS, type LabControllerOptions, type LabControllerEvents, type OobOffers } from "./options.js";
export {
  startHttpsMethod,
  httpsMethodFlags,
  HTTPS_METHOD_USAGE,
  UPGRADE_METHODS,
  type HttpsMethod,
  type HttpsMethodOptions,
  type HttpsMethodSettings,
  type UpgradeMethod,
} from "./https-method.js";
export { downloadLog } from "./download-log.js";
export { methodLabel, type ApRecord, type ApPhase, type DownloadRecord, type DownloadState, type DownloadMethod, type EfficientRoleName, type PredownloadRetryRecord } from "./ap-record.js";
export {
  DEFAULT_SITE_TAG,
  loadSiteTags,
  parseSiteTags,
  type Election,
  type FlexProfile,
  type PredownloadStatus,
  type PredownloadView,
  type PrimaryView,
  type SiteTag,
} from "./efficient/index.js";
export type { PrimaryServing } from "./efficient/index.js";
export { KEEP_ALIVE, type FaultPlan } from "./fault-plan.js";
export { bundleLibrary, type ImageLibrary, type ImageFile } from "./image-library.js";
export { imageServerFlag, imageServerFlags, imageServerLibrary, type ImageServer, type ImageServerLibrary, type ImageServerLibraryOptions } from "./image-server.js";
export { controllerCommand } from "./command.js";
export { controllerExecCommand } from "./operator/index.js";
