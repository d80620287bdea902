/**
 * The controller's HTTPS upgrade method (`ap upgrade method https`, `ap
 * file-transfer https port <port>`): its file-transfer server (embedded or
 * nginx, oob/) over the bundle, a token key of its own, and the offers its
 * sessions make to OOB-capable APs. `vap controller` and `vap lab` share the
 * flags and the wiring.
 */
import { choiceFlag, integerFlag } from "../../agent/command-kit/index.js";
import { isIPv6 } from "node:net";
import { ConfigError, type Clock, type Log } from "../../agent/core/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import { DEFAULT_OOB_HTTPS_PORT, OOB_FAULTS, OOB_SERVER_KINDS, type OobFault, type OobFileServer, type OobServerKind, OobTokens, startOobServer } from "./oob/index.js";
import type { OobOffers } from "./options.js";

export const UPGRADE_METHODS = ["capwap", "https"] as const;
export type UpgradeMethod = (typeof UPGRADE_METHODS)[number];

export interface HttpsMethodSettings {
  port: number;
  server: OobServerKind;
  fault?: OobFault;
}

/** The flags' text, for both commands' usage. */
export const HTTPS_METHOD_USAGE = `[--upgrade-method capwap|https [--https-port ${DEFAULT_OOB_HTTPS_PORT}] [--https-server embedded|nginx] [--oob-fault ${OOB_FAULTS.join("|")}]]`;

/** The HTTPS method's settings from the flags, or undefined for CAPWAP; an HTTPS flag without the method is an error. */
export function httpsMethodFlags(v: { "upgrade-method"?: string | undefined; "https-port"?: string | undefined; "https-server"?: string | undefined; "oob-fault"?: string | undefined }): HttpsMethodSettings | undefined {
  const method = choiceFlag("upgrade-method", v["upgrade-method"] ?? "capwap", UPGRADE_METHODS);
  if (method === "capwap") {
    const stray = (["https-port", "https-server", "oob-fault"] as const).find((f) => v[f] !== undefined);
    if (stray) throw new ConfigError(`--${stray} applies with --upgrade-method https only`);
    return undefined;
  }
  return {
    port: integerFlag("https-port", v["https-port"] ?? String(DEFAULT_OOB_HTTPS_PORT), 0, 65535),
    server: choiceFlag("https-server", v["https-server"] ?? "embedded", OOB_SERVER_KINDS),
    ...(v["oob-fault"] !== undefined ? { fault: choiceFlag("oob-fault", v["oob-fault"], OOB_FAULTS) } : {}),
  };
}

export interface HttpsMethod {
  /**
   * What the controller's sessions offer (LabControllerOptions.oob); `via`:
   * where the APs reach the server when a NAT or a WAN relay stands in front
   * of it (its URLs name that address and port, as a controller's public IP).
   */
  offers(via?: Endpoint): OobOffers;
  readonly server: OobFileServer;
  close(): Promise<void>;
}

export interface HttpsMethodOptions extends HttpsMethodSettings {
  bundleDir: string;
  /** The address it listens on and names in its URLs (the controller's). */
  address: string;
  /** PEM: the controller's certificate chain and key (its DTLS identity). */
  cert: string;
  key: string;
  log: Log;
  clock?: Clock;
  /** nginx's configuration, logs and temporary files. */
  workDir?: string;
}

export async function startHttpsMethod(o: HttpsMethodOptions): Promise<HttpsMethod> {
  const tokens = new OobTokens(o.clock ? { clock: o.clock } : {});
  const server = await startOobServer({
    kind: o.server,
    bundleDir: o.bundleDir,
    address: o.address,
    port: o.port,
    cert: o.cert,
    key: o.key,
    tokens,
    log: o.log,
    ...(o.fault ? { fault: o.fault } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.workDir ? { workDir: o.workDir } : {}),
  });
  o.log.info(`AP upgrade method HTTPS: ${o.server} file-transfer server on ${o.address}:${server.port}${o.fault ? `, fault ${o.fault}` : ""}`);
  const urlVia = (image: string, via: Endpoint | undefined) => {
    const url = new URL(server.url(image));
    if (via) {
      url.hostname = isIPv6(via.address) ? `[${via.address}]` : via.address;
      url.port = String(via.port);
    }
    return url.href;
  };
  return {
    server,
    offers: (via) => ({ port: via?.port ?? server.port, offer: (claims) => ({ url: urlVia(claims.image, via), token: tokens.issue(claims).token }) }),
    close: () => server.close(),
  };
}
