/**
 * fetchHttp from nginx over HTTPS (private CA) across `vap wan`'s layer-3
 * link at 100 ms RTT and 1 % loss each way: this process's namespace is one
 * end and nginx runs in a namespace of the test's own at the other, so TCP
 * segments are really lost and nginx's TCP stack retransmits them (a tcp:
 * pair of the proxy terminates TCP and could only delay the stream).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchHttp } from "../../../agent/transfer/index.js";
import { startWanLink, type WanLink } from "../../../lab/wan/index.js";
import { namespacePair, type NamespacePair, tcpRetransmissions } from "../../support/netns.js";
import { content, RecordingSink, sha256 } from "../tftp/support.js";
import { type RunningNginx, startNginx } from "./support.js";

const IMAGE = content(1_500_000, 21);
const RTT_MS = 100;

let ns: NamespacePair;
let nginx: RunningNginx;
let link: WanLink;
beforeAll(async () => {
  ns = namespacePair();
  link = await startWanLink({ a: { address: ns.cidrA }, b: { netns: ns.b, address: ns.cidrB }, impairment: { delayMs: RTT_MS / 2, loss: 0.01 }, seed: 5 });
  nginx = await startNginx({ ap1g8: IMAGE }, { netns: ns.b, address: ns.addressB });
});
afterAll(async () => {
  await nginx?.stop();
  await link?.close();
  ns?.remove();
});

describe("fetchHttp across vap wan's layer-3 link (100 ms RTT, 1% loss)", () => {
  it("an HTTPS image from nginx arrives byte-exact though segments were lost and retransmitted", async () => {
    const sink = new RecordingSink();
    const started = performance.now();
    const result = await fetchHttp(`https://${ns.addressB}:${nginx.httpsPort}/ap1g8`, sink, { ca: nginx.caPem });
    const elapsed = performance.now() - started;
    expect(result.bytes).toBe(IMAGE.length);
    expect(sink.sha256).toBe(sha256(IMAGE));
    expect(sink.calls).toEqual(["begin", "finish"]);
    // TCP's handshake, TLS 1.3's round trip and the request's: the link was really in the path.
    expect(elapsed).toBeGreaterThanOrEqual(3 * RTT_MS);
    const { bToA } = link.stats();
    expect(bToA.bytesOut).toBeGreaterThan(IMAGE.length);
    expect(bToA.dropped).toBeGreaterThan(0);
    expect(await tcpRetransmissions(ns.b)).toBeGreaterThan(0);
  }, 60_000);
});
