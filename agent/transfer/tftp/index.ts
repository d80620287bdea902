/** TFTP (RFC 1350, 2347–2349, 7440): the read-only server a primary AP runs, the client that fetches an image into a sink, and `vap tftp serve`. */
export { startTftpServer, type TftpServer, type TftpServerOptions } from "./server.js";
export { tftpImageSource } from "./source.js";
export { primaryImageSource, type PrimaryImageSourceOptions } from "./primary-source.js";
export { PRIMARY_MAX_TRANSFERS } from "./limits.js";
export { fetchTftp, parseTftpUrl, TftpError, type TftpTarget, type FetchTftpOptions, type FetchTftpResult } from "./client.js";
export type { TftpFailureReason } from "./receiver.js";
export type { OptionRequest, TransferOptions } from "./options.js";
export { tftpServeCommand } from "./commands.js";
