/** Image transfer: every source writes into an ImageSink; CAPWAP Image Data is the first source. */
export { type ImageSink, type ImageSinkResult, type ImageDescription } from "./sink.js";
export { ImageDataReceiver, type ReceiverOptions, type TransferOutcome } from "./capwap/receiver.js";
export { CapwapImageStage, type CapwapImageStageOptions } from "./capwap/stage.js";
export {
  startTftpServer,
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
