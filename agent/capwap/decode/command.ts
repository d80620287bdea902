/**
 * `vap capwap decode FILE`: every CAPWAP message in a pcap or pcapng capture
 * as one JSON line (time, endpoints, header, message, elements), with the
 * vendor profiles vap itself speaks — so Cisco layouts that Wireshark calls
 * malformed (SPEC §3, Cisco flavour) still decode.
 */
import { type Command, CommandLineError, parseOptions } from "../../command-kit/index.js";
import { ConfigError } from "../../core/index.js";
import { endpointKey } from "../../net/index.js";
import { readCapture, udpDatagramOf, type CapturedDatagram } from "../../pcap/index.js";
import {
  CapwapDecodeError,
  type CapwapHeader,
  type ControlMessage,
  decodeControlMessage,
  decodeControlPacket,
  decodeDataPacket,
  decodePacket,
  DTLS_PREAMBLE_BYTE,
  type ElementJson,
  type ElementTable,
  elementToJson,
  messageToJson,
  Reassembler,
  toJson,
  WBID_IEEE80211,
} from "../codec/index.js";
import { profiles, type ProfileName, type VendorProfile } from "../profiles/index.js";

export interface DecodeOptions {
  /** `auto`: the cisco profile, then rfc5415 for a message with elements cisco cannot decode. */
  profile: ProfileName | "auto";
  controlPort: number;
  dataPort: number;
}

export interface DecodeSummary {
  /** Records in the capture. */
  packets: number;
  /** UDP datagrams to or from a CAPWAP port. */
  capwap: number;
  /** Lines printed with an `error`. */
  errors: number;
  /**
   * Fragmented messages whose fragments never all arrived: those still
   * waiting when the capture ends and those the reassembler gave up on
   * (timed out, evicted by its buffer cap, or superseded by a new message
   * reusing the Fragment ID).
   */
  incomplete: number;
}

/** One output line: plain data, ready for JSON.stringify. */
export type DecodedLine = Record<string, unknown>;

type Channel = "control" | "data";

/**
 * Decode every CAPWAP datagram of a capture, handing one line per message to
 * `emit` as soon as it is complete, until the capture ends or `stop` fires.
 * Rejects only when the capture itself is unreadable (PcapFormatError, or
 * the I/O error of the source); lines emitted before that stand.
 */
export async function decodeCapture(source: string | AsyncIterable<Uint8Array>, options: DecodeOptions, emit: (line: DecodedLine) => void, stop?: AbortSignal): Promise<DecodeSummary> {
  const decoder = new CaptureDecoder(options);
  const summary: DecodeSummary = { packets: 0, capwap: 0, errors: 0, incomplete: 0 };
  for await (const record of readCapture(source)) {
    if (stop?.aborted) break;
    summary.packets++;
    const datagram = udpDatagramOf(record);
    const channel = datagram && channelOf(datagram, options);
    if (!channel) continue;
    summary.capwap++;
    const line = decoder.decode(datagram, channel);
    if (!line) continue;
    if ("error" in line) summary.errors++;
    emit(line);
  }
  summary.incomplete = decoder.incompleteMessages;
  return summary;
}

function channelOf(d: CapturedDatagram, o: DecodeOptions): Channel | undefined {
  if (d.src.port === o.controlPort || d.dst.port === o.controlPort) return "control";
  if (d.src.port === o.dataPort || d.dst.port === o.dataPort) return "data";
  return undefined;
}

/**
 * Fragments wait by capture time, not wall time. A minute is far beyond any
 * retransmission timer (RFC 5415 §4.7), and 16 MiB holds over a hundred
 * maximal messages, so only a broken or hostile capture hits either bound.
 */
const REASSEMBLY = { timeoutMs: 60_000, maxBufferedBytes: 16 * 1024 * 1024 };

class CaptureDecoder {
  readonly #reassembler = new Reassembler(REASSEMBLY);
  readonly #profiles: readonly VendorProfile[];

  constructor(options: DecodeOptions) {
    this.#profiles = options.profile === "auto" ? [profiles.cisco, profiles.rfc5415] : [profiles[options.profile]];
  }

