/** The dual-partition flash an AP's images live in. */
export { Flash, PARTITIONS, STAGED_IMAGES, type StagedImage, otherPartition, type PartitionName, type BootRecord, type PartitionDraft } from "./flash.js";
