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
  /**
   * The next bytes, in order. Resolves when the sink can take more. The
   * chunk is the sink's only until then: a source may fill its memory again
   * (the TFTP client does), so a sink copies what it keeps.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Every byte arrived and the source checked size and MD5: keep it. */
  finish(): Promise<ImageSinkResult>;
  /** The download failed: throw away whatever arrived. Safe to call more than once. */
  abort(reason: string): Promise<void>;
}

/** What a wrapper notes as calls pass through to the sink it wraps; each runs before the call, `begun` after begin succeeded. */
export interface SinkTaps {
  begin?(image: ImageDescription): void;
  begun?(): void;
  write?(chunk: Uint8Array): void;
  finish?(): void;
}

/**
 * `sink` with `taps` noting what passes (progress, "started", a log line):
 * every call still goes to `sink`, precheck and abort untouched. A write
 * without a tap is the sink's own, so the per-block path gains no layer.
 */
export function tappedSink(sink: ImageSink, taps: SinkTaps): ImageSink {
  const { begin, begun, write, finish } = taps;
  return {
    ...(sink.precheck ? { precheck: () => sink.precheck!() } : {}),
    begin: async (image) => {
      begin?.(image);
      await sink.begin(image);
      begun?.();
    },
    write: write
      ? (chunk) => {
          write(chunk);
          return sink.write(chunk);
        }
      : (chunk) => sink.write(chunk),
    finish: () => {
      finish?.();
      return sink.finish();
    },
    abort: (reason) => sink.abort(reason),
  };
}

/**
 * Every byte into `main` and into `copy` as well (a primary AP keeps the
 * image it installs, to serve it): each call waits for both, so the slower
 * sets the pace and nothing piles up. `main` finishes first and decides:
 * only what it accepted is kept (`copy` finished), anything it refuses
 * leaves no copy (`copy` aborted). Precheck is `main`'s.
 */
export function teeSink(main: ImageSink, copy: ImageSink): ImageSink {
  return {
    ...(main.precheck ? { precheck: () => main.precheck!() } : {}),
    begin: (image) => both(main.begin(image), copy.begin(image)),
    write: (chunk) => both(main.write(chunk), copy.write(chunk)),
    finish: async () => {
      let result: ImageSinkResult;
      try {
        result = await main.finish();
      } catch (err) {
        await copy.abort("the image was refused");
        throw err;
      }
      await copy.finish();
      return result;
    },
    abort: (reason) => both(main.abort(reason), copy.abort(reason)),
  };
}

/** Wait for both, then fail with the first failure: neither call is still running when the caller moves on (to abort, say). */
async function both(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
}
