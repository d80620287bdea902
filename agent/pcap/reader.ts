/**
 * Streaming reader for classic pcap and pcapng captures
 * (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * draft-ietf-opsawg-pcapng). It pulls the source chunk by chunk and holds at
 * most one record, so memory stays flat however large the file. A length
 * field is checked against our limit and against its enclosing block before
 * anything is read for it, and bytes are only gathered as they arrive: a
 * record claiming 4 GB costs nothing but the error.
 */
import { createReadStream } from "node:fs";
import { PeerError } from "../core/index.js";

/** The capture file itself is broken. `offset` is the file byte where reading went wrong. */
export class PcapFormatError extends PeerError {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super("PCAP_FORMAT", `capture file: ${reason} at byte ${offset}`);
  }
}

export interface CaptureRecord {
  /** 1-based position in the file, as Wireshark numbers frames. */
  frame: number;
  /** Nanoseconds since the Unix epoch; undefined for a pcapng Simple Packet Block, which has no time. */
  timeNs: bigint | undefined;
  /** tcpdump LINKTYPE_* of the frame. */
  linkType: number;
  /** The captured bytes, possibly fewer than `originalLength` (snap length). */
  data: Uint8Array;
  originalLength: number;
}

/**
 * Largest record accepted: Wireshark's limit for ordinary link types
 * (WTAP_MAX_PACKET_SIZE_STANDARD). Anything above is a corrupt length.
 */
export const MAX_RECORD_BYTES = 262_144;

const PCAP_MICROS = 0xa1b2c3d4;
const PCAP_NANOS = 0xa1b23c4d;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const Block = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 1,
  Packet: 2, // obsolete, still written by old tools
  SimplePacket: 3,
  EnhancedPacket: 6,
} as const;
const OPT_END = 0;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const NS_PER_S = 1_000_000_000n;

/** Read records from a file path or any byte stream (a Node Readable is one). */
export async function* readCapture(source: string | AsyncIterable<Uint8Array>): AsyncGenerator<CaptureRecord, void, undefined> {
  const iterable = typeof source === "string" ? createReadStream(source) : source;
  const q = new ByteQueue(iterable[Symbol.asyncIterator]());
  try {
    if (await q.atEnd()) throw new PcapFormatError("file is empty", 0);
    const magic = await q.read(4, "file magic");
    const view = viewOf(magic);
    if (view.getUint32(0) === Block.SectionHeader) yield* readPcapng(q);
    else if (isPcapMagic(view.getUint32(0, true))) yield* readPcap(q, true, view.getUint32(0, true) === PCAP_NANOS);
    else if (isPcapMagic(view.getUint32(0, false))) yield* readPcap(q, false, view.getUint32(0, false) === PCAP_NANOS);
    else throw new PcapFormatError(`magic 0x${hex32(view.getUint32(0))} is neither pcap nor pcapng`, 0);
  } finally {
    await q.close();
  }
}

function isPcapMagic(m: number): boolean {
  return m === PCAP_MICROS || m === PCAP_NANOS;
}

async function* readPcap(q: ByteQueue, le: boolean, nanos: boolean): AsyncGenerator<CaptureRecord, void, undefined> {
  const h = viewOf(await q.read(20, "pcap file header"));
  const major = h.getUint16(0, le);
  if (major !== 2) throw new PcapFormatError(`pcap version ${major}.${h.getUint16(2, le)} is not 2.x`, 4);
  // The upper bits of the link type field carry FCS information, not the type.
  const linkType = h.getUint32(16, le) & 0xffff;
  const tick = nanos ? 1n : 1000n;
  for (let frame = 1; !(await q.atEnd()); frame++) {
    const at = q.offset;
    const rec = viewOf(await q.read(16, "pcap record header"));
    const captured = rec.getUint32(8, le);
    if (captured > MAX_RECORD_BYTES) throw new PcapFormatError(`record ${frame} claims ${captured} captured bytes, above the ${MAX_RECORD_BYTES}-byte limit`, at + 8);
    const data = await q.read(captured, `record ${frame} data`);
    const timeNs = BigInt(rec.getUint32(0, le)) * NS_PER_S + BigInt(rec.getUint32(4, le)) * tick;
    yield { frame, timeNs, linkType, data, originalLength: rec.getUint32(12, le) };
  }
}

interface Interface {
  linkType: number;
  snapLength: number;
  /** if_tsresol: timestamp units per second. */
  unitsPerSecond: bigint;
  /** if_tsoffset, in nanoseconds. */
  offsetNs: bigint;
}

