/** Image transfer: every source (CAPWAP Image Data, TFTP, HTTP(S), SFTP, FTP) fetches into an ImageSink; `vap fetch` by hand into a file. */
export { type ImageSink, type ImageSinkResult, type ImageDescription, teeSink, tappedSink } from "./sink.js";
export { ImageSourceError, type ImageSource, type ImageRequest, type FetchOptions } from "./source.js";
export { imageSourceStarter, type SourceStarterOptions } from "./starter.js";
export { ImageDataReceiver, type ReceiverOptions, type TransferOutcome } from "./capwap/receiver.js";
export { capwapImageSource, type CapwapImageSourceOptions } from "./capwap/source.js";
export { oobImageSource, OobImageSource, type OobImageSourceOptions } from "./oob/index.js";
export {
  startTftpServer,
  tftpImageSource,
  primaryImageSource,
  PRIMARY_MAX_TRANSFERS,
  type PrimaryImageSourceOptions,
  fetchTftp,
  parseTftpUrl,
  TftpError,
  tftpServeCommand,
  type TftpServer,
  type TftpServerOptions,
  type TftpTarget,
  type FetchTftpOptions,
  type FetchTftpResult,
  type TftpFailureReason,
  type OptionRequest,
  type TransferOptions,
} from "./tftp/index.js";
export {
  httpImageSource,
  fetchHttp,
  parseHttpUrl,
  MAX_REDIRECTS,
  MAX_RESUMES,
  DEFAULT_HTTP_TIMEOUT_MS,
  type FetchHttpOptions,
  type FetchHttpResult,
  type HttpTarget,
} from "./http/index.js";
export { expectingSource, parseDigest, DIGEST_ALGORITHMS, type ExpectedImage, type DigestAlgorithm } from "./expected.js";
export { sftpImageSource, fetchSftp, parseSftpUrl, hostKeyFingerprint, isKnownHostKey, DEFAULT_SFTP_TIMEOUT_MS, type FetchSftpOptions } from "./sftp/index.js";
export { ftpImageSource, fetchFtp, parseFtpUrl, DEFAULT_FTP_TIMEOUT_MS, type FetchFtpOptions } from "./ftp/index.js";
export { type FileDownloadResult } from "./file-download.js";
export { fileSink } from "./file-sink.js";
export { fetchCommand } from "./fetch-command.js";
export { imageSourceFor, SUPPORTED_SCHEMES, CA_SCHEMES, LOGIN_SCHEMES, SSH_SCHEMES, type SchemeOptions } from "./schemes.js";
export { redactCredentials, parseLoginUrl, type LoginUrl } from "./url.js";
