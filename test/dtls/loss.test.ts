import { describe, expect, it } from "vitest";
import { seededRandom } from "../../agent/core/index.js";
import type { PkiKeyType } from "../../agent/pki/index.js";
import { clientContext, labPki, Link, serverContext, withTimeout, type Direction } from "./support.js";

/**
 * RFC 6347 §4.2.4: a lost handshake datagram is recovered by retransmitting
 * the whole flight when the timer expires. These tests drop exactly one
 * datagram (by its position in a loss-free handshake) and expect the
 * handshake to complete anyway. Timers start at 30 ms so the matrix runs at
 * loopback speed; the schedule is still OpenSSL's (doubling per retry).
 */
const RETRANSMIT_MS = 30;

function makeLink(type: PkiKeyType, linkMtu: number, drop: Link["drop"] = () => false, retransmitMs = RETRANSMIT_MS): Link {
  const pki = labPki(type);
  const link = new Link({ context: serverContext(pki), retransmitMs, linkMtu });
  link.drop = drop; // before connect(): the first ClientHello leaves inside it
  link.connect({ context: clientContext(pki), retransmitMs, linkMtu });
  return link;
}

async function echoOnce(link: Link): Promise<void> {
  const server = await link.handshake(5000);
  const back = new Promise<string>((resolve) => link.client.once("data", (d) => resolve(Buffer.from(d).toString())));
  server.once("data", (d) => server.send(d));
  link.client.send(Buffer.from("Echo Request"));
  expect(await withTimeout(back, 5000, "echo")).toBe("Echo Request");
}

describe("DTLS handshake under loss", () => {
  const cases: { type: PkiKeyType; linkMtu: number }[] = [
    { type: "ecdsa", linkMtu: 1500 },
    // A small MTU splits certificates across datagrams: fragment loss too.
    { type: "rsa", linkMtu: 576 },
  ];
  for (const { type, linkMtu } of cases) {
    it(`completes whichever single datagram is lost (${type}, link MTU ${linkMtu})`, async () => {
      // A slow timer here, so no spurious retransmission inflates the count.
      const clean = makeLink(type, linkMtu, undefined, 2000);
      await echoOnce(clean);
      // Handshake datagrams = everything before the echo's two records.
      const counts: Record<Direction, number> = { c2s: clean.sent.c2s.length - 1, s2c: clean.sent.s2c.length - 1 };
      expect(counts.c2s).toBeGreaterThanOrEqual(3);
      expect(counts.s2c).toBeGreaterThanOrEqual(3);

      const recovered: Record<Direction, number> = { c2s: 0, s2c: 0 };
      for (const dir of ["c2s", "s2c"] as const) {
        for (let position = 0; position < counts[dir]; position++) {
          const link = makeLink(type, linkMtu, (d, index) => d === dir && index === position);
          await echoOnce(link);
          // The dropped datagram really was a handshake datagram that had to be resent.
          expect(link.sent[dir].length, `${dir} ${position}: ${link.sent.c2s.length}/${link.sent.s2c.length}`).toBeGreaterThan(counts[dir] + 1);
          recovered[dir]++;
        }
      }
      console.log(
        `loss matrix ${type}/MTU ${linkMtu}: client->server ${recovered.c2s}/${counts.c2s} positions recovered, ` +
          `server->client ${recovered.s2c}/${counts.s2c}`,
      );
      expect(recovered).toEqual(counts);
    });
  }

  it("drops lost or corrupted records on an established session and delivers only authentic data", async () => {
    const link = makeLink("ecdsa", 1500);
    const server = await link.handshake(5000);
    const random = seededRandom(0x5246);
    let dropped = 0;
    let corrupted = 0;
    link.drop = (_dir, _index, datagram) => {
      const r = random.next();
      if (r < 0.01) {
        dropped++;
        return true;
      }
      if (r < 0.02) {
        // Flip one bit somewhere past the preamble; the record MAC must catch it.
        const at = 4 + random.int(datagram.length - 4);
        datagram[at]! ^= 1 << random.int(8);
        corrupted++;
      }
      return false;
    };
    const N = 1000;
    const message = (from: string, i: number) => `${from}#${i}:${"x".repeat(i % 200)}`;
    const got = { server: [] as string[], client: [] as string[] };
    const closes: unknown[] = [];
    server.on("data", (d) => got.server.push(Buffer.from(d).toString()));
    link.client.on("data", (d) => got.client.push(Buffer.from(d).toString()));
    server.on("close", (r) => closes.push(r));
    link.client.on("close", (r) => closes.push(r));
    for (let i = 0; i < N; i++) {
      link.client.send(Buffer.from(message("ap", i)));
      server.send(Buffer.from(message("ac", i)));
    }
    await new Promise((r) => setTimeout(r, 100));

    expect(closes).toEqual([]);
    expect(link.client.state).toBe("connected");
    expect(dropped + corrupted).toBeGreaterThan(10);
    for (const [side, from] of [["server", "ap"], ["client", "ac"]] as const) {
      const lines = got[side];
      expect(lines.length).toBeGreaterThan(N * 0.95);
      expect(lines.length).toBeLessThan(N);
      for (const line of lines) {
        const i = Number(/^\w+#(\d+):/.exec(line)?.[1]);
        expect(line).toBe(message(from, i));
      }
      expect(new Set(lines).size).toBe(lines.length); // no duplicates (replay window)
    }
  });
});
