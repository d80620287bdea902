import type { DtlsCredentials } from "../config/index.js";
import { readOperatorFile } from "../core/index.js";
import { DtlsContext, type KeylogSink } from "../capwap/dtls/index.js";

const readPem = (path: string, what: string): string => readOperatorFile(path, `dtls.${what}`);

/** Certificate credentials held in memory (PEM): a fleet's or a large lab's, issued without a file. */
export interface PemCredentials {
  /** The AP's certificate chain, leaf first. */
  cert: string;
  key: string;
  /** The CA the controller's certificate chains to. */
  ca: string;
}

/**
 * The AP's DTLS client context from its configured credentials (undefined
 * in plaintext mode); with `pem`, the certificate, key and CA are those
 * instead of the files the config names (its other settings still apply).
 */
export function apDtlsContext(creds: DtlsCredentials, keylog?: KeylogSink, pem?: PemCredentials): DtlsContext | undefined {
  if (creds.mode === "plaintext") return undefined;
  const common = {
    role: "client" as const,
    minVersion: creds.dtls10 ? ("DTLSv1" as const) : ("DTLSv1.2" as const),
    ...(creds.ciphers ? { ciphers: creds.ciphers } : {}),
    ...(keylog ? { keylog } : {}),
  };
  if (creds.mode === "psk") return new DtlsContext({ ...common, psk: { identity: creds.identity, key: Buffer.from(creds.key, "hex") } });
  return new DtlsContext({
    ...common,
    ...(pem ?? { cert: readPem(creds.cert, "cert"), key: readPem(creds.key, "key"), ca: readPem(creds.ca, "ca") }),
    ...(creds.pinnedFingerprint ? { pinnedFingerprint: creds.pinnedFingerprint } : {}),
  });
}
