/** The dual-partition flash an AP's images live in. */
export { Flash, PARTITIONS, otherPartition, type PartitionName, type BootRecord, type PartitionDraft } from "./flash.js";
