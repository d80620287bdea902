/**
 * RFC 5415 §4.4 data channel (UDP 5247). A packet with K set is a Data
 * Channel Keep-Alive whose payload is a Msg Element Length and elements —
 * the Session ID. §4.4.1: the length counts "the number of bytes following
 * the CAPWAP Header", so it includes its own two bytes (tshark checks this).
 * Anything else is a tunnelled 802.3 or native (T) frame.
 */
import { encodeWith, Reader } from "./cursor.js";
import type { ElementTable } from "./element.js";
import { type BaseElement, readElements, writeElements } from "./control.js";
import { type CapwapHeader, controlHeader, readHeader, writeHeader } from "./header.js";

export type DataPacket<E extends BaseElement = BaseElement> =
  | { kind: "keepalive"; header: CapwapHeader; elements: E[] }
  | { kind: "frame"; header: CapwapHeader; frame: Uint8Array };

export function encodeDataKeepAlive<E extends BaseElement>(elements: readonly E[], table: ElementTable, header: Partial<CapwapHeader> = {}): Uint8Array {
  return encodeWith((w) => {
    writeHeader(w, controlHeader({ ...header, k: true }));
    const lengthAt = w.reserve16();
    const start = w.pos;
    writeElements(w, elements, table);
    w.patch16(lengthAt, w.pos - start + 2);
  });
}

export function decodeDataPacket<E extends BaseElement>(datagram: Uint8Array, table: ElementTable): DataPacket<E> {
  const r = new Reader(datagram);
  const header = readHeader(r);
  if (!header.k) return { kind: "frame", header, frame: r.rest() };
  const lengthAt = r.pos;
  const length = r.u16("keep-alive element length");
  if (length !== r.remaining + 2) r.fail(`keep-alive Msg Element Length ${length} does not match the ${r.remaining + 2} bytes present`, lengthAt);
  return { kind: "keepalive", header, elements: readElements<E>(r, table) };
}
