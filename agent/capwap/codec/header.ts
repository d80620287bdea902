/**
 * RFC 5415 §4.1–4.3: CAPWAP preamble and header.
 *
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |CAPWAP Preamble|  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 *  |          Fragment ID          |     Frag Offset         |Rsvd |
 *  |                 (optional) Radio MAC Address                  |
 *  |            (optional) Wireless Specific Information           |
 */
import { CapwapEncodeError } from "./errors.js";
import { Reader, Writer } from "./cursor.js";

/** RFC 5415 §3.1: the AC's control and data ports (the AP sends to them). */
export const CAPWAP_CONTROL_PORT = 5246;
export const CAPWAP_DATA_PORT = 5247;
export const CAPWAP_PORTS = [CAPWAP_CONTROL_PORT, CAPWAP_DATA_PORT] as const;

export interface CapwapHeader {
  /** Radio ID. */
  rid: number;
  /** Wireless Binding ID (1 = IEEE 802.11). */
  wbid: number;
  /** T: payload is in the binding's native frame format. */
  t: boolean;
  /** F: this packet is a fragment. */
  f: boolean;
  /** L: last fragment. */
  l: boolean;
  /** K: data channel keep-alive. */
  k: boolean;
  /** The three reserved flag bits, kept so captured packets re-encode exactly. */
  flags: number;
  fragmentId: number;
  /** In 8-byte units, as on the wire. */
  fragmentOffset: number;
  /** Present when the M bit is set. */
  radioMac?: Uint8Array;
  /** Present when the W bit is set. */
  wirelessInfo?: Uint8Array;
}

export const WBID_IEEE80211 = 1;
/** §4.1: preamble type 1 means a DTLS record follows the 4-byte DTLS header. */
export const DTLS_PREAMBLE_BYTE = 0x01;

export function controlHeader(overrides: Partial<CapwapHeader> = {}): CapwapHeader {
  return { rid: 0, wbid: WBID_IEEE80211, t: false, f: false, l: false, k: false, flags: 0, fragmentId: 0, fragmentOffset: 0, ...overrides };
}

/** Bytes an optional length-prefixed header field takes, padded to 4 (§4.3). */
function optionalFieldSize(field: Uint8Array | undefined): number {
  return field ? (1 + field.length + 3) & ~3 : 0;
}

export function headerLength(h: CapwapHeader): number {
  return 8 + optionalFieldSize(h.radioMac) + optionalFieldSize(h.wirelessInfo);
}

export function writeHeader(w: Writer, h: CapwapHeader): void {
  const len = headerLength(h);
  if (len > 31 * 4) throw new CapwapEncodeError(`header of ${len} bytes exceeds HLEN's 124-byte maximum`);
  if (h.rid > 31 || h.wbid > 31 || h.rid < 0 || h.wbid < 0) throw new CapwapEncodeError("RID and WBID are 5-bit fields");
  if (h.fragmentOffset > 0x1fff || h.fragmentId > 0xffff) throw new CapwapEncodeError("fragment id/offset out of range");
  w.u8(0); // preamble: version 0, type 0 (CAPWAP header follows)
  const word =
    ((len / 4) << 19) |
    (h.rid << 14) |
    (h.wbid << 9) |
    (h.t ? 0x100 : 0) |
    (h.f ? 0x80 : 0) |
    (h.l ? 0x40 : 0) |
    (h.wirelessInfo ? 0x20 : 0) |
    (h.radioMac ? 0x10 : 0) |
    (h.k ? 0x08 : 0) |
    (h.flags & 0x07);
  w.u8((word >>> 16) & 0xff);
  w.u16(word & 0xffff);
  w.u16(h.fragmentId);
  w.u16(h.fragmentOffset << 3);
  for (const field of [h.radioMac, h.wirelessInfo]) {
    if (!field) continue;
    if (field.length > 255) throw new CapwapEncodeError("optional header field longer than 255 bytes");
    const start = w.pos;
    w.u8(field.length);
    w.bytes(field);
    w.zeros(optionalFieldSize(field) - (w.pos - start));
  }
}

/** Decode the header; returns it and leaves `r.pos` where the payload starts (HLEN, padding skipped). */
export function readHeader(r: Reader): CapwapHeader {
  const preamble = r.u8("preamble");
  if (preamble >> 4 !== 0) r.fail(`unsupported CAPWAP version ${preamble >> 4}`, r.pos - 1);
  if ((preamble & 0x0f) === DTLS_PREAMBLE_BYTE) r.fail("packet is DTLS-encrypted (preamble type 1)", r.pos - 1);
  if ((preamble & 0x0f) !== 0) r.fail(`unknown preamble type ${preamble & 0x0f}`, r.pos - 1);
  const start = r.pos - 1;
  const word = (r.u8("header") << 16) | r.u16("header");
  const hlenBytes = ((word >>> 19) & 0x1f) * 4;
  if (hlenBytes < 8) r.fail(`HLEN ${hlenBytes / 4} is shorter than the fixed header`, start);
  if (r.end - start < hlenBytes) r.fail(`HLEN says ${hlenBytes} header bytes, packet has ${r.end - start}`, start);
  const fragmentId = r.u16("fragment id");
  const offsetWord = r.u16("fragment offset");
  const h: CapwapHeader = {
    rid: (word >>> 14) & 0x1f,
    wbid: (word >>> 9) & 0x1f,
    t: (word & 0x100) !== 0,
    f: (word & 0x80) !== 0,
    l: (word & 0x40) !== 0,
    k: (word & 0x08) !== 0,
    flags: word & 0x07,
    fragmentId,
    fragmentOffset: offsetWord >>> 3,
  };
  const headerEnd = start + hlenBytes;
  const outer = r.end;
  r.end = headerEnd;
  if (word & 0x10) h.radioMac = readOptionalField(r, "Radio MAC Address");
  if (word & 0x20) h.wirelessInfo = readOptionalField(r, "Wireless Specific Information");
  r.end = outer;
  // HLEN may cover padding we did not need; the payload starts where HLEN says.
  r.pos = headerEnd;
  return h;
}

function readOptionalField(r: Reader, what: string): Uint8Array {
  const start = r.pos;
  const len = r.u8(what);
  const value = r.bytes(len, what);
  r.pos = Math.min(r.end, start + ((1 + len + 3) & ~3));
  return value;
}
