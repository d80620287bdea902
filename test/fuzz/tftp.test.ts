import { describe, expect, it } from "vitest";
import { seededRandom } from "../../agent/core/index.js";
import { decodePacket, encodePacket, Opcode, type TftpPacket, TftpDecodeError } from "../../agent/transfer/tftp/packet.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

/** One valid packet of each kind; the mutations start from these. */
const SEEDS: TftpPacket[] = [
  { opcode: Opcode.ReadRequest, filename: "ap1g8", mode: "octet", options: new Map([["blksize", "1468"], ["tsize", "0"], ["windowsize", "16"], ["timeout", "1"]]) },
  { opcode: Opcode.WriteRequest, filename: "../etc/passwd", mode: "netascii", options: new Map() },
  { opcode: Opcode.Data, block: 65535, data: seededRandom(1).bytes(40) },
  { opcode: Opcode.Ack, block: 1 },
  { opcode: Opcode.Error, code: 8, message: "option refused" },
  { opcode: Opcode.OptionAck, options: new Map([["blksize", "512"], ["tsize", "70512640"]]) },
];

describe("fuzz: TFTP codec", () => {
  const cases = fuzzCases(20_000);
  it(
    `${cases} mutated packets decode or fail with TftpDecodeError, and what decodes re-encodes to itself`,
    () => {
      const random = seededRandom(0x7f7f);
      const outcome = { decoded: 0, rejected: 0 };
      for (let i = 0; i < cases; i++) {
        // Block numbers and error codes are the only 16-bit fields after the opcode.
        const bytes = mutate(encodePacket(SEEDS[i % SEEDS.length]!), [0, 2], random);
        let packet: TftpPacket;
        try {
          packet = decodePacket(bytes);
        } catch (err) {
          if (!(err instanceof TftpDecodeError)) throw err;
          outcome.rejected++;
          continue;
        }
        outcome.decoded++;
        // ERROR forgives a missing NUL and padding, and names/modes are lower-cased: the re-encoding is a fixed point.
        const again = encodePacket(packet);
        expect(encodePacket(decodePacket(again))).toEqual(again);
      }
      console.log(`tftp fuzz: ${outcome.decoded} decoded, ${outcome.rejected} rejected`);
      expect(outcome.decoded).toBeGreaterThan(cases / 10);
      expect(outcome.rejected).toBeGreaterThan(cases / 10);
    },
    fuzzTimeout(cases, 0.05),
  );

  it("random bytes never escape as anything but TftpDecodeError", () => {
    const random = seededRandom(99);
    for (let i = 0; i < fuzzCases(20_000); i++) {
      const bytes = random.bytes(random.int(40));
      if (random.next() < 0.5 && bytes.length > 1) bytes[0] = 0;
      try {
        decodePacket(bytes);
      } catch (err) {
        if (!(err instanceof TftpDecodeError)) throw err;
      }
    }
  });
});
