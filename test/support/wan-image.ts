/**
 * One AP downloading an image from the lab controller through the WAN
 * impairment proxy, over real UDP and DTLS: the set-up the image tests and
 * the sliding-window benchmark share. With `https`, the controller's HTTPS
 * method serves the image too (its TCP through the same proxy) and the AP
 * tries it first, CAPWAP its fallback, as `startAp` wires the two sources.
 */
import { freeLoopbackAddress } from "./loopback.js";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAp } from "../../agent/ap/index.js";
import { DtlsContext } from "../../agent/capwap/dtls/index.js";
import type { ProfileName } from "../../agent/capwap/profiles/index.js";
import { OOB_DEFAULTS, parseApConfig } from "../../agent/config/index.js";
import { silentLog, systemClock } from "../../agent/core/index.js";
import { capwapImageSource, oobImageSource } from "../../agent/transfer/index.js";
import { bundleLibrary, LabController, type HttpsMethodSettings, startHttpsMethod } from "../../lab/controller/index.js";
import { type Impairment, startWanProxy } from "../../lab/wan/index.js";
import { issueCa, issueLeaf, validFor } from "../../agent/pki/index.js";
import { HashSink } from "./memory-images.js";
import { tempDir } from "./temp.js";

export interface WanImageOptions {
  profile: ProfileName;
  window: number;
  imageBytes: number;
  impairment: Partial<Impairment>;
  seed: number;
  timeoutMs?: number;
  /** The controller's HTTPS upgrade method (its server and fault): the AP downloads over HTTPS first. */
  https?: Omit<HttpsMethodSettings, "port">;
}

export interface WanImageResult {
  completed: boolean;
  /** The image arrived byte-exact (its SHA-256 matches). */
  intact: boolean;
  /** From the first block sent to the last acknowledged, as the controller saw it. */
  transferMs: number;
  bytesPerSecond: number;
  /** window × block / RTT, the most a sliding window can carry. */
  boundBytesPerSecond: number;
  /** Why sources aborted the AP's sink (a failed HTTPS try), in order. */
  aborted: readonly string[];
  /** performance.now() when a source first aborted the AP's sink, and when the last download's first bytes reached it. */
  firstAbortAt?: number;
  firstWriteAt?: number;
}

export async function imageOverWan(o: WanImageOptions): Promise<WanImageResult> {
  const dir = tempDir("wan-image");
  const image = randomBytes(o.imageBytes);
  mkdirSync(join(dir, "bundle"));
  writeFileSync(join(dir, "bundle", "ap1g8"), image);
  const validity = validFor(1);
  const ca = issueCa("ecdsa", validity);
  const apCert = issueLeaf(ca, { commonName: "ap", role: "ap", type: "ecdsa", validity });
  // Three loopback hosts, each with the CAPWAP ports free now: parallel runs never share one.
  const [acAddress, proxyAddress, apAddress] = [await freeLoopbackAddress(), await freeLoopbackAddress(), await freeLoopbackAddress()];
  // The AP reaches the HTTPS server by the proxy's address: the certificate names it.
  const ctrl = issueLeaf(ca, { commonName: "wlc", role: "controller", type: "ecdsa", validity, ipAddresses: [acAddress, proxyAddress] });
  const https = o.https && (await startHttpsMethod({ ...o.https, port: 0, bundleDir: join(dir, "bundle"), address: acAddress, cert: ctrl.cert + ca.cert, key: ctrl.key, log: silentLog, workDir: dir }));
  const proxy = await startWanProxy({
    seed: o.seed,
    impairment: o.impairment,
    relays: [
      ...[5246, 5247].map((port) => ({ protocol: "udp" as const, listen: { address: proxyAddress, port }, to: { address: acAddress, port } })),
      ...(https ? [{ protocol: "tcp" as const, listen: { address: proxyAddress, port: 0 }, to: { address: acAddress, port: https.server.port } }] : []),
    ],
  });
  const controller = await LabController.listen({
    address: acAddress,
    profile: o.profile,
    dtls: new DtlsContext({ role: "server", cert: ctrl.cert + ca.cert, key: ctrl.key, ca: ca.cert }),
    softwareVersion: "17.12.1.5",
    images: bundleLibrary(join(dir, "bundle")),
    imageWindow: () => o.window,
    ...(https ? { oob: https.offers(proxy.relays[2]!.listen) } : {}),
  });
  const sink = new HashSink();
  const imageSink = { imageName: "ap1g8", sink: () => sink };
  const config = parseApConfig(
    { baseMac: "02:00:00:00:99:01", profile: o.profile, controllers: [{ address: proxyAddress }], discovery: { bindAddress: apAddress }, dtls: { cert: "-", key: "-", ca: "-" } },
    "wan-image",
  );
  const ap = await startAp(config, {
    log: silentLog,
    dtls: new DtlsContext({ role: "client", cert: apCert.cert + ca.cert, key: apCert.key, ca: ca.cert }),
    wtp: {
      imageSources: {
        capwap: capwapImageSource({ ...imageSink, clock: systemClock, startTimeoutMs: 30_000, inactivityMs: 30_000 }),
        ...(https ? { https: oobImageSource({ ...imageSink, ca: ca.cert, clock: systemClock, stallTimeoutMs: OOB_DEFAULTS.stallTimeoutMs, localAddress: apAddress }) } : {}),
      },
    },
  });
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  // Done when the AP holds the image and the controller has its last acknowledgement.
  const acked = () => controller.aps()[0]?.download?.finishedAt !== undefined;
  while (!(sink.finished && acked()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const download = controller.aps()[0]?.download;
  await ap.stop();
  await controller.shutdown();
  await proxy.close();
  await https?.close();
  rmSync(dir, { recursive: true, force: true });
  const transferMs = download?.startedAt !== undefined && download.finishedAt !== undefined ? download.finishedAt - download.startedAt : Number.NaN;
  const blockSize = o.profile === "cisco" ? 1377 : 1024;
  const completed = sink.finished !== undefined;
  return {
    completed,
    intact: sink.finished?.sha256 === createHash("sha256").update(image).digest("hex"),
    transferMs,
    // Only a transfer that finished has a throughput.
    bytesPerSecond: completed ? o.imageBytes / (transferMs / 1000) : Number.NaN,
    boundBytesPerSecond: (o.window * blockSize) / ((2 * (o.impairment.delayMs ?? 0)) / 1000),
    aborted: sink.aborted,
    ...(sink.firstAbortAt !== undefined ? { firstAbortAt: sink.firstAbortAt } : {}),
    ...(sink.firstWriteAt !== undefined ? { firstWriteAt: sink.firstWriteAt } : {}),
  };
}
