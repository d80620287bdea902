/** TFTP (RFC 1350, 2347–2349, 7440): the read-only server a primary AP runs, the client that fetches an image into a sink, and their commands. */
export { startTftpServer, type TftpServer, type TftpServerOptions } from "./server.js";
export { tftpImageSource } from "./source.js";
export { fetchTftp, parseTftpUrl, TftpError, type TftpTarget, type FetchTftpOptions, type FetchTftpResult } from "./client.js";
export type { TftpFailureReason } from "./receiver.js";
export type { OptionRequest, TransferOptions } from "./options.js";
export { fileSink } from "./file-sink.js";
export { tftpServeCommand, fetchCommand } from "./commands.js";
