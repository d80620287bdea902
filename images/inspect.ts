/**
 * `vap image inspect`: what an archive holds, read leniently with
 * tar-stream's extractor so that images the verifier refuses (foreign
 * layouts, links, pax records) can still be looked at. Needs no trust and
 * writes nothing; it judges nothing either — that is `verify`.
 */
import { createHash } from "node:crypto";
import tar from "tar-stream";
import { describeError } from "../agent/core/index.js";
import { drained } from "./drain.js";
import { ImageRejectedError } from "./errors.js";
import { FINAL_HASH, INFO, METADATA_MAX_BYTES, parseInfo, SIGNING_CERT } from "./format.js";
import { oneLineName, parseSigningChain } from "./trust.js";
import type { ImageSource } from "./verify.js";

export interface InspectedMember {
  name: string;
  /** tar-stream's type: "file", "symlink", "link", "directory", … */
  type: string;
  size: number;
  /** Regular files only. */
  sha256?: string;
  linkname?: string;
  /** The name or size came from a pax extended header. */
  pax?: boolean;
}

export interface InspectedCertificate {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  key: string;
  fingerprint256: string;
}

export interface ImageInspection {
  bytes: number;
  members: InspectedMember[];
  /** info's fields, or why they could not be read. */
  info?: { fields: readonly (readonly [string, string])[] } | { error: string };
  finalHash?: string;
  /** signing_cert.pem, leaf first, or why it could not be read. */
  certificates?: InspectedCertificate[] | { error: string };
}

function describeChain(pem: Uint8Array): InspectedCertificate[] {
  return parseSigningChain(pem).map((c) => {
    const details = c.publicKey.asymmetricKeyDetails ?? {};
    return {
      subject: oneLineName(c.subject),
      issuer: oneLineName(c.issuer),
      notBefore: new Date(c.validFrom),
      notAfter: new Date(c.validTo),
      key: `${c.publicKey.asymmetricKeyType} ${details.namedCurve ?? `${details.modulusLength} bits`}`,
      fingerprint256: c.fingerprint256,
    };
  });
}

function attempt<T>(read: () => T): T | { error: string } {
  try {
    return read();
  } catch (err) {
    return { error: describeError(err) };
  }
}

export async function inspectImage(source: ImageSource): Promise<ImageInspection> {
  const extract = tar.extract();
  const members: InspectedMember[] = [];
  const kept = new Map<string, Uint8Array>();
  const reading = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const hash = createHash("sha256");
      const cap = METADATA_MAX_BYTES[h.name];
      const parts: Uint8Array[] = [];
      let held = 0;
      for await (const chunk of entry as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        if (cap !== undefined && (held += chunk.length) <= cap) parts.push(chunk);
      }
      if (cap !== undefined && held <= cap && !kept.has(h.name)) kept.set(h.name, Buffer.concat(parts));
      members.push({
        name: h.name,
        type: h.type,
        size: h.size,
        ...(h.type === "file" ? { sha256: hash.digest("hex") } : {}),
        ...(h.linkname ? { linkname: h.linkname } : {}),
        ...(h.pax ? { pax: true } : {}),
      });
    }
  })();
  // Its failure is reported where it is awaited below; until then it is not "unhandled".
  reading.catch(() => {});
  let bytes = 0;
  try {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (!extract.write(chunk)) await drained(extract);
      if (extract.destroyed) break;
    }
  } catch (err) {
    // The source failed (a missing file, a broken download): not the archive's fault.
    extract.destroy();
    await reading.catch(() => {});
    throw err;
  }
  extract.end(null);
  try {
    await reading;
  } catch (err) {
    throw new ImageRejectedError("IMAGE_STRUCTURE", undefined, `unreadable as tar after ${members.length} members: ${describeError(err)}`);
  }
  const info = kept.get(INFO);
  const finalHash = kept.get(FINAL_HASH);
  const cert = kept.get(SIGNING_CERT);
  return {
    bytes,
    members,
    ...(info ? { info: attempt(() => ({ fields: parseInfo(info).fields })) } : {}),
    ...(finalHash ? { finalHash: Buffer.from(finalHash).toString("latin1").trim() } : {}),
    ...(cert ? { certificates: attempt(() => describeChain(cert)) } : {}),
  };
}
