/** The WAN impairment proxy: `startWanProxy` for tests and benchmarks, `vap wan` for people. */
export { startWanProxy, type WanProxy, type WanProxyOptions, type RelaySpec, type RelayProtocol, type RelayStats } from "./proxy.js";
export { type Impairment, impairmentOf, parseProbability, parseRate, describeImpairment } from "./impairment.js";
export { LinkModel, decide, type Decision, type Fate } from "./link.js";
export { DeliveryScheduler, type Lane } from "./schedule.js";
export type { DirectionStats } from "./direction.js";
export { wanCommand, impairmentFlags, type ImpairmentFlagValues } from "./command.js";
export { startWanLink, type WanLink, type WanLinkOptions, type WanLinkEnd, type WanLinkStats, type LinkEnd } from "./tun-link.js";