  get incompleteMessages(): number {
    const { expired, evicted, restarted } = this.#reassembler.stats;
    return this.#reassembler.pendingSets + expired + evicted + restarted;
  }

  /** The line for one datagram; undefined for a fragment of a message not yet complete. */
  decode(d: CapturedDatagram, channel: Channel): DecodedLine | undefined {
    const src = endpointKey(d.src);
    const line: DecodedLine = { frame: d.frame, time: isoTime(d.timeNs), src, dst: endpointKey(d.dst), channel };
    if (d.truncated) return { ...line, error: `datagram only partly captured (${d.payload.length} bytes): snap length or IP fragmentation` };
    // RFC 5415 §4.1: preamble type 1 is a DTLS header; what follows is ciphertext to us.
    if (d.payload[0] === DTLS_PREAMBLE_BYTE) return { ...line, dtls: dtlsSummary(d.payload) };
    try {
      const packet = decodePacket(d.payload);
      if (!packet.header.f) {
        if (channel === "control") return { ...line, ...this.#control(packet.header, (table) => decodeControlPacket(d.payload, table).message!) };
        return { ...line, ...(packet.header.k ? this.#keepAlive(d.payload) : frameSummary(packet.header, packet.payload)) };
      }
      const whole = this.#reassembler.push(src, packet.header, packet.payload, timeMs(d.timeNs));
      if (!whole) return undefined;
      // Error offsets from here on count from the start of the reassembled message.
      line.reassembled = true;
      if (channel === "control") return { ...line, ...this.#control(whole.header, (table) => decodeControlMessage(whole.payload, table)) };
      return { ...line, ...frameSummary(whole.header, whole.payload) };
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      return { ...line, error: err.message };
    }
  }

  /** The message, decoded with each profile's table in turn (the header is the same for all). */
  #control(header: CapwapHeader, decode: (table: ElementTable) => ControlMessage): DecodedLine {
    return this.#withProfile((table) => ({ ...messageToJson(decode(table), table, header) }));
  }

  /** RFC 5415 §4.4.1 Data Channel Keep-Alive: a Session ID element. */
  #keepAlive(datagram: Uint8Array): DecodedLine {
    return this.#withProfile((table) => {
      const packet = decodeDataPacket(datagram, table);
      const elements = packet.kind === "keepalive" ? packet.elements.map((el) => elementToJson(el, table)) : [];
      return { header: toJson(packet.header), keepAlive: true, elements };
    });
  }

  /**
   * Decode with each profile in turn until one reads every element; else the
   * line that kept the fewest elements raw (the earlier profile on a tie),
   * and the first profile's error when none decodes.
   */
  #withProfile(decode: (table: ElementTable) => DecodedLine): DecodedLine {
    let first: CapwapDecodeError | undefined;
    let best: { line: DecodedLine; raw: number } | undefined;
    for (const profile of this.#profiles) {
      let line: DecodedLine;
      try {
        line = { profile: profile.name, ...decode(profile.elements) };
      } catch (err) {
        if (!(err instanceof CapwapDecodeError)) throw err;
        first ??= err;
        continue;
      }
      const raw = (line.elements as ElementJson[]).filter((e) => e.note !== undefined).length;
      if (raw === 0) return line;
      if (!best || raw < best.raw) best = { line, raw };
    }
    if (best) return best.line;
    throw first;
  }
}

/** Tunnelled user traffic: summarized, never decoded. */
function frameSummary(header: CapwapHeader, frame: Uint8Array): DecodedLine {
  const format = !header.t ? "IEEE 802.3" : header.wbid === WBID_IEEE80211 ? "IEEE 802.11" : `native (WBID ${header.wbid})`;
  return { header: toJson(header), payload: { length: frame.length, format } };
}

/** RFC 6347 §4.1 content types of the DTLS record after the 4-byte CAPWAP DTLS header. */
const DTLS_CONTENT = new Map([
  [20, "change_cipher_spec"],
  [21, "alert"],
  [22, "handshake"],
  [23, "application_data"],
]);

