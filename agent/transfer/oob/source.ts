/**
 * Out-of-band HTTPS image download (SPEC.md §3 "Out-of-band HTTPS"): ask the
 * joined controller for an offer over CAPWAP — an Image Data Request naming
 * the image with OobImageRequest instead of Initiate Download — then fetch
 * the offered URL with the offered token, trusting only the controller's CA,
 * resuming with Range after a broken connection, checked against the size
 * and MD5 the controller announced, into the same sink CAPWAP Image Data
 * uses. Any failure is the WTP's to act on: it falls back to CAPWAP Image
 * Data, a transition in its table, never a branch here.
 */
import type { Clock } from "../../core/index.js";
import { isSuccess, MessageType, ResultCode, resultCodeName, toHex } from "../../capwap/codec/index.js";
import { findElement, type Message, type VendorProfile } from "../../capwap/profiles/index.js";
import type { CapwapSession, ImageDownload, ImageSourceStarter } from "../../capwap/wtp/index.js";
import { expectingSource } from "../expected.js";
import { fetchHttp } from "../http/index.js";
import { type ImageSink, type ImageSinkResult, tappedSink } from "../sink.js";
import { type FetchOptions, type ImageRequest, type ImageSource, ImageSourceError } from "../source.js";
import { imageRequestLine, imageSourceStarter } from "../starter.js";

export interface OobImageSourceOptions {
  /** PEM: the roots the AP trusts for its controller (its DTLS CA); the only trust, chains below it accepted. */
  ca: string;
  /** Connecting, waiting for headers, or silence inside the body longer than this fails the download (and CAPWAP takes over). */
  stallTimeoutMs: number;
  clock: Clock;
  /** The AP's own address, when it is bound to one: the controller's token names the address it knows the AP by. */
  localAddress?: string;
}

/** The AP's request for an offer: the image by name, and OobImageRequest where CAPWAP would say Initiate Download. */
function offerRequest(profile: VendorProfile, imageName: string): Omit<Message, "seq"> {
  return {
    type: MessageType.ImageDataRequest,
    elements: [
      { kind: "ImageIdentifier", vendorId: profile.vendorId, identifier: imageName },
      { kind: "OobImageRequest", flags: 0 },
    ],
  };
}

/** One HTTPS download of the image the controller offers. */
export class OobImageSource implements ImageSource {
  readonly #session: CapwapSession;
  readonly #download: ImageDownload;
  readonly #o: OobImageSourceOptions;

  constructor(session: CapwapSession, download: ImageDownload, options: OobImageSourceOptions) {
    this.#session = session;
    this.#download = download;
    this.#o = options;
  }

  async fetch(image: ImageRequest, sink: ImageSink, { signal }: FetchOptions): Promise<ImageSinkResult> {
    const { log, profile } = this.#session;
    const { controllerAddress } = this.#download;
    log.info(imageRequestLine(controllerAddress, image.name, this.#download, "HTTPS"));
    let response: Message;
    try {
      response = await this.#session.request(offerRequest(profile, image.name));
    } catch {
      throw new ImageSourceError("timeout", "the controller did not answer the OOB image request");
    }
    if (signal.aborted) throw new ImageSourceError("aborted", String(signal.reason));
    const result = findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
    const info = findElement(response.elements, "ImageInformation");
    const offer = findElement(response.elements, "OobImageOffer");
    if (!isSuccess(result)) throw new ImageSourceError("refused", `the controller offers no HTTPS download: ${resultCodeName(result)}`);
    if (!info || !offer) throw new ImageSourceError("refused", "the controller's OOB answer lacks the image information or the offer");
    log.info(`OOB Image Download: ${image.name} from ${offer.url}, ${info.fileSize} bytes`);
    const { clock } = this.#o;
    const started = clock.now();
    const checked = expectingSource(
      {
        fetch: (request, into, o) =>
          fetchHttp(offer.url, into, {
            signal: o.signal,
            ca: this.#o.ca,
            timeoutMs: this.#o.stallTimeoutMs,
            name: request.name,
            authorization: `Bearer ${offer.token}`,
            // The URL is in the line above: the reason alone is what the fallback line and the controller's Method column show.
            urlInErrors: false,
            ...(this.#o.localAddress !== undefined ? { localAddress: this.#o.localAddress } : {}),
          }),
      },
      { size: info.fileSize, digest: { algorithm: "md5", hex: toHex(info.hash) } },
    );
    // The transfer is complete when the last byte passed the size and MD5 check, before the sink installs it (PREDOWNLOAD).
    const logged = tappedSink(sink, { finish: () => log.info(`OOB Image Download completed: ${info.fileSize} bytes in ${((clock.now() - started) / 1000).toFixed(2)} s`) });
    return checked.fetch(image, logged, { signal });
  }
}

/** The OOB source as the WTP starts it: one OobImageSource per download, into a sink of the caller's. */
export function oobImageSource(options: OobImageSourceOptions & { imageName: string; sink: (download: ImageDownload) => ImageSink }): ImageSourceStarter {
  const { imageName, sink, ...source } = options;
  return imageSourceStarter({ imageName, sink, source: (download, session) => new OobImageSource(session, download, source) });
}
