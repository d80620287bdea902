/**
 * The controller's HTTPS file-transfer listener for out-of-band image
 * downloads (SPEC.md "Out-of-band HTTPS", issue 12): the bundle served by
 * class name to APs holding a token, by the embedded Node server or by a
 * real nginx the controller configures, starts and stops. Either reports
 * each transfer the same way: a `transfer` event and one log line.
 */
import { EventEmitter } from "node:events";
import { statSync } from "node:fs";
import { isIP } from "node:net";
import { ConfigError, describeError, systemClock, UsageError } from "../../../agent/core/index.js";
import { issueCa, issueLeaf, validFor } from "../../../agent/pki/index.js";
import { type Backend, type BackendContext, hostPort, type OobFileServer, type OobFileServerEvents, type OobServerOptions, probePort } from "./backend.js";
import { startEmbedded } from "./embedded.js";
import { startNginx } from "./nginx.js";
import { bearerToken, IMAGE_NAME, type OobVerdict } from "./tokens.js";

/** The `tls` fault: a certificate for the right address from a CA made here and trusted by nobody. */
function untrustedCertificate(address: string): { cert: string; key: string } {
  const validity = validFor(1);
  const ca = issueCa("ecdsa", validity, "vap OOB untrusted CA (tls fault)");
  const leaf = issueLeaf(ca, { commonName: "vap-controller", role: "controller", type: "ecdsa", validity, ipAddresses: [address] });
  return { cert: leaf.cert + ca.cert, key: leaf.key };
}

class FileServer extends EventEmitter<OobFileServerEvents> implements OobFileServer {
  readonly port: number;
  readonly #host: string;
  readonly #backend: Backend;
  #closed: Promise<void> | undefined;

  constructor(address: string, backend: Backend) {
    super();
    this.port = backend.port;
    this.#host = hostPort(address, backend.port);
    this.#backend = backend;
  }

  url(image: string): string {
    if (!IMAGE_NAME.test(image)) throw new UsageError(`OOB image URL for "${image}": not a class name`);
    return `https://${this.#host}/images/${image}`;
  }

  close(): Promise<void> {
    this.#closed ??= this.#backend.close();
    return this.#closed;
  }
}

/** The `refuse` fault: a port nothing listens on (checked free now). */
async function refusing(o: OobServerOptions): Promise<Backend> {
  return { port: await probePort(o.address, o.port), close: async () => {} };
}

export async function startOobServer(options: OobServerOptions): Promise<OobFileServer> {
  const o = { clock: systemClock, ...options };
  if (isIP(o.address) === 0) throw new ConfigError(`OOB HTTPS server address "${o.address}" is not an IP address`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new ConfigError(`HTTPS port ${o.port} is not a TCP port (0-65535)`);
  let bundle;
  try {
    bundle = statSync(o.bundleDir);
  } catch (err) {
    throw new ConfigError(`OOB bundle directory ${o.bundleDir}: cannot read it (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
  }
  if (!bundle.isDirectory()) throw new ConfigError(`OOB bundle ${o.bundleDir} is not a directory`);
  let server: FileServer | undefined;
  const ctx: BackendContext = {
    o,
    tls: o.fault === "tls" ? untrustedCertificate(o.address) : { cert: o.cert, key: o.key },
    authorize(authorization, address, image) {
      const verdict = o.tokens.verify(bearerToken(authorization), { address, image });
      const refused: OobVerdict = verdict.ok && o.fault === "token" ? { ok: false, status: 403, reason: "every token refused (fault injection)" } : verdict;
      if (!refused.ok) o.log.warn(`OOB HTTPS request for ${image} from ${address} refused (${refused.status}): ${refused.reason}`);
      return refused;
    },
    report(t) {
      const who = t.ap === undefined ? t.address : `AP ${t.ap} (${t.address})`;
      o.log.info(
        `OOB HTTPS transfer of ${t.file} to ${who}: ${t.bytes} bytes in ${t.seconds.toFixed(3)} s, status ${t.status}, ${t.complete ? "complete" : "incomplete"}, method ${t.method}`,
        { ...t },
      );
      server?.emit("transfer", t);
    },
  };
  const backend = o.fault === "refuse" ? await refusing(o) : o.kind === "nginx" ? await startNginx(ctx) : await startEmbedded(ctx);
  server = new FileServer(o.address, backend);
  return server;
}
