/** The upgrade engine (upgrade.sh): PRECHECK, PREDOWNLOAD, ACTIVATE, ABORT, NO_UPGRADE on a dual-partition flash. */
export { showImageLines } from "./show.js";
export { flashCommands } from "./command.js";
export { UpgradeEngine, UpgradeError, type UpgradeEngineOptions, type FlashState, type PartitionImage, type StorageMode } from "./engine.js";
