import { describe, expect, it } from "vitest";
import { addDtlsPreamble, stripDtlsPreamble, type DtlsSession } from "../../agent/capwap/dtls/index.js";
import { seededRandom } from "../../agent/core/index.js";
import { CLIENT_ADDR, clientContext, labPki, Link, nextData, serverContext, type Direction } from "../dtls/support.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

/**
 * Seeded mutations of real DTLS datagrams (the handshake's and application
 * data's, records coalesced as OpenSSL sent them) fed into an established
 * session, client and server side. RFC 6347 §4.1.2.7: whatever cannot be
 * authenticated is discarded silently, so every case must leave both ends
 * connected, with no alert sent, and the session must still carry data.
 */
const RECORD_HEADER = 13;
const ALERT = 21;

/** Offsets of the 16-bit length field of every record in a DTLS datagram. */
function recordLengthFields(dtls: Uint8Array): number[] {
  const fields: number[] = [];
  for (let off = 0; off + RECORD_HEADER <= dtls.length; off += RECORD_HEADER + ((dtls[off + 11]! << 8) | dtls[off + 12]!)) fields.push(off + 11);
  return fields;
}

/*
 * An alert from an established session is protected (epoch 1 on). Epoch 0
 * alerts come from handshakes the mutations start: a replayed ClientHello
 * whose cookie is still valid opens a new handshake beside the session
 * (RFC 6347 §4.2.8), which the next garbage may fail; the session stays.
 */
function carriesProtectedAlert(datagram: Uint8Array): boolean {
  const dtls = stripDtlsPreamble(datagram)!;
  return recordLengthFields(dtls).some((lengthAt) => {
    const record = lengthAt - 11;
    return dtls[record] === ALERT && (dtls[record + 3] !== 0 || dtls[record + 4] !== 0);
  });
}

async function roundTrip(link: Link, server: DtlsSession, text: string): Promise<void> {
  const atServer = nextData(server);
  link.client.send(Buffer.from(text));
  expect(await atServer).toBe(text);
  const atClient = nextData(link.client);
  server.send(Buffer.from(text));
  expect(await atClient).toBe(text);
}

describe("fuzz: mutated DTLS records into an established session", () => {
  const cases = fuzzCases(10_000);
  const SUITES = [
    { cipher: "ECDHE-ECDSA-AES128-GCM-SHA256", pki: "ecdsa" },
    { cipher: "AES128-SHA", pki: "rsa" },
  ] as const;

  for (const suite of SUITES) {
    it(`${suite.cipher}: ${cases} mutated datagrams, both ends stay connected, send no alert, and still carry data`, async () => {
      const pki = labPki(suite.pki);
      const link = new Link({ context: serverContext(pki, { ciphers: suite.cipher }) });
      try {
        link.connect({ context: clientContext(pki, { ciphers: suite.cipher }) });
        const server = await link.handshake();
        for (const size of [1, 16, 100, 1000]) await roundTrip(link, server, "x".repeat(size));
        const corpus = (["c2s", "s2c"] as const).flatMap((dir) =>
          link.sent[dir].map((datagram) => {
            const dtls = stripDtlsPreamble(datagram)!;
            return { dir, dtls, lengths: recordLengthFields(dtls) };
          }),
        );
        const random = seededRandom(0xd7_15);
        const sentBy = (dir: Direction) => link.sent[dir].length;
        for (let i = 0; i < cases; i++) {
          const { dir, dtls, lengths } = corpus[random.int(corpus.length)]!;
          const datagram = addDtlsPreamble(mutate(dtls, lengths, random));
          const before = { c2s: sentBy("c2s"), s2c: sentBy("s2c") };
          if (dir === "s2c") link.client.receive(datagram);
          else link.server.receive(datagram, CLIENT_ADDR.address, CLIENT_ADDR.port);
          if (link.client.state !== "connected" || server.state !== "connected") {
            expect.fail(`case ${i} (${dir}) ended the session: ${Buffer.from(datagram).toString("hex")}`);
          }
          const replies = [...link.sent.c2s.slice(before.c2s), ...link.sent.s2c.slice(before.s2c)];
          if (replies.some(carriesProtectedAlert)) expect.fail(`case ${i} (${dir}) made an alert go out: ${Buffer.from(datagram).toString("hex")}`);
          if (i % 1000 === 999) await roundTrip(link, server, `after case ${i}`);
        }
        await roundTrip(link, server, "after every case");
        // The mutations reach the record layer: a good share of them are authenticated records broken.
        expect(link.client.discardedRecords + server.discardedRecords).toBeGreaterThan(cases * 0.2);
      } finally {
        link.server.close();
        link.client.close();
      }
    }, fuzzTimeout(cases, 0.2));
  }
});
