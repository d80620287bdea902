/**
 * The out-of-band HTTPS download as the controller and the AP run it, for
 * the benches across `vap wan --link`: two network namespaces, "wlc" (b) and
 * "ap" (a); the controller's HTTPS method (oob-server.ts: embedded or nginx,
 * its own token key) in a process in wlc; the AP's OOB source (oob-ap.ts) in
 * a fresh process in ap for each download, cold as an AP's one download, and
 * curl beside it with the same token. Needs root, as `ip netns add` does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { issueCa, issueLeaf, validFor } from "../../agent/pki/index.js";
import type { OobServerKind } from "../../lab/controller/oob/index.js";
import { namespacePair, type NamespacePair } from "../support/netns.js";
import { tempDir } from "../support/temp.js";
import { curlTime, runIn } from "./netns-link.js";
import { nodeCommand } from "./vap-process.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The AP's base MAC: what the controller's token names besides its address and the image. */
const AP_MAC = "02:00:00:00:99:01";
/** How long the controller's HTTPS method may take to listen (nginx on a loaded machine) or to stop. */
const SERVER_START_MS = 20_000;
const SERVER_STOP_MS = 10_000;

/** What oob-server.ts is started with (its one argument, as JSON). */
export interface OobServerRequest {
  kind: OobServerKind;
  bundleDir: string;
  address: string;
  certFile: string;
  keyFile: string;
  workDir: string;
  ap: { mac: string; address: string };
  images: string[];
}

/** The controller's offer of one image: the URL and the token its session sends the AP over CAPWAP. */
export interface OobOffer {
  url: string;
  token: string;
}

/** What oob-ap.ts reads on stdin: the offer and what the controller's Image Information says, the AP's CA and address. */
export interface OobApRequest extends OobOffer {
  image: string;
  size: number;
  md5: string;
  caFile: string;
  localAddress: string;
}

/** What oob-ap.ts prints: the download's time, from asking for the offer to the sink's finish, and what the sink got. */
export interface OobApResult {
  ms: number;
  bytes: number;
  sha256: string;
}

interface RigImage {
  size: number;
  md5: string;
  sha256: string;
}

export interface RigServer {
  /** Each image's offer, issued once for the AP's address; a token serves every download of its life (OOB_TOKEN_TTL_MS). */
  offers: Record<string, OobOffer>;
  stop(): Promise<void>;
}

export class OobRig {
  readonly ns: NamespacePair;
  readonly caFile: string;
  readonly #dir: string;
  readonly #images: Record<string, RigImage>;

  private constructor(ns: NamespacePair, dir: string, caFile: string, images: Record<string, RigImage>) {
    this.ns = ns;
    this.#dir = dir;
    this.caFile = caFile;
    this.#images = images;
  }

  /** Namespaces, a PKI whose controller certificate names the wlc address, and a bundle of random images of the given sizes by class name. */
  static create(sizes: Record<string, number>): OobRig {
    const dir = tempDir("oob-rig");
    mkdirSync(join(dir, "bundle"));
    const images: Record<string, RigImage> = {};
    for (const [name, size] of Object.entries(sizes)) {
      const bytes = randomBytes(size);
      writeFileSync(join(dir, "bundle", name), bytes);
      images[name] = { size, md5: createHash("md5").update(bytes).digest("hex"), sha256: createHash("sha256").update(bytes).digest("hex") };
    }
    const ns = namespacePair();
    const validity = validFor(1);
    const ca = issueCa("ecdsa", validity);
    const wlc = issueLeaf(ca, { commonName: "vap-bench-wlc", role: "controller", type: "ecdsa", validity, ipAddresses: [ns.addressB] });
    writeFileSync(join(dir, "ca.pem"), ca.cert);
    writeFileSync(join(dir, "wlc.pem"), wlc.cert + ca.cert);
    writeFileSync(join(dir, "wlc.key"), wlc.key);
    return new OobRig(ns, dir, join(dir, "ca.pem"), images);
  }

  size(image: string): number {
    return this.#images[image]!.size;
  }

  /** The controller's HTTPS method in wlc; its address must be up (start it inside acrossLink). */
  async server(kind: OobServerKind): Promise<RigServer> {
    const workDir = join(this.#dir, `work-${kind}`);
    mkdirSync(workDir, { recursive: true });
    const request: OobServerRequest = {
      kind,
      bundleDir: join(this.#dir, "bundle"),
      address: this.ns.addressB,
      certFile: join(this.#dir, "wlc.pem"),
      keyFile: join(this.#dir, "wlc.key"),
      workDir,
      ap: { mac: AP_MAC, address: this.ns.addressA },
      images: Object.keys(this.#images),
    };
    const child = spawn("ip", ["netns", "exec", this.ns.b, ...nodeCommand(join(here, "oob-server.js"), [JSON.stringify(request)])], { stdio: ["pipe", "pipe", "inherit"] });
    const stop = () => stopServer(child);
    try {
      const offers = await firstLine(child, SERVER_START_MS);
      return { offers: JSON.parse(offers) as Record<string, OobOffer>, stop };
    } catch (err) {
      await stop();
      throw err;
    }
  }

  /** The AP's OOB download of `image` in ap (its own process): its time in ms, checked against the image. */
  apDownload(offer: OobOffer, image: string): number {
    const { size, md5, sha256 } = this.#images[image]!;
    const request: OobApRequest = { ...offer, image, size, md5, caFile: this.caFile, localAddress: this.ns.addressA };
    const [node, ...args] = nodeCommand(join(here, "oob-ap.js"), []);
    const r = runIn(this.ns.a, node, args, JSON.stringify(request));
    if (r.status !== 0) throw new Error(`the AP's OOB download of ${image} failed: ${r.stderr}`);
    const got = JSON.parse(r.stdout) as OobApResult;
    if (got.bytes !== size || got.sha256 !== sha256) throw new Error(`the AP's OOB download of ${image} got ${got.bytes} bytes, SHA-256 ${got.sha256}`);
    return got.ms;
  }

  /** `curl --cacert CA -H "Authorization: Bearer TOKEN" -o /dev/null` in ap: its own time in ms. */
  curlDownload(offer: OobOffer, image: string): number {
    return curlTime(this.ns.a, offer.url, this.caFile, "/dev/null", this.size(image), ["-H", `Authorization: Bearer ${offer.token}`]);
  }

  remove(): void {
    this.ns.remove();
  }
}

/** The child's first line of output, once it has printed one. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the OOB server printed nothing in ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on("data", (d) => {
      out += d;
      const end = out.indexOf("\n");
      if (end >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, end));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the OOB server exited with ${code ?? signal} before it listened`));
    });
  });
}

/** End its stdin (it closes its server, nginx too, and exits); kill it if it does not in time. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_STOP_MS);
  await exited;
  clearTimeout(timer);
}
