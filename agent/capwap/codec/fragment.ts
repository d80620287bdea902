/**
 * RFC 5415 §3.4 fragmentation. Every fragment carries the full CAPWAP header
 * with F set, the same Fragment ID and its offset in 8-byte units; L marks
 * the last one. Only the first fragment holds the control header.
 */
import { CapwapDecodeError, CapwapEncodeError } from "./errors.js";
import { Writer } from "./cursor.js";
import { type CapwapHeader, headerLength, writeHeader } from "./header.js";

/** RFC 5415 §4.3: Fragment Offset, 13 bits. */
const MAX_FRAGMENT_OFFSET = 0x1fff;

/**
 * Split a payload into CAPWAP packets no larger than `maxPacketSize` bytes
 * (header included). A payload that fits goes out unfragmented.
 */
export function fragmentPayload(payload: Uint8Array, header: CapwapHeader, maxPacketSize: number, fragmentId: number): Uint8Array[] {
  const hlen = headerLength(header);
  if (hlen + payload.length <= maxPacketSize) {
    const w = new Writer(hlen + payload.length);
    writeHeader(w, { ...header, f: false, l: false, fragmentId: 0, fragmentOffset: 0 });
    w.bytes(payload);
    return [w.finish()];
  }
  const piece = Math.floor((maxPacketSize - hlen) / 8) * 8;
  if (piece <= 0) throw new CapwapEncodeError(`packet size ${maxPacketSize} leaves no room for fragment data`);
  // The Fragment Offset field is 13 bits of 8-byte units: only where the last fragment starts must fit.
  const lastOffset = Math.floor((payload.length - 1) / piece) * piece;
  if (lastOffset / 8 > MAX_FRAGMENT_OFFSET) throw new CapwapEncodeError(`payload of ${payload.length} bytes exceeds the fragment offset range`);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += piece) {
    const data = payload.subarray(offset, offset + piece);
    const w = new Writer(hlen + data.length);
    writeHeader(w, { ...header, f: true, l: offset + piece >= payload.length, fragmentId, fragmentOffset: offset / 8 });
    w.bytes(data);
    out.push(w.finish());
  }
  return out;
}

export interface ReassemblyOptions {
  /** Incomplete sets older than this are dropped. */
  timeoutMs: number;
  /** Cap on bytes buffered across all incomplete sets; the oldest sets go first. */
  maxBufferedBytes: number;
}

interface Piece {
  offset: number;
  data: Uint8Array;
}

interface FragmentSet {
  readonly key: string;
  readonly created: number;
  /** Header of the first fragment (offset 0), which describes the message. */
  header?: CapwapHeader;
  pieces: Piece[];
  received: number;
  totalLength?: number;
}

export interface Reassembled {
  header: CapwapHeader;
  payload: Uint8Array;
}

/** Largest payload a fragment set can describe: 13-bit offset in 8-byte units plus one last piece. */
const MAX_MESSAGE = MAX_FRAGMENT_OFFSET * 8 + 0xffff;

/**
 * Reassembles fragments per (source, Fragment ID). Tolerates reordering and
 * duplicates; a fragment that contradicts its set (different bytes at the
 * same place, a second different last fragment) means the peer reused the
 * id for a new message — the old set is dropped and the new one starts, as
 * Cisco APs reuse ids. Time comes from the caller so tests are exact.
 */
export class Reassembler {
  readonly #sets = new Map<string, FragmentSet>();
  #buffered = 0;
  /** Counters for diagnostics and tests. */
  readonly stats = { completed: 0, expired: 0, evicted: 0, duplicates: 0, restarted: 0 };

  constructor(private readonly options: ReassemblyOptions) {}

  get bufferedBytes(): number {
    return this.#buffered;
  }

  get pendingSets(): number {
    return this.#sets.size;
  }

  /**
   * Add one fragment (`header.f` set). Returns the whole message once its
   * last missing piece arrives, otherwise undefined.
   * @throws CapwapDecodeError for a fragment that can never be valid.
   */
  push(source: string, header: CapwapHeader, data: Uint8Array, now: number): Reassembled | undefined {
    this.expire(now);
    const offset = header.fragmentOffset * 8;
    const end = offset + data.length;
    if (!header.l && data.length % 8 !== 0) throw new CapwapDecodeError(`non-final fragment of ${data.length} bytes is not a multiple of 8`, 0);
    if (data.length === 0) throw new CapwapDecodeError("empty fragment", 0);
    if (end > MAX_MESSAGE) throw new CapwapDecodeError(`fragment ends at ${end}, beyond any CAPWAP message`, 0);

    const key = `${source}#${header.fragmentId}`;
    let set = this.#sets.get(key);
    if (set && this.#contradicts(set, offset, data, header.l)) {
      this.#drop(set);
      this.stats.restarted++;
      set = undefined;
    }
    if (!set) {
      set = { key, created: now, pieces: [], received: 0 };
      this.#sets.set(key, set);
    }
    if (set.pieces.some((p) => p.offset === offset)) {
      this.stats.duplicates++;
      return undefined;
    }
    set.pieces.push({ offset, data: data.slice() });
    set.received += data.length;
    this.#buffered += data.length;
    if (offset === 0) set.header = header;
    if (header.l) set.totalLength = end;
    this.#enforceBudget(set);

    if (set.totalLength === undefined || set.received !== set.totalLength || !set.header || !this.#sets.has(key)) return undefined;
    const payload = new Uint8Array(set.totalLength);
    for (const p of set.pieces) payload.set(p.data, p.offset);
    this.#drop(set);
    this.stats.completed++;
    return { header: { ...set.header, f: false, l: false, fragmentId: 0, fragmentOffset: 0 }, payload };
  }

  /** Drop incomplete sets older than the timeout. */
  expire(now: number): void {
    for (const set of this.#sets.values()) {
      if (now - set.created < this.options.timeoutMs) break; // insertion order = age order
      this.#drop(set);
      this.stats.expired++;
    }
  }

  #contradicts(set: FragmentSet, offset: number, data: Uint8Array, last: boolean): boolean {
    const end = offset + data.length;
    if (last && set.totalLength !== undefined && set.totalLength !== end) return true;
    if (set.totalLength !== undefined && end > set.totalLength) return true;
    // A last fragment must not end before pieces we already hold.
    if (last && set.pieces.some((p) => p.offset + p.data.length > end)) return true;
    for (const p of set.pieces) {
      const pEnd = p.offset + p.data.length;
      if (end <= p.offset || offset >= pEnd) continue;
      if (p.offset !== offset || p.data.length !== data.length) return true;
      for (let i = 0; i < data.length; i++) if (p.data[i] !== data[i]) return true;
    }
    return false;
  }

  #enforceBudget(current: FragmentSet): void {
    for (const set of this.#sets.values()) {
      if (this.#buffered <= this.options.maxBufferedBytes) return;
      this.#drop(set);
      this.stats.evicted++;
      if (set === current) return;
    }
  }

  #drop(set: FragmentSet): void {
    if (!this.#sets.delete(set.key)) return;
    this.#buffered -= set.received;
  }
}
