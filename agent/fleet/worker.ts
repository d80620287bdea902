/**
 * A fleet worker thread: runs one FleetShard and talks to the supervisor.
 * In: SupervisorMessage. Out: {type: "report", report} every reportEveryMs,
 * {type: "stopped", report} once every AP stopped.
 */
import { parentPort, workerData } from "node:worker_threads";
import { failpoint } from "../core/index.js";
import { FLEET_DEFAULTS } from "./limits.js";
import { FleetShard, type ShardSetup } from "./shard.js";
import type { ShardReport } from "./report.js";

/** "report": one now (the summary is about to be made); "stop": stop every AP, report once more and end. */
export type SupervisorMessage = { type: "report" } | { type: "stop" };
export type WorkerMessage = { type: "report"; report: ShardReport } | { type: "stopped"; report: ShardReport };

const port = parentPort!;
const setup = workerData as ShardSetup;
const shard = new FleetShard(setup);
const report = () => {
  // A crash test's place: a first-generation worker dies here (VAP_FAILPOINTS=fleet.worker-report#N); its restart does not.
  if (setup.generation === 0) failpoint("fleet.worker-report");
  port.postMessage({ type: "report", report: shard.report() } satisfies WorkerMessage);
};
const timer = setInterval(report, FLEET_DEFAULTS.reportEveryMs);
port.on("message", (m: SupervisorMessage) => {
  if (m.type === "report") return report();
  if (m.type !== "stop") return;
  clearInterval(timer);
  void shard.stop().then(() => {
    port.postMessage({ type: "stopped", report: shard.report() } satisfies WorkerMessage);
    port.close();
  });
});
shard.start();
