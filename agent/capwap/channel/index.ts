/** The control-message layer both ends of CAPWAP share. */
export { ControlChannel, maxControlPacket, type ControlChannelOptions, type PendingRequest, type RequestOptions } from "./control-channel.js";
