/** Out-of-band HTTPS image download: the controller's offer over CAPWAP, the image over HTTPS; CAPWAP is the WTP's fallback. */
export { OobImageSource, oobImageSource, type OobImageSourceOptions } from "./source.js";
