import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { issueCa, issueLeaf, validFor } from "../../agent/pki/index.js";

export interface ServerCertificate {
  /** The private CA's certificate (PEM) that issued the server's. */
  caPem: string;
  /** The same, in `dir`/ca.pem. */
  caFile: string;
}

/** A fresh private CA and a TLS server certificate from it naming `address`, written as `dir`/server.pem (with the CA) and `dir`/server.key. */
export function writeServerCertificate(dir: string, caName: string, address = "127.0.0.1"): ServerCertificate {
  const validity = validFor(2);
  const ca = issueCa("ecdsa", validity, caName);
  const server = issueLeaf(ca, { commonName: "localhost", role: "controller", type: "ecdsa", validity, ipAddresses: [address] });
  writeFileSync(join(dir, "server.pem"), server.cert + ca.cert);
  writeFileSync(join(dir, "server.key"), server.key, { mode: 0o600 });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.cert);
  return { caPem: ca.cert, caFile };
}
