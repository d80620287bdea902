import type { DtlsCredentials } from "../config/index.js";
import { readOperatorFile } from "../core/index.js";
import { DtlsContext, type KeylogSink } from "../capwap/dtls/index.js";

const readPem = (path: string, what: string): string => readOperatorFile(path, `dtls.${what}`);

/** The AP's DTLS client context from its configured credentials (undefined in plaintext mode). */
export function apDtlsContext(creds: DtlsCredentials, keylog?: KeylogSink): DtlsContext | undefined {
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
    cert: readPem(creds.cert, "cert"),
    key: readPem(creds.key, "key"),
    ca: readPem(creds.ca, "ca"),
    ...(creds.pinnedFingerprint ? { pinnedFingerprint: creds.pinnedFingerprint } : {}),
  });
}
