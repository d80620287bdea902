/** Running an AP from its configuration on the real network. */
export { startAp, type ApRuntimeOptions, type RunningAp } from "./ap.js";
export { apDtlsContext, type PemCredentials } from "./credentials.js";
export { PrimaryImageServer, type PrimaryServerOptions, type PrimaryServerStatus } from "./primary.js";
export { runCommand } from "./run-command.js";
export { type DownloadEvent } from "./download-watch.js";
