/** The control-message layer both ends of CAPWAP share. */
export { ControlChannel, type ControlChannelOptions, type PendingRequest } from "./control-channel.js";
