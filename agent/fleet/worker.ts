/**
 * A fleet worker thread: runs one FleetShard and talks to the supervisor.
 * In: {type: "stop"}. Out: {type: "report", report} every reportEveryMs,
 * {type: "stopped", report} once every AP stopped.
 */
import { parentPort, workerData } from "node:worker_threads";
import { FLEET_DEFAULTS } from "./limits.js";
import { FleetShard, type ShardSetup } from "./shard.js";
import type { ShardReport } from "./report.js";

export type WorkerMessage = { type: "report"; report: ShardReport } | { type: "stopped"; report: ShardReport };

const port = parentPort!;
const shard = new FleetShard(workerData as ShardSetup);
const timer = setInterval(() => port.postMessage({ type: "report", report: shard.report() } satisfies WorkerMessage), FLEET_DEFAULTS.reportEveryMs);
port.on("message", (m: { type: "stop" }) => {
  if (m.type !== "stop") return;
  clearInterval(timer);
  void shard.stop().then(() => {
    port.postMessage({ type: "stopped", report: shard.report() } satisfies WorkerMessage);
    port.close();
  });
});
shard.start();
