/** Operator configuration: validated, with one-line errors naming file and field. */
export {
  parseApConfig,
  loadApConfig,
  RFC5415_TIMERS,
  PROFILE_NAMES,
  type ProfileName,
  MAX_IMAGE_WINDOW,
  RECEIVE_SPAN_FACTOR,
  imageReceiveSpan,
  type ApConfig,
  type ApIdentity,
  type CapwapTimers,
  type ControllerAddress,
  type DtlsCredentials,
  type ImageSettings,
  OOB_DEFAULTS,
  DEFAULT_AP_VERSION,
  EFFICIENT_UPGRADE_DEFAULTS,
  type EfficientUpgradeSettings,
  type ConsoleLogin,
} from "./ap-config.js";
export { Fields, parseDuration } from "./validate.js";
