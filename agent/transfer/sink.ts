/**
 * Where a firmware download goes. Every image source (CAPWAP Image Data,
 * later HTTPS, TFTP, SFTP, FTP) writes the same way into an ImageSink, in
 * order, with back-pressure; the upgrade engine is the sink an AP uses.
 * Memory never grows with the image size.
 */
export interface ImageDescription {
  /** What the AP asked for (class name, e.g. "ap1g8"). */
  name: string;
  /** Bytes to expect, when the source says (a sink may refuse what will not fit). */
  size?: number;
}

export interface ImageSinkResult {
  /** The sink installed the image and the AP should reboot into it. */
  reboot?: boolean;
  /** Version of the image, when the sink read it (the upgrade engine does). */
  version?: string;
}

export interface ImageSink {
  /** Before the source even asks for the image (upgrade.sh PRECHECK). May refuse. */
  precheck?(): Promise<void>;
  /** Before any byte: the source says what comes. May refuse (no space). */
  begin(image: ImageDescription): Promise<void>;
  /** The next bytes, in order. Resolves when the sink can take more. */
  write(chunk: Uint8Array): Promise<void>;
  /** Every byte arrived and the source checked size and MD5: keep it. */
  finish(): Promise<ImageSinkResult>;
  /** The download failed: throw away whatever arrived. Safe to call more than once. */
  abort(reason: string): Promise<void>;
}