/** Blocks after the file's first four bytes (the Section Header Block type, already read). */
async function* readPcapng(q: ByteQueue): AsyncGenerator<CaptureRecord, void, undefined> {
  let le = await readSectionHeader(q, 0);
  let interfaces: Interface[] = [];
  let frame = 0;
  while (!(await q.atEnd())) {
    const start = q.offset;
    const type = viewOf(await q.read(4, "block type")).getUint32(0, le);
    if (type === Block.SectionHeader) {
      // A new section may switch byte order; its interfaces start afresh.
      le = await readSectionHeader(q, start);
      interfaces = [];
      continue;
    }
    const block = new BlockReader(q, start, viewOf(await q.read(4, "block length")).getUint32(0, le), le, 12);
    let record: CaptureRecord | undefined;
    switch (type) {
      case Block.InterfaceDescription:
        interfaces.push(await readInterface(block));
        break;
      case Block.EnhancedPacket:
      case Block.Packet:
        record = await readPacket(block, type, interfaces, ++frame);
        break;
      case Block.SimplePacket:
        record = await readSimplePacket(block, interfaces, ++frame);
        break;
      default:
        // Name resolution, statistics, journal, custom blocks: nothing we decode.
        break;
    }
    // A packet counts only once its block is whole (trailer checked).
    await block.finish();
    if (record) yield record;
  }
}

/** Section Header Block after its type field; returns whether the section is little-endian. */
async function readSectionHeader(q: ByteQueue, start: number): Promise<boolean> {
  const head = viewOf(await q.read(8, "section header"));
  const order = head.getUint32(4, false);
  if (order !== BYTE_ORDER_MAGIC && head.getUint32(4, true) !== BYTE_ORDER_MAGIC) {
    throw new PcapFormatError(`section header byte-order magic 0x${hex32(order)} is not 1a2b3c4d`, start + 8);
  }
  const le = order !== BYTE_ORDER_MAGIC;
  const block = new BlockReader(q, start, head.getUint32(0, le), le, 28, 4);
  const version = viewOf(await block.read(4, "version"));
  const major = version.getUint16(0, le);
  if (major !== 1) throw new PcapFormatError(`pcapng version ${major}.${version.getUint16(2, le)} is not 1.x`, start + 12);
  await block.finish(); // section length and options: nothing we need
  return le;
}

async function readInterface(block: BlockReader): Promise<Interface> {
  const h = viewOf(await block.read(8, "interface description"));
  const iface: Interface = { linkType: h.getUint16(0, block.le), snapLength: h.getUint32(4, block.le), unitsPerSecond: 1_000_000n, offsetNs: 0n };
  while (block.left >= 4) {
    const opt = viewOf(await block.read(4, "option header"));
    const code = opt.getUint16(0, block.le);
    const length = opt.getUint16(2, block.le);
    if (code === OPT_END) break;
    const padded = (length + 3) & ~3;
    if (code === IF_TSRESOL && length === 1) {
      const v = (await block.read(padded, "if_tsresol"))[0]!;
      // High bit set: a negative power of 2, else of 10.
      iface.unitsPerSecond = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
    } else if (code === IF_TSOFFSET && length === 8) {
      iface.offsetNs = viewOf(await block.read(padded, "if_tsoffset")).getBigInt64(0, block.le) * NS_PER_S;
    } else {
      await block.skip(padded, `option ${code}`);
    }
  }
  return iface;
}

/** Enhanced Packet Block, or the obsolete Packet Block (16-bit interface id, then a drops count). */
async function readPacket(block: BlockReader, type: number, interfaces: Interface[], frame: number): Promise<CaptureRecord> {
  const at = block.q.offset;
  const h = viewOf(await block.read(20, "packet header"));
  const ifId = type === Block.Packet ? h.getUint16(0, block.le) : h.getUint32(0, block.le);
  const iface = interfaceAt(interfaces, ifId, at);
  const captured = h.getUint32(12, block.le);
  if (captured > MAX_RECORD_BYTES) throw new PcapFormatError(`packet ${frame} claims ${captured} captured bytes, above the ${MAX_RECORD_BYTES}-byte limit`, at + 12);
  const data = await block.read(captured, `packet ${frame} data`);
  await block.skip(((captured + 3) & ~3) - captured, "padding");
  const ticks = (BigInt(h.getUint32(4, block.le)) << 32n) | BigInt(h.getUint32(8, block.le));
  const timeNs = (ticks * NS_PER_S) / iface.unitsPerSecond + iface.offsetNs;
  return { frame, timeNs, linkType: iface.linkType, data, originalLength: h.getUint32(16, block.le) };
}

