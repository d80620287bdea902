/** The dual-partition flash an AP's images live in. */
export { Flash, type FlashStore, SINK_RECORD, PARTITIONS, STAGED_IMAGES, type StagedImage, otherPartition, type PartitionName, type BootRecord, type PartitionDraft } from "./flash.js";
export { type FactoryRecord, MemoryFlash } from "./memory.js";
