/**
 * RFC 5415 §4.5 control messages: the control header and the message
 * element list (§4.6), over an ElementTable chosen by the vendor profile.
 *
 *  |                       Message Type                            |
 *  |    Seq Num    |        Msg Element Length     |     Flags     |
 *  | Msg Element [0..N] ...
 *
 * Msg Element Length counts the bytes after Seq Num: itself, Flags and the
 * elements, i.e. elements + 3.
 */
import { CapwapDecodeError, CapwapEncodeError } from "./errors.js";
import { encodeWith, Reader, Writer } from "./cursor.js";
import type { ElementSpec, ElementTable, UnknownElement, VendorSpecificElement } from "./element.js";
import { elementName } from "./names.js";
import { type CapwapHeader, controlHeader, readHeader, writeHeader } from "./header.js";

/** Any decoded element: a table's typed element, or an opaque unknown one. */
export interface BaseElement {
  kind: string;
}

export interface ControlMessage<E extends BaseElement = BaseElement> {
  type: number;
  /** 8-bit sequence number; a response carries its request's. */
  seq: number;
  /** Control header flags; RFC 5415 says 0, kept for exact re-encoding. */
  flags?: number;
  elements: E[];
}

const VENDOR_SPECIFIC = 37;

export function writeElements(w: Writer, elements: readonly BaseElement[], table: ElementTable): void {
  for (const el of elements) writeElement(w, el, table);
}

function writeElement(w: Writer, el: BaseElement, table: ElementTable): void {
  if (el.kind === "Unknown") {
    const u = el as unknown as UnknownElement;
    w.u16(u.type);
    w.u16(u.value.length);
    w.bytes(u.value);
    return;
  }
  if (el.kind === "VendorSpecific") {
    const v = el as unknown as VendorSpecificElement;
    w.u16(VENDOR_SPECIFIC);
    w.u16(6 + v.data.length);
    w.u32(v.vendorId);
    w.u16(v.elementId);
    w.bytes(v.data);
    return;
  }
  const spec = table.byKind(el.kind);
  if (!spec) throw new CapwapEncodeError(`element kind "${el.kind}" is not known to this profile`);
  w.u16(spec.type);
  const lengthAt = w.reserve16();
  const start = w.pos;
  if (spec.vendorId !== undefined) {
    w.u32(spec.vendorId);
    w.u16(spec.vendorElementId!);
  }
  try {
    spec.codec.write(w, el);
  } catch (err) {
    if (err instanceof CapwapEncodeError) throw new CapwapEncodeError(`${spec.name}: ${err.message}`);
    throw err;
  }
  w.patch16(lengthAt, w.pos - start);
}

/**
 * Read elements until `r.end`. Unknown types are kept as bytes (never
 * dropped), and so is an element whose body does not fit its layout (see
 * readElementValue); only the TLV framing (a truncated type or length, a
 * length past the message's end) fails the message.
 */
export function readElements<E extends BaseElement>(r: Reader, table: ElementTable, out: E[] = []): E[] {
  while (r.pos < r.end) {
    const start = r.pos;
    r.elementType = undefined;
    const type = r.u16("element type");
    const length = r.u16("element length");
    r.elementType = type;
    if (r.end - r.pos < length) r.fail(`element length ${length} exceeds the ${r.end - r.pos} bytes left`, start + 2);
    out.push(readElementValue(r, table, type, length) as E);
  }
  r.elementType = undefined;
  return out;
}

/**
 * One element's value, `length` bytes from `r.pos`. A body that does not fit
 * its layout is kept as bytes with a note saying why, the way Wireshark
 * shows such an element undecoded and carries on: real Cisco firmware varies
 * vendor element layouts across releases, and one odd element must not cost
 * the whole message. Re-encoding the raw element gives its bytes back.
 */
function readElementValue(r: Reader, table: ElementTable, type: number, length: number): BaseElement {
  // Narrow the reader to this element (no closure: this runs for every element).
  const outer = r.end;
  const start = r.pos;
  const stop = start + length;
  r.end = stop;
  let result: BaseElement;
  try {
    result = decodeElementBody(r, table, type, stop);
  } catch (err) {
    if (!(err instanceof CapwapDecodeError)) throw err;
    result = keptRaw(r.buf.subarray(start, stop), table, type, err);
  }
  r.pos = stop;
  r.end = outer;
  return result;
}

function decodeElementBody(r: Reader, table: ElementTable, type: number, stop: number): BaseElement {
  if (type === VENDOR_SPECIFIC) {
    const vendorId = r.u32("vendor identifier");
    const elementId = r.u16("vendor element id");
    const spec = table.byVendor(vendorId, elementId);
    if (!spec) {
      const opaque: VendorSpecificElement = { kind: "VendorSpecific", vendorId, elementId, data: r.rest() };
      return opaque;
    }
    return decodeWithSpec(r, spec, stop);
  }
  const spec = table.byType(type);
  if (!spec) {
    const unknown: UnknownElement = { kind: "Unknown", type, value: r.rest() };
    return unknown;
  }
  return decodeWithSpec(r, spec, stop);
}

