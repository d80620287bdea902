import { CapwapEncodeError } from "./errors.js";
import { Reader, Writer } from "./cursor.js";

/**
 * Field codecs: each element is declared once as a shape of these, and the
 * same declaration decodes and encodes it (matter.js TlvObject style), so the
 * two directions cannot drift apart.
 */
export interface Codec<T> {
  read(r: Reader): T;
  write(w: Writer, v: T): void;
}

/** A codec for an object, able to fill a caller-made object (elements get `kind` first). */
export interface ObjectCodec<T extends object> extends Codec<T> {
  readInto(r: Reader, target: Record<string, unknown>): void;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;
export type Shape = Record<string, Codec<any>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The object a shape decodes to; fields whose codec may yield undefined are optional. */
export type ShapeValue<S extends Shape> = Simplify<{ [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

export const u8: Codec<number> = { read: (r) => r.u8(), write: (w, v) => w.u8(v) };
export const u16: Codec<number> = { read: (r) => r.u16(), write: (w, v) => w.u16(v) };
export const u32: Codec<number> = { read: (r) => r.u32(), write: (w, v) => w.u32(v) };

/** Fixed-length raw bytes. */
export function bytes(n: number): Codec<Uint8Array> {
  return {
    read: (r) => r.bytes(n, `${n}-byte field`),
    write(w, v) {
      if (!(v instanceof Uint8Array) || v.length !== n) throw new CapwapEncodeError(`expected ${n} bytes, got ${v?.length}`);
      w.bytes(v);
    },
  };
}

/** All remaining bytes of the enclosing element. */
export const restBytes: Codec<Uint8Array> = {
  read: (r) => r.rest(),
  write(w, v) {
    if (!(v instanceof Uint8Array)) throw new CapwapEncodeError("expected bytes");
    w.bytes(v);
  },
};

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * RFC 5415 strings are UTF-8; names are ASCII in practice, so that path
 * avoids TextDecoder. `b` is a view into `r.buf` (what Reader.bytes returns),
 * which is how an error finds its packet offset wherever `b` ends.
 */
export function decodeUtf8(r: Reader, b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) {
    if (b[i]! > 0x7f) {
      try {
        return utf8Decoder.decode(b);
      } catch {
        return r.fail("invalid UTF-8 in string", b.byteOffset - r.buf.byteOffset + invalidUtf8At(b, i));
      }
    }
  }
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/**
 * Where the first ill-formed sequence starts, scanning from `from`
 * (b.length if none). RFC 3629 §4: a lead byte fixes how many continuation
 * bytes follow and the range of the first (no overlong forms, no
 * surrogates, nothing above U+10FFFF); the others are 0x80..0xbf.
 */
function invalidUtf8At(b: Uint8Array, from: number): number {
  for (let i = from; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const lead = UTF8_LEADS.find(([first, last]) => c >= first && c <= last);
    if (!lead) return i;
    const [, , n, lo, hi] = lead;
    if (i + n >= b.length || b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

/** [lead from, lead to, continuation bytes, first continuation from, to] (RFC 3629 §4). */
const UTF8_LEADS: readonly (readonly [number, number, number, number, number])[] = [
  [0xc2, 0xdf, 1, 0x80, 0xbf],
  [0xe0, 0xe0, 2, 0xa0, 0xbf],
  [0xe1, 0xec, 2, 0x80, 0xbf],
  [0xed, 0xed, 2, 0x80, 0x9f],
  [0xee, 0xef, 2, 0x80, 0xbf],
  [0xf0, 0xf0, 3, 0x90, 0xbf],
  [0xf1, 0xf3, 3, 0x80, 0xbf],
  [0xf4, 0xf4, 3, 0x80, 0x8f],
];

export function writeUtf8(w: Writer, s: string): void {
  if (typeof s !== "string") throw new CapwapEncodeError(`expected a string, got ${typeof s}`);
  w.ensure(s.length * 3);
  const b = w.buf;
  let p = w.pos;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) {
      p = w.pos + utf8Encoder.encodeInto(s, b.subarray(w.pos)).written;
      break;
    }
    b[p++] = c;
  }
  w.pos = p;
}

/** UTF-8 string filling the rest of the element. */
export const utf8: Codec<string> = {
  read: (r) => decodeUtf8(r, r.rest()),
  write: writeUtf8,
};

/** String in a fixed field, NUL-padded (Cisco model/image strings). */
export function paddedString(n: number): Codec<string> {
  return {
    read(r) {
      const raw = r.bytes(n, `${n}-byte string`);
      const nul = raw.indexOf(0);
      return decodeUtf8(r, nul < 0 ? raw : raw.subarray(0, nul));
    },
    write(w, v) {
      const start = w.pos;
      writeUtf8(w, v);
      if (w.pos - start > n) throw new CapwapEncodeError(`string "${v}" longer than its ${n}-byte field`);
      w.zeros(n - (w.pos - start));
    },
  };
}

export const ipv4: Codec<string> = {
  read(r) {
    r.need(4, "IPv4 address");
    const b = r.buf;
    const p = r.pos;
    r.pos += 4;
    return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  },
  write(w, v) {
    const parts = typeof v === "string" ? v.split(".") : [];
    if (parts.length !== 4) throw new CapwapEncodeError(`"${v}" is not an IPv4 address`);
    for (const part of parts) {
      const n = Number(part);
      if (part === "" || !Number.isInteger(n) || n < 0 || n > 255) throw new CapwapEncodeError(`"${v}" is not an IPv4 address`);
      w.u8(n);
    }
  },
};

/** IPv6 in RFC 5952 text form (lower case, longest zero run compressed). */
export const ipv6: Codec<string> = {
  read(r) {
    const groups: number[] = [];
    for (let i = 0; i < 8; i++) groups.push(r.u16("IPv6 address"));
    return formatIpv6(groups);
  },
  write(w, v) {
    for (const g of parseIpv6(v)) w.u16(g);
  },
};

function formatIpv6(groups: number[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

function parseIpv6(v: string): number[] {
  const bad = () => new CapwapEncodeError(`"${v}" is not an IPv6 address`);
  if (typeof v !== "string") throw bad();
  const halves = v.split("::");
  if (halves.length > 2) throw bad();
  const part = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some(Number.isNaN) || (halves.length === 2 && fill < 1)) throw bad();
  return groups;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(b: Uint8Array, sep = ""): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i && sep ? sep : "") + HEX[b[i]!];
  return s;
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s:.-]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new CapwapEncodeError(`"${s}" is not hex`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** MAC address (EUI-48 or EUI-64) as "aa:bb:cc:dd:ee:ff", filling the rest of its range. */
export const macAddress: Codec<string> = {
  read(r) {
    if (r.remaining !== 6 && r.remaining !== 8) r.fail(`MAC address of ${r.remaining} bytes is neither EUI-48 nor EUI-64`);
    return toHex(r.rest(), ":");
  },
  write(w, v) {
    const b = fromHex(v);
    if (b.length !== 6 && b.length !== 8) throw new CapwapEncodeError(`"${v}" is not an EUI-48/EUI-64 address`);
    w.bytes(b);
  },
};

/** A 6-byte MAC address. */
export const mac48: Codec<string> = {
  read: (r) => toHex(r.bytes(6, "MAC address"), ":"),
  write(w, v) {
    const b = fromHex(v);
    if (b.length !== 6) throw new CapwapEncodeError(`"${v}" is not a 6-byte MAC address`);
    w.bytes(b);
  },
};

/** A length field (u8 or u16) followed by exactly that many bytes holding `inner`. */
export function prefixed<T>(length: Codec<number>, inner: Codec<T>, what = "length-prefixed field"): Codec<T> {
  const wide = length === u16;
  return {
    read(r) {
      const len = length.read(r);
      return r.within(len, what, (sub) => inner.read(sub));
    },
    write(w, v) {
      const at = w.pos;
      if (wide) w.reserve16();
      else w.u8(0);
      const start = w.pos;
      inner.write(w, v);
      const len = w.pos - start;
      if (wide) w.patch16(at, len);
      else if (len > 0xff) throw new CapwapEncodeError(`${what} of ${len} bytes exceeds 255`);
      else w.buf[at] = len;
    },
  };
}

/** Items repeated to the end of the enclosing range. */
export function list<T>(item: Codec<T>): Codec<T[]> {
  return {
    read(r) {
      const out: T[] = [];
      while (r.pos < r.end) out.push(item.read(r));
      return out;
    },
    write(w, v) {
      if (!Array.isArray(v)) throw new CapwapEncodeError("expected a list");
      for (const x of v) item.write(w, x);
    },
  };
}

/** A count field followed by that many items. Counts never make us allocate ahead of the bytes. */
export function counted<T>(count: Codec<number>, item: Codec<T>): Codec<T[]> {
  return {
    read(r) {
      const n = count.read(r);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r));
      return out;
    },
    write(w, v) {
      if (!Array.isArray(v)) throw new CapwapEncodeError("expected a list");
      count.write(w, v.length);
      for (const x of v) item.write(w, x);
    },
  };
}

/** Fields in wire order; object key order is the field order. */
export function struct<S extends Shape>(shape: S): ObjectCodec<ShapeValue<S>> {
  const keys = Object.keys(shape);
  const codecs = keys.map((k) => shape[k]!);
  const { readInto, write } = compileStruct(keys, codecs);
  return {
    readInto,
    read(r) {
      const o: Record<string, unknown> = {};
      readInto(r, o);
      return o as ShapeValue<S>;
    },
    write(w, v) {
      if (v === null || typeof v !== "object") throw new CapwapEncodeError("expected an object");
      write(w, v as Record<string, unknown>);
    },
  };
}

const PRIMITIVE = new Map<Codec<unknown>, string>([
  [u8, "u8"],
  [u16, "u16"],
  [u32, "u32"],
]);

/**
 * Straight-line reader and writer for one struct, generated once per element
 * layout. Every message element goes through these, and fixed property names
 * plus direct `r.u16()` calls let V8 keep them monomorphic — several times
 * faster than a generic loop over the shape. The generated code only ever
 * contains the shape's own keys (JSON-quoted) and calls into `codecs`.
 */
function compileStruct(keys: string[], codecs: Codec<unknown>[]) {
  const field = (k: string) => `[${JSON.stringify(k)}]`;
  const reads = keys.map((k, i) => {
    const prim = PRIMITIVE.get(codecs[i]!);
    return `o${field(k)} = ${prim ? `r.${prim}()` : `c[${i}].read(r)`};`;
  });
  const writes = keys.map((k, i) => {
    const prim = PRIMITIVE.get(codecs[i]!);
    return `i = ${i}; ${prim ? `w.${prim}(v${field(k)})` : `c[${i}].write(w, v${field(k)})`};`;
  });
  const readInto = new Function("c", `return function readStruct(r, o) { ${reads.join(" ")} };`)(codecs) as (r: Reader, o: Record<string, unknown>) => void;
  const write = new Function(
    "c",
    "keys",
    "EncodeError",
    `return function writeStruct(w, v) {
      let i = 0;
      try { ${writes.join(" ")} }
      catch (err) { if (err instanceof EncodeError) throw new EncodeError(keys[i] + ": " + err.message); throw err; }
    };`,
  )(codecs, keys, CapwapEncodeError) as (w: Writer, v: Record<string, unknown>) => void;
  return { readInto, write };
}

/** Field present only when bytes remain (trailing optional fields). */
export function optional<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    read: (r) => (r.pos < r.end ? inner.read(r) : undefined),
    write(w, v) {
      if (v !== undefined) inner.write(w, v);
    },
  };
}
