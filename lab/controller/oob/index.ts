/** Out-of-band HTTPS image download, the controller's side: the token authority and the file-transfer server (embedded, or real nginx). */
export { OobTokens, type OobClaims, type OobVerdict } from "./tokens.js";
export { OOB_FAULTS, type OobFault } from "./faults.js";
export { OOB_SERVER_KINDS, type OobServerKind, type OobServerOptions, type OobTransfer, type OobFileServer, type OobFileServerEvents } from "./backend.js";
export { startOobServer } from "./server.js";
export { OOB_TOKEN_TTL_MS, DEFAULT_OOB_HTTPS_PORT } from "./limits.js";
