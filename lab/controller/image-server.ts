/**
 * The EWC image-download profile (SPEC.md §3, seed 2). An embedded
 * controller serves only its own AP's image class; for the others it is
 * given an image server (`image-download-mode tftp|sftp`, server, path,
 * credentials), and the controller — not the AP — fetches the class file
 * the AP asks for from there, then relays it over CAPWAP Image Data like
 * any other (the server's log shows the controller's address).
 *
 * Here that is an ImageLibrary over the bundle directory: a hardware class
 * the directory has is served from it; one it lacks is fetched from
 * `<server>/<class>` into it — through a .part file, checked by the image
 * verifier, renamed only when whole — and then served. Concurrent requests
 * for a class wait for its one fetch. A failure is not remembered: the next
 * request tries again, never more than one fetch per class at a time.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Clock, ConfigError, describeError, type Log, readOperatorFile, systemClock } from "../../agent/core/index.js";
import { CA_SCHEMES, fileSink, type ImageDescription, type ImageSink, type ImageSource, ImageSourceError, imageSourceFor, redactCredentials } from "../../agent/transfer/index.js";
import { imageLimits, ImageVerifier, type VerifiedImage } from "../../images/index.js";
import { type ClassName, hardwareClasses, isClassName } from "../../platform/classes/index.js";
import { bundleLibrary, type ImageLibrary } from "./image-library.js";

/** An image server as the operator gave it, checked once. */
export interface ImageServer {
  /** The server directory: tftp://host[:port]/dir, sftp://user[:pass]@host/dir, http(s)://…, any scheme schemes.ts has. */
  readonly url: string;
  /** The URL as logs show it: credentials replaced by *****. */
  readonly shown: string;
  readonly source: ImageSource;
}

/**
 * `--image-server URL`: a scheme vap fetches from and a server named;
 * otherwise one ConfigError line (exit 2). An SFTP server's host key is
 * accepted and its fingerprint told to `onUncheckedHostKey`, as `vap fetch`
 * does without --known-hosts.
 */
export function imageServerFlag(url: string, onUncheckedHostKey?: (line: string) => void, ca?: string): ImageServer {
  let source: ImageSource;
  try {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0]?.toLowerCase() ?? "";
    // A private CA (PEM) is the only trust of an https:// or ftpes:// server, as vap fetch's --ca.
    if (ca !== undefined && !CA_SCHEMES.includes(scheme)) throw new ConfigError(`a CA (--image-server-ca) applies to ${CA_SCHEMES.join(", ")} only`);
    source = imageSourceFor(url, { ...(onUncheckedHostKey ? { onUncheckedHostKey } : {}), ...(ca !== undefined ? { ca } : {}) });
  } catch (err) {
    throw new ConfigError(`--image-server: ${describeError(err)}`, { cause: err });
  }
  const shown = redactCredentials(url);
  let host = "";
  try {
    host = new URL(url).hostname;
  } catch {
    // Reported below, as a URL without a server.
  }
  if (host === "") throw new ConfigError(`--image-server: "${shown}" names no server (expected e.g. tftp://host[:port]/dir)`);
  return { url, shown, source };
}

/** `--image-server URL [--image-server-ca FILE]` as both commands take them; undefined without a server. */
export function imageServerFlags(v: { "image-server"?: string | undefined; "image-server-ca"?: string | undefined }, onUncheckedHostKey: (line: string) => void): ImageServer | undefined {
  const url = v["image-server"];
  const caFile = v["image-server-ca"];
  if (url === undefined) {
    if (caFile !== undefined) throw new ConfigError("--image-server-ca applies with --image-server only");
    return undefined;
  }
  return imageServerFlag(url, onUncheckedHostKey, caFile === undefined ? undefined : readOperatorFile(caFile, "--image-server-ca"));
}

export interface ImageServerLibraryOptions {
  server: ImageServer;
  /** The controller's bundle directory: what it has, and where what it fetches is kept. */
  bundleDir: string;
  log: Log;
  clock?: Clock;
}

/** The bundle, and the image server for the classes it lacks: open() rejects with the reason (server URL redacted) when a fetch fails. */
export interface ImageServerLibrary extends ImageLibrary {
  /** Abort fetches in flight (their .part files go) and resolve once they ended. */
  close(): Promise<void>;
}

export function imageServerLibrary(o: ImageServerLibraryOptions): ImageServerLibrary {
  const bundle = bundleLibrary(o.bundleDir);
  const clock = o.clock ?? systemClock;
  const fetches = new Map<ClassName, Promise<void>>();
  const closing = new AbortController();

  async function fetchClass(name: ClassName): Promise<void> {
    const shown = `${o.server.shown.replace(/\/$/, "")}/${name}`;
    o.log.info(`Fetching image ${name} from image server ${shown}`);
    const started = clock.now();
    const sink = verifyingFileSink(join(o.bundleDir, name), name);
    try {
      await o.server.source.fetch({ name }, sink, { signal: closing.signal });
    } catch (err) {
      await sink.abort(describeError(err));
      const why = err instanceof ImageSourceError ? `${err.reason}: ${err.message}` : describeError(err);
      o.log.warn(`Cannot fetch image ${name} from image server ${shown}: ${why}`);
      throw new Error(`cannot fetch it from image server ${shown}: ${why}`, { cause: err });
    }
    const { version, imageBytes } = sink.verified!;
    const seconds = ((clock.now() - started) / 1000).toFixed(2);
    o.log.info(`Fetched image ${name} ${version} from image server ${shown}: ${imageBytes} bytes in ${seconds} s, a whole ${name} image (the APs check its signature); serving it from ${o.bundleDir}`);
  }

  /** The class's one fetch: the one in flight, or none when the file arrived meanwhile, or a new one. */
  function fetchOnce(name: ClassName): Promise<void> {
    const inFlight = fetches.get(name);
    if (inFlight) return inFlight;
    // Checked in the same tick as the map: a fetch that just renamed its file and left the map is not repeated.
    if (existsSync(join(o.bundleDir, name))) return Promise.resolve();
    const fetch = fetchClass(name).finally(() => fetches.delete(name));
    fetches.set(name, fetch);
    return fetch;
  }

  return {
    async open(name) {
      const local = await bundle.open(name);
      // Only hardware classes are asked of the server: an AP does not choose what the controller downloads.
      if (local || !isClassName(name)) return local;
      await fetchOnce(name);
      return bundle.open(name);
    },
    async close() {
      closing.abort(new ImageSourceError("aborted", "the controller is stopping"));
      await Promise.allSettled(fetches.values());
    },
  };
}

/**
 * fileSink(path) with the image verifier reading along: only a whole,
 * well-formed image of class `name` (structure, member hashes, image_family)
 * is renamed into place. The signature is the AP's to check (PREDOWNLOAD):
 * the controller holds no image-signing trust of its own.
 */
function verifyingFileSink(path: string, name: ClassName): ImageSink & { verified: VerifiedImage | undefined } {
  const file = fileSink(path);
  const verifier = new ImageVerifier({ limits: imageLimits(hardwareClasses[name]), policy: "structure-only", family: name });
  const sink = {
    verified: undefined as VerifiedImage | undefined,
    begin: (image: ImageDescription) => file.begin(image),
    async write(chunk: Uint8Array) {
      await verifier.write(chunk);
      await file.write(chunk);
    },
    async finish() {
      sink.verified = await verifier.end();
      return file.finish();
    },
    async abort(reason: string) {
      await verifier.abort();
      await file.abort(reason);
    },
  };
  return sink;
}