function dtlsSummary(payload: Uint8Array): DecodedLine {
  const type = payload[4];
  const record = type === undefined ? "missing" : (DTLS_CONTENT.get(type) ?? `content type ${type}`);
  return { encrypted: true, record, length: Math.max(0, payload.length - 4) };
}

const NS_PER_S = 1_000_000_000n;
/** 0000-01-01 and 9999-12-31T23:59:59: the years an ISO 8601 basic date can show. */
const ISO_FIRST_SECOND = -62_167_219_200n;
const ISO_LAST_SECOND = 253_402_300_799n;

/** ISO 8601 UTC with all nine fraction digits, like Wireshark's absolute time. */
function isoTime(ns: bigint | undefined): string | null {
  if (ns === undefined) return null;
  const fraction = ((ns % NS_PER_S) + NS_PER_S) % NS_PER_S;
  const seconds = (ns - fraction) / NS_PER_S;
  if (seconds < ISO_FIRST_SECOND || seconds > ISO_LAST_SECOND) return `${ns}ns`;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction.toString().padStart(9, "0")}Z`;
}

function timeMs(ns: bigint | undefined): number {
  return ns === undefined ? 0 : Number(ns / 1_000_000n);
}

const USAGE = `FILE [--profile auto|cisco|rfc5415] [--control-port N] [--data-port N]

Print each CAPWAP message in a pcap or pcapng capture as one JSON line.
  --profile       element layouts to decode with (default auto: cisco, then rfc5415)
  --control-port  UDP port of the control channel (default 5246)
  --data-port     UDP port of the data channel (default 5247)
Fragments are reassembled; DTLS records are reported, not decoded; an element
whose body does not fit its layout is printed raw (hex) with a note; a packet
whose framing is broken prints its error and decoding goes on. Other traffic
is skipped and counted on stderr.`;

export const capwapDecodeCommand: Command = {
  path: ["capwap", "decode"],
  summary: "print the CAPWAP messages of a pcap/pcapng capture as JSON lines",
  usage: USAGE,
  async run(argv, io) {
    const { file, options } = decodeArguments(argv);
    let summary: DecodeSummary;
    try {
      summary = await decodeCapture(file, options, (line) => io.stdout(`${JSON.stringify(line)}\n`), io.signal);
    } catch (err) {
      // A missing or unreadable file is the operator's to fix: one line, no stack.
      if (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === "string") throw new ConfigError(`cannot read ${file}: ${err.message}`, { cause: err });
      throw err;
    }
    // Stopped (Ctrl-C, or the reader of stdout went away): counts of part of the capture would mislead.
    if (io.signal?.aborted) return 0;
    const { packets, capwap, errors, incomplete } = summary;
    const parts = [`${packets} packets`, `${capwap} CAPWAP`, `${packets - capwap} skipped (not CAPWAP)`, `${errors} not decodable`];
    if (incomplete > 0) parts.push(`${incomplete} fragmented message(s) incomplete`);
    io.stderr(`vap capwap decode: ${parts.join(", ")}\n`);
    return 0;
  },
};

function decodeArguments(argv: string[]): { file: string; options: DecodeOptions } {
  const { values, positionals } = parseOptions(argv, {
    profile: { type: "string", default: "auto" },
    "control-port": { type: "string", default: "5246" },
    "data-port": { type: "string", default: "5247" },
  });
  if (positionals.length !== 1) throw new CommandLineError(`expected one capture FILE, got ${positionals.length} arguments`);
  const profile = values.profile;
  if (profile !== "auto" && !Object.hasOwn(profiles, profile)) throw new ConfigError(`--profile must be auto, ${Object.keys(profiles).join(" or ")}, not "${profile}"`);
  return {
    file: positionals[0]!,
    options: { profile: profile as DecodeOptions["profile"], controlPort: port(values["control-port"], "--control-port"), dataPort: port(values["data-port"], "--data-port") },
  };
}

function port(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new ConfigError(`${flag} must be a UDP port (1-65535), not "${text}"`);
  return n;
}
