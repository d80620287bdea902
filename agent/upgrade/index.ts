/** The upgrade engine (upgrade.sh): PRECHECK, PREDOWNLOAD, ACTIVATE, ABORT, NO_UPGRADE on a dual-partition flash. */
export { bootImageLines, bootPathLines, showImageLines } from "./show.js";
export { flashCommands } from "./command.js";
export { UpgradeEngine } from "./engine.js";
export { UpgradeError, type UpgradeEngineOptions, type FlashState, type PartitionImage, type PartitionIntegrity, type StorageMode } from "./types.js";
