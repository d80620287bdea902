import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { DtlsSession } from "../../agent/capwap/dtls/index.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ManualClock } from "../../agent/core/index.js";
import { clientContext, labPki, Link, serverContext } from "./support.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    // N-API finalizers may run after the collection, from the event loop.
    await new Promise((r) => setImmediate(r));
  }
}

describe("native memory", () => {
  it("frees every SSL object on close across 1250 full handshakes", async () => {
    const pki = labPki("ecdsa");
    const client = clientContext(pki);
    const link = new Link({ context: serverContext(pki) });
    const baseline = addon.liveSessions();
    const rssAt: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 250; i++) {
        link.connect({ context: client });
        const server = await link.handshake();
        link.client.close(); // close_notify: the server side closes too
        await new Promise((r) => setImmediate(r));
        expect(server.state).toBe("closed");
      }
      link.forget();
      await collect();
      // Outside the V8 heap, whose own resizing is not ours to judge here.
      const m = process.memoryUsage();
      rssAt.push(m.rss - m.heapTotal);
    }
    expect(link.server.size).toBe(0);
    expect(addon.liveSessions()).toBe(baseline);
    // Once two rounds have warmed the allocator and the JIT, 750 more
    // handshakes must not grow the process: a leaked pair of SSL objects
    // costs ~100 KB (+91 MB here when SSL_free is removed); 6 MB is noise.
    expect(rssAt[4]! - rssAt[1]!).toBeLessThan(6 * 1024 * 1024);
  });

  it("frees SSL objects nobody closed once they are garbage collected", async () => {
    const pki = labPki("ecdsa");
    const context = clientContext(pki);
    const baseline = addon.liveSessions();
    (() => {
      for (let i = 0; i < 1000; i++) new addon.Session(context.native, { mtu: 1400, retransmitMs: 1000 }).start();
    })();
    expect(addon.liveSessions()).toBe(baseline + 1000);
    for (let tries = 0; tries < 20 && addon.liveSessions() > baseline; tries++) await collect();
    expect(addon.liveSessions()).toBe(baseline);
  });

  it("releases a session's SSL object when its handshake deadline passes", () => {
    const clock = new ManualClock();
    const baseline = addon.liveSessions();
    const s = DtlsSession.connect({ context: clientContext(labPki("ecdsa")), sendDatagram: () => {}, clock });
    expect(addon.liveSessions()).toBe(baseline + 1);
    clock.advance(60_000);
    expect(s.state).toBe("closed");
    expect(addon.liveSessions()).toBe(baseline);
  });
});
