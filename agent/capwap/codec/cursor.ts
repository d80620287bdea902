import { allocateBytes } from "../../core/bytes.js";
import { CapwapDecodeError, CapwapEncodeError } from "./errors.js";

/**
 * Bounds-checked big-endian reader over one packet. Offsets are absolute in
 * the packet so errors point at the byte Wireshark shows. `end` narrows to the
 * element being read, so a sub-field can never read past its element.
 * Returned byte fields are views into the packet (no copy).
 */
export class Reader {
  pos: number;
  end: number;
  /** Context for error messages, set by the message and element loops. */
  messageType: number | undefined;
  elementType: number | undefined;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    end = buf.length,
  ) {
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string, at = this.pos, resultCode?: number): never {
    throw new CapwapDecodeError(reason, at, this.messageType, this.elementType, resultCode);
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) this.fail(`${what} needs ${n} byte(s), ${this.end - this.pos} left`);
  }

  u8(what = "u8"): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = "u16"): number {
    this.need(2, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const p = this.pos;
    this.pos = p + n;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + p, n);
  }

  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }

  /** Read exactly `len` bytes with `read`; anything left over is an error. */
  within<T>(len: number, what: string, read: (r: Reader) => T): T {
    this.need(len, what);
    const outer = this.end;
    const stop = this.pos + len;
    this.end = stop;
    const value = read(this);
    if (this.pos !== stop) this.fail(`${what} has ${stop - this.pos} unexpected trailing byte(s)`);
    this.end = outer;
    return value;
  }
}

/** Growable big-endian writer. Values out of range are caller bugs and throw. */
export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    if (!(v >= 0 && v <= 0xff) || v !== Math.floor(v)) throw new CapwapEncodeError(`value ${v} does not fit in 8 bits`);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    if (!(v >= 0 && v <= 0xffff) || v !== Math.floor(v)) throw new CapwapEncodeError(`value ${v} does not fit in 16 bits`);
    this.ensure(2);
    const b = this.buf;
    b[this.pos] = v >>> 8;
    b[this.pos + 1] = v;
    this.pos += 2;
  }

  u32(v: number): void {
    if (!(v >= 0 && v <= 0xffffffff) || v !== Math.floor(v)) throw new CapwapEncodeError(`value ${v} does not fit in 32 bits`);
    this.ensure(4);
    const b = this.buf;
    b[this.pos] = v >>> 24;
    b[this.pos + 1] = v >>> 16;
    b[this.pos + 2] = v >>> 8;
    b[this.pos + 3] = v;
    this.pos += 4;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Reserve a 16-bit length field; `patch16` fills it once the length is known. */
  reserve16(): number {
    this.ensure(2);
    const at = this.pos;
    this.pos += 2;
    return at;
  }

  patch16(at: number, v: number): void {
    if (v > 0xffff) throw new CapwapEncodeError(`length ${v} does not fit in 16 bits`);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  /** The bytes written so far (a view; the writer must not be reused after). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

let scratch: Writer | undefined;

/**
 * Encode into one shared scratch writer and return an exact-size copy: a
 * single allocation per message instead of repeated growth. Encoders are
 * synchronous and never nest, so sharing is safe.
 */
export function encodeWith(fill: (w: Writer) => void): Uint8Array {
  const w = (scratch ??= new Writer(64 * 1024));
  w.pos = 0;
  fill(w);
  const out = allocateBytes(w.pos);
  out.set(w.buf.subarray(0, w.pos));
  return out;
}