function decodeWithSpec(r: Reader, spec: ElementSpec, stop: number): BaseElement {
  const o: Record<string, unknown> = { kind: spec.kind };
  spec.codec.readInto(r, o);
  if (r.pos !== stop) r.fail(`${stop - r.pos} unexpected trailing byte(s)`);
  return o as unknown as BaseElement;
}

/** A Vendor Specific Payload's own header: vendor id (32 bits) and element id (16). */
const VENDOR_HEADER = 6;

/**
 * The bytes of an element whose body misfits, as the raw element its type
 * calls for, noting which layout failed, why and where (absolute offset).
 */
function keptRaw(value: Uint8Array, table: ElementTable, type: number, err: CapwapDecodeError): UnknownElement | VendorSpecificElement {
  const why = `${err.reason} at byte ${err.offset}`;
  if (type === VENDOR_SPECIFIC && value.length >= VENDOR_HEADER) {
    const header = new Reader(value);
    const vendorId = header.u32();
    const elementId = header.u16();
    const layout = table.byVendor(vendorId, elementId)?.name ?? elementName(type);
    return { kind: "VendorSpecific", vendorId, elementId, data: header.rest(), note: `${layout}: ${why}` };
  }
  return { kind: "Unknown", type, value, note: `${table.byType(type)?.name ?? elementName(type)}: ${why}` };
}

/** Control header + elements: the payload of a (possibly fragmented) control packet. */
export function writeControlMessage(w: Writer, msg: ControlMessage, table: ElementTable): void {
  if (!(msg.type >= 0 && msg.type <= 0xffffffff)) throw new CapwapEncodeError(`message type ${msg.type} out of range`);
  w.u32(msg.type);
  w.u8(msg.seq);
  const lengthAt = w.reserve16();
  const start = w.pos;
  w.u8(msg.flags ?? 0);
  writeElements(w, msg.elements, table);
  w.patch16(lengthAt, w.pos - start + 2);
}

export function readControlMessage<E extends BaseElement>(r: Reader, table: ElementTable): ControlMessage<E> {
  const start = r.pos;
  r.messageType = undefined;
  const type = r.u32("message type");
  r.messageType = type;
  const seq = r.u8("sequence number");
  const length = r.u16("message element length");
  const available = r.end - r.pos + 2;
  if (length < 3) r.fail(`Msg Element Length ${length} is below its minimum of 3`, start + 5);
  if (length !== available) r.fail(`Msg Element Length ${length} does not match the ${available} bytes present`, start + 5);
  const flags = r.u8("flags");
  const elements = readElements<E>(r, table);
  return flags === 0 ? { type, seq, elements } : { type, seq, flags, elements };
}

/** Encode a complete unfragmented control packet (header + message). */
export function encodeControlPacket(msg: ControlMessage, table: ElementTable, header: CapwapHeader = controlHeader()): Uint8Array {
  return encodeWith((w) => {
    writeHeader(w, header);
    writeControlMessage(w, msg, table);
  });
}

export function encodeControlMessage(msg: ControlMessage, table: ElementTable): Uint8Array {
  return encodeWith((w) => writeControlMessage(w, msg, table));
}

/** A CAPWAP packet split into its header and the bytes after it. */
export interface CapwapPacket {
  header: CapwapHeader;
  payload: Uint8Array;
  /** Offset of `payload` within the original datagram (for error offsets). */
  payloadOffset: number;
}

export function decodePacket(datagram: Uint8Array): CapwapPacket {
  const r = new Reader(datagram);
  const header = readHeader(r);
  const payloadOffset = r.pos;
  return { header, payload: r.rest(), payloadOffset };
}

/**
 * Decode a control message payload: a reassembled message, or one taken
 * apart by hand; a packet off the wire goes through decodeControlPacket.
 * `baseOffset` makes error offsets absolute in the datagram.
 */
export function decodeControlMessage<E extends BaseElement>(payload: Uint8Array, table: ElementTable, baseOffset = 0): ControlMessage<E> {
  // A Reader over the whole underlying datagram keeps offsets absolute without copying.
  const r = baseOffset === 0 ? new Reader(payload) : new Reader(new Uint8Array(payload.buffer, payload.byteOffset - baseOffset, payload.length + baseOffset), baseOffset);
  return readControlMessage<E>(r, table);
}

/** A control packet off the wire: its header and, unless it is a fragment, its message. */
export interface ControlPacket<E extends BaseElement = BaseElement> {
  header: CapwapHeader;
  /**
   * Undefined for a fragment (header.f): reassemble the bytes from
   * `payloadOffset` on, then decodeControlMessage() the whole.
   */
  message: ControlMessage<E> | undefined;
  /** Where the control header (or the fragment's bytes) starts in the datagram. */
  payloadOffset: number;
}

/**
 * RFC 5415 §4.3 + §4.5: the CAPWAP header, then the control message, with
 * one Reader over the datagram (error offsets count from its first byte).
 */
export function decodeControlPacket<E extends BaseElement>(datagram: Uint8Array, table: ElementTable): ControlPacket<E> {
  const r = new Reader(datagram);
  const header = readHeader(r);
  const payloadOffset = r.pos;
  return { header, message: header.f ? undefined : readControlMessage<E>(r, table), payloadOffset };
}
