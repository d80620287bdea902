import { describe, expect, it } from "vitest";
import { addDtlsPreamble, CAPWAP_DTLS_PREAMBLE, stripDtlsPreamble } from "../../agent/capwap/dtls/index.js";

describe("CAPWAP DTLS preamble (RFC 5415 §4.2)", () => {
  const record = Uint8Array.of(0x16, 0xfe, 0xfd, 0, 0, 1, 2, 3);

  it("adds 01 00 00 00 in front of a DTLS datagram", () => {
    expect([...CAPWAP_DTLS_PREAMBLE]).toEqual([1, 0, 0, 0]);
    expect([...addDtlsPreamble(record)]).toEqual([1, 0, 0, 0, ...record]);
  });

  it("strips it back, ignoring the reserved bits", () => {
    expect(stripDtlsPreamble(addDtlsPreamble(record))).toEqual(record);
    expect(stripDtlsPreamble(Uint8Array.of(1, 0xff, 0xff, 0xff, ...record))).toEqual(record);
  });

  it("refuses clear-text CAPWAP (type 0), other versions and runts", () => {
    expect(stripDtlsPreamble(Uint8Array.of(0x00, 0x10, 0x02, 0x00, ...record))).toBeUndefined();
    expect(stripDtlsPreamble(Uint8Array.of(0x11, 0, 0, 0, ...record))).toBeUndefined();
    expect(stripDtlsPreamble(Uint8Array.of(1, 0, 0, 0))).toBeUndefined();
    expect(stripDtlsPreamble(Uint8Array.of())).toBeUndefined();
  });
});
