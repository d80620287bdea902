/** Image transfer: every source fetches into an ImageSink; CAPWAP Image Data is the first source. */
export { type ImageSink, type ImageSinkResult, type ImageDescription } from "./sink.js";
export { ImageSourceError, type ImageSource, type ImageRequest, type FetchOptions } from "./source.js";
export { imageSourceStarter, type SourceStarterOptions } from "./starter.js";
export { ImageDataReceiver, type ReceiverOptions, type TransferOutcome } from "./capwap/receiver.js";
export { capwapImageSource, type CapwapImageSourceOptions } from "./capwap/source.js";
export {
  startTftpServer,
  tftpImageSource,
  fetchTftp,
  parseTftpUrl,
  TftpError,
  fileSink,
  tftpServeCommand,
  fetchCommand,
  type TftpServer,
  type TftpServerOptions,
  type TftpTarget,
  type FetchTftpOptions,
  type FetchTftpResult,
  type TftpFailureReason,
  type OptionRequest,
  type TransferOptions,
} from "./tftp/index.js";
