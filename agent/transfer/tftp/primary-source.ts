/**
 * A subordinate AP's image source in an efficient image upgrade (SPEC.md §3):
 * its class image from the site's primary AP, whose TFTP endpoint the
 * controller's order named, with the options that suit a LAN
 * (CLIENT_REQUEST: blksize 1468, windowsize 16; PRIMARY_RETRIES), into the same sink as any
 * source. A failed try is the WTP's to retry or fall back from: a row in its
 * table, never a loop here.
 */
import type { Clock } from "../../core/index.js";
import type { ImageDownload, ImageSourceStarter } from "../../capwap/wtp/index.js";
import type { ImageSink } from "../sink.js";
import { ImageSourceError } from "../source.js";
import { imageRequestLine, imageSourceStarter } from "../starter.js";
import { CLIENT_REQUEST, PRIMARY_RETRIES } from "./limits.js";
import { tftpImageSource } from "./source.js";

export interface PrimaryImageSourceOptions {
  imageName: string;
  sink: (download: ImageDownload) => ImageSink;
  clock: Clock;
}

export function primaryImageSource(options: PrimaryImageSourceOptions): ImageSourceStarter {
  const { imageName, sink, clock } = options;
  return imageSourceStarter({
    imageName,
    sink,
    source: (download, { log }) => ({
      async fetch(image, into, o) {
        if (download.efficient?.role !== "subordinate") throw new ImageSourceError("internal", "a download from a primary AP needs the primary's endpoint");
        const { address, port } = download.efficient.primary;
        const at = `${address}:${port}`;
        log.info(imageRequestLine(at, image.name, download));
        const started = clock.now();
        const result = await tftpImageSource({ server: `tftp://${at}`, request: CLIENT_REQUEST, retries: PRIMARY_RETRIES, clock }).fetch(image, into, o);
        log.info(`Efficient image upgrade: ${image.name} ${result.version ?? download.version} from primary ${at} in ${((clock.now() - started) / 1000).toFixed(2)} s`);
        return result;
      },
    }),
  });
}
