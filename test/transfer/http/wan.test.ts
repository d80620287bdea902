/**
 * fetchHttp from nginx over HTTPS (private CA) through `vap wan` set for
 * 100 ms RTT and 1 % loss, as the TFTP case. A tcp: pair carries the delay
 * (and would carry a rate); loss applies to datagrams only (see vap wan
 * --help), so the stream crosses the link whole but every round trip of TLS
 * and HTTP pays the 100 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchHttp } from "../../../agent/transfer/index.js";
import { startWanProxy, type WanProxy } from "../../../lab/wan/index.js";
import { content, RecordingSink, sha256 } from "../tftp/support.js";
import { type RunningNginx, startNginx } from "./support.js";

const IMAGE = content(400_000, 21);
const RTT_MS = 100;

let nginx: RunningNginx;
let proxy: WanProxy;
beforeAll(async () => {
  nginx = await startNginx({ "ap1g8": IMAGE });
  proxy = await startWanProxy({
    relays: [{ protocol: "tcp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: nginx.httpsPort } }],
    impairment: { delayMs: RTT_MS / 2, loss: 0.01 },
    seed: 5,
  });
});
afterAll(async () => {
  await proxy?.close();
  await nginx?.stop();
});

describe("fetchHttp through vap wan (100 ms RTT, 1% loss)", () => {
  it("an HTTPS image from nginx arrives byte-exact, the handshake and request paying the round trips", async () => {
    const sink = new RecordingSink();
    const started = performance.now();
    const result = await fetchHttp(`https://127.0.0.1:${proxy.relays[0]!.listen.port}/ap1g8`, sink, { ca: nginx.caPem });
    const elapsed = performance.now() - started;
    expect(result.bytes).toBe(IMAGE.length);
    expect(sink.sha256).toBe(sha256(IMAGE));
    expect(sink.calls).toEqual(["begin", "finish"]);
    // TLS 1.3 (one round trip) then the request (one more): the link was really in the path.
    expect(elapsed).toBeGreaterThanOrEqual(2 * RTT_MS);
    const [stats] = proxy.stats();
    expect(stats!.toClient.bytesOut).toBeGreaterThan(IMAGE.length);
  }, 30_000);
});