/** Simple Packet Block: interface 0, no time; the data is the original packet cut to the snap length. */
async function readSimplePacket(block: BlockReader, interfaces: Interface[], frame: number): Promise<CaptureRecord> {
  const at = block.q.offset;
  const iface = interfaceAt(interfaces, 0, at);
  const originalLength = viewOf(await block.read(4, "simple packet header")).getUint32(0, block.le);
  const captured = Math.min(originalLength, iface.snapLength || Infinity, block.left);
  if (captured > MAX_RECORD_BYTES) throw new PcapFormatError(`packet ${frame} holds ${captured} bytes, above the ${MAX_RECORD_BYTES}-byte limit`, at);
  const data = await block.read(captured, `packet ${frame} data`);
  return { frame, timeNs: undefined, linkType: iface.linkType, data, originalLength };
}

function interfaceAt(interfaces: Interface[], id: number, at: number): Interface {
  const iface = interfaces[id];
  if (!iface) throw new PcapFormatError(`packet refers to interface ${id}, but the section describes ${interfaces.length}`, at);
  return iface;
}

/**
 * One pcapng block's body: reads may not run past the length its header
 * gives, and `finish` skips what is left and checks the trailing copy of the
 * length, which is how pcapng detects a misframed file.
 */
class BlockReader {
  left: number;

  constructor(
    readonly q: ByteQueue,
    readonly start: number,
    readonly length: number,
    readonly le: boolean,
    minimum: number,
    /** Body bytes the caller already read (the section header's byte-order magic). */
    bodyRead = 0,
  ) {
    if (length < minimum) throw new PcapFormatError(`block length ${length} is below the ${minimum}-byte minimum`, start + 4);
    if (length % 4 !== 0) throw new PcapFormatError(`block length ${length} is not a multiple of 4`, start + 4);
    this.left = length - 12 - bodyRead; // 12: type, length, trailing length
  }

  #take(n: number, what: string): void {
    if (n > this.left) throw new PcapFormatError(`${what} (${n} bytes) overruns its ${this.length}-byte block`, this.q.offset);
    this.left -= n;
  }

  read(n: number, what: string): Promise<Uint8Array> {
    this.#take(n, what);
    return this.q.read(n, what);
  }

  skip(n: number, what: string): Promise<void> {
    this.#take(n, what);
    return this.q.skip(n, what);
  }

  async finish(): Promise<void> {
    await this.q.skip(this.left, "block body");
    this.left = 0;
    const at = this.q.offset;
    const trailer = viewOf(await this.q.read(4, "block trailer")).getUint32(0, this.le);
    if (trailer !== this.length) throw new PcapFormatError(`block trailer says ${trailer} bytes, its header ${this.length}`, at);
  }
}

/**
 * Bytes from an async chunk source, consumed front to back. Holds only the
 * chunks a pending read needs; a read copies only when its bytes straddle
 * chunks, and only once all of them have arrived.
 */
class ByteQueue {
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #done = false;
  /** File offset of the next unread byte. */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  async #fill(n: number): Promise<void> {
    while (this.#buffered < n && !this.#done) {
      const next = await this.source.next();
      if (next.done) this.#done = true;
      else if (next.value.length > 0) {
        this.#chunks.push(next.value);
        this.#buffered += next.value.length;
      }
    }
  }

  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#buffered === 0;
  }

  async read(n: number, what: string): Promise<Uint8Array> {
    await this.#fill(n);
    if (this.#buffered < n) this.#truncated(n, what);
    const first = this.#chunks[0];
    if (!first || first.length >= n) {
      const out = first ? first.subarray(0, n) : new Uint8Array(0);
      this.#consume(n);
      return out;
    }
    const out = new Uint8Array(n);
    for (let o = 0; o < n; ) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, n - o);
      out.set(chunk.subarray(0, take), o);
      o += take;
      this.#consume(take);
    }
    return out;
  }

  async skip(n: number, what: string): Promise<void> {
    for (let left = n; left > 0; ) {
      await this.#fill(1);
      if (this.#buffered === 0) this.#truncated(left, what);
      const take = Math.min(this.#chunks[0]!.length, left);
      this.#consume(take);
      left -= take;
    }
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }

  #consume(n: number): void {
    if (n === 0) return;
    const rest = this.#chunks[0]!.subarray(n);
    if (rest.length > 0) this.#chunks[0] = rest;
    else this.#chunks.shift();
    this.#buffered -= n;
    this.offset += n;
  }

  #truncated(n: number, what: string): never {
    throw new PcapFormatError(`file ends inside the ${what}: ${n} bytes needed, ${this.#buffered} left`, this.offset);
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, "0");
}
