/**
 * What the caller already knows about an image — its size, its digest
 * (the controller's MD5 in Image Information, a published SHA-256) —
 * checked the same way whatever the source. The check sits between the
 * source and the sink: the sink finishes (installs, renames) only after
 * the last byte matched, and a mismatch is the seam's "integrity" failure
 * whichever source carried the bytes.
 */
import { createHash, type Hash } from "node:crypto";
import type { ImageSink } from "./sink.js";
import { type ImageSource, ImageSourceError } from "./source.js";

/** Digests a caller may name, by their usual names. */
export const DIGEST_ALGORITHMS = ["md5", "sha256"] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HEX_LENGTH: Record<DigestAlgorithm, number> = { md5: 32, sha256: 64 };

export interface ExpectedImage {
  size?: number;
  digest?: { algorithm: DigestAlgorithm; hex: string };
}

/** A digest as an operator types it; a one-line error for anything that cannot be one. */
export function parseDigest(algorithm: DigestAlgorithm, text: string): { algorithm: DigestAlgorithm; hex: string } {
  const hex = text.trim().toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(hex)) {
    throw new TypeError(`${JSON.stringify(text)} is not an ${algorithm.toUpperCase()} digest (${HEX_LENGTH[algorithm]} hex digits)`);
  }
  return { algorithm, hex };
}

/** `source`, but every fetch must produce exactly `expected`, or it fails as "integrity" and the sink never finishes. */
export function expectingSource(source: ImageSource, expected: ExpectedImage): ImageSource {
  return {
    async fetch(image, sink, options) {
      const check = new ExpectationSink(sink, expected);
      try {
        return await source.fetch(image, check, options);
      } catch (err) {
        // The source reports a sink failure as "sink"; a mismatch is the bytes' fault, not the sink's.
        throw check.mismatch ?? err;
      }
    },
  };
}

class ExpectationSink implements ImageSink {
  mismatch: ImageSourceError | undefined;
  readonly #hash: Hash | undefined;
  #bytes = 0;
  #name = "the image";

  constructor(
    private readonly inner: ImageSink,
    private readonly expected: ExpectedImage,
  ) {
    this.#hash = expected.digest ? createHash(expected.digest.algorithm) : undefined;
    if (inner.precheck) this.precheck = () => inner.precheck!();
  }

  precheck?: () => Promise<void>;

  async begin(image: { name: string; size?: number }): Promise<void> {
    this.#name = image.name;
    const { size } = this.expected;
    if (size !== undefined && image.size !== undefined && image.size !== size) this.#fail(`is ${image.size} bytes, expected ${size}`);
    return this.inner.begin(image);
  }

  write(chunk: Uint8Array): Promise<void> {
    this.#bytes += chunk.length;
    const { size } = this.expected;
    if (size !== undefined && this.#bytes > size) this.#fail(`more than the expected ${size} bytes`);
    this.#hash?.update(chunk);
    return this.inner.write(chunk);
  }

  async finish() {
    const { size, digest } = this.expected;
    if (size !== undefined && this.#bytes !== size) this.#fail(`truncated: ${this.#bytes} of ${size} bytes`);
    if (digest && this.#hash) {
      const got = this.#hash.digest("hex");
      if (got !== digest.hex) this.#fail(`${digest.algorithm.toUpperCase()} mismatch: expected ${digest.hex}, got ${got}`);
    }
    return this.inner.finish();
  }

  abort(reason: string): Promise<void> {
    return this.inner.abort(reason);
  }

  #fail(message: string): never {
    this.mismatch = new ImageSourceError("integrity", `${this.#name}: ${message}`);
    throw this.mismatch;
  }
}
