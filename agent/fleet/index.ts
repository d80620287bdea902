/** `vap fleet`: hundreds to thousands of APs per host against a controller, with metrics and a live summary. */
export { fleetCommand } from "./command.js";
export { Fleet } from "./supervisor.js";
export { FleetShard, type ShardSetup } from "./shard.js";
export { fleetOptions, type FleetOptions } from "./options.js";
export { type FleetSummary } from "./summary.js";
