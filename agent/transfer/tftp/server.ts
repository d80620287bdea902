/**
 * The read-only TFTP server a primary AP runs for its subordinates (and
 * `vap tftp serve`): requests arrive on one socket; each accepted read gets
 * its own socket (its transfer id, RFC 1350 §4) and a sender machine, all on
 * one event loop. Writes are refused; names stay inside the served
 * directory; beyond maxTransfers a request is answered "busy".
 */
import type { FileHandle } from "node:fs/promises";
import { type Clock, ConfigError, describeError, type Log, silentLog, systemClock } from "../../core/index.js";
import { bindNativeUdp, bindUdp, type DatagramSocket, type Endpoint, endpointKey, type NativeDatagramSocket } from "../../net/index.js";
import { openServedFile, ReadAhead, servedRoot } from "./files.js";
import { DEFAULT_MAX_TRANSFERS, DEFAULT_RETRIES, OCTET_MODE, TFTP_PORT } from "./limits.js";
import { negotiateAsServer, type TransferOptions } from "./options.js";
import { decodePacket, encodeDataHeader, encodePacket, Opcode, type RequestPacket, TftpDecodeError, TftpErrorCode } from "./packet.js";
import { decodeFromPeer, RetransmitTimer, refuseStranger, sameEndpoint } from "./peer.js";
import { initialSender, type SenderEffect, type SenderInput, type SenderState, senderStep } from "./sender.js";

export interface TftpServerOptions {
  /** The directory served; nothing outside it is ever read. */
  root: string;
  /** Default 127.0.0.1 (the command's default is every address). */
  address?: string;
  /** Default 69; 0 lets the kernel choose (tests). */
  port?: number;
  maxTransfers?: number;
  retries?: number;
  clock?: Clock;
  log?: Log;
}

export interface TftpServer {
  readonly local: Endpoint;
  /** Transfers running or being opened. */
  readonly activeTransfers: number;
  /** The most transfers ever running or being opened at once: what a limit held to, measured here rather than configured. */
  readonly peakTransfers: number;
  /** Stop taking requests and end every transfer (the peers get ERROR 0). */
  close(): Promise<void>;
}

/** "blksize 1468, windowsize 16": the options a transfer runs with, for log lines. */
export function describeOptions(o: TransferOptions): string {
  return `blksize ${o.blockSize}, windowsize ${o.windowSize}, timeout ${o.timeoutMs / 1000} s${o.size === undefined ? "" : `, tsize ${o.size}`}`;
}

/** A transfer's socket takes ACKs, one per window: a short batch is enough. */
const TRANSFER_RECEIVE_BATCH = 8;

/** What an accepted read starts from. */
interface AcceptedRead {
  name: string;
  peer: Endpoint;
  /** The transfer's own socket: its port is the server's transfer id. */
  socket: NativeDatagramSocket;
  file: FileHandle;
  size: number;
  options: TransferOptions;
  /** The OACK's options; empty for a plain RFC 1350 transfer. */
  acknowledged: Map<string, string>;
  retries: number;
  clock: Clock;
  log: Log;
  ended: () => void;
}

/** One accepted read: the shell around a sender machine. */
class OutgoingTransfer {
  #state: SenderState;
  readonly #timer: RetransmitTimer;
  readonly #reader: ReadAhead;
  readonly #started: number;

  constructor(private readonly accepted: AcceptedRead) {
    const oack = accepted.acknowledged.size > 0 ? ({ opcode: Opcode.OptionAck, options: accepted.acknowledged } as const) : undefined;
    this.#state = initialSender(accepted.options, oack, accepted.retries, true);
    this.#timer = new RetransmitTimer(accepted.clock, "tftp-retransmit", () => this.feed({ type: "timeout" }));
    this.#reader = new ReadAhead(accepted.file, accepted.options.blockSize * accepted.options.windowSize);
    this.#started = accepted.clock.now();
    accepted.socket.onMessage((data, from, answered) => {
      if (!sameEndpoint(from, accepted.peer)) return refuseStranger(accepted.socket, data, from);
      const p = decodeFromPeer(data);
      if (p?.opcode === Opcode.Ack) this.feed({ type: "ack", block: p.block, answered });
      else if (p?.opcode === Opcode.Error) this.feed({ type: "peer-error", code: p.code, message: p.message });
    });
    accepted.log.info(`TFTP: RRQ ${accepted.name} from ${endpointKey(accepted.peer)}, ${accepted.size} bytes (${describeOptions(accepted.options)})`);
    this.feed({ type: "start" });
  }

  /**
   * Inputs in arrival order; one fed while an earlier one's effects are
   * being carried out (a read answered at once) waits its turn here, so
   * effects never interleave.
   */
  readonly #inputs: SenderInput[] = [];

  feed(input: SenderInput): void {
    this.#inputs.push(input);
    if (this.#inputs.length > 1) return;
    try {
      for (let next: SenderInput | undefined = input; next; next = this.#inputs[0]) {
        const { state, effects } = senderStep(this.#state, next);
        this.#state = state;
        for (const e of effects) this.#carryOut(e);
        this.#inputs.shift();
      }
    } finally {
      // Only a throw leaves inputs here; the next feed must not wait behind them.
      this.#inputs.length = 0;
    }
  }

  #carryOut(e: SenderEffect): void {
    switch (e.type) {
      case "send":
        // A block goes out from the read-ahead chunk it lies in, behind its own 4-byte header: no packet copy per block.
        if (e.packet.opcode === Opcode.Data) return this.accepted.socket.sendParts(encodeDataHeader(e.packet.block), e.packet.data, this.accepted.peer);
        return this.accepted.socket.send(encodePacket(e.packet), this.accepted.peer);
      case "arm":
        return this.#timer.arm(e.ms);
      case "arm-reply":
        return this.accepted.socket.arm({
          trigger: encodePacket({ opcode: Opcode.Ack, block: e.ack }),
          to: this.accepted.peer,
          // Each block behind its own header, as a send: the socket copies both.
          datagrams: e.packets.map((p) => [encodeDataHeader(p.block), p.data] as const),
        });
      case "disarm":
        return this.accepted.socket.disarm();
      case "read": {
        const blockSize = this.#state.options.blockSize;
        // Held in the chunk being served (most reads): answered without a promise and a turn of the event loop.
        const held = this.#reader.readHeld((e.first - 1) * blockSize, e.count * blockSize);
        if (held) return this.feed({ type: "read", first: e.first, count: e.count, data: held });
        this.#reader.read((e.first - 1) * blockSize, e.count * blockSize).then(
          (data) => this.feed({ type: "read", first: e.first, count: e.count, data }),
          (err) => this.feed({ type: "abort", code: TftpErrorCode.NotDefined, message: `read error: ${describeError(err)}` }),
        );
        return;
      }
      case "done":
        return this.#end(`TFTP: sent ${this.accepted.name} to ${endpointKey(this.accepted.peer)}, ${this.accepted.size} bytes in ${this.#seconds()} s (${describeOptions(this.#state.options)})`);
      case "failed": {
        const bytes = Math.min(this.accepted.size, this.#state.acked * this.#state.options.blockSize);
        return this.#end(`TFTP: ${this.accepted.name} to ${endpointKey(this.accepted.peer)} failed after ${bytes} of ${this.accepted.size} bytes in ${this.#seconds()} s: ${e.message}`);
      }
    }
  }

  #seconds(): string {
    return ((this.accepted.clock.now() - this.#started) / 1000).toFixed(2);
  }

  #end(line: string): void {
    this.#timer.cancel();
    this.accepted.socket.close();
    void this.accepted.file.close().catch(() => {});
    this.accepted.log.info(line);
    this.accepted.ended();
  }
}

export async function startTftpServer(o: TftpServerOptions): Promise<TftpServer> {
  const root = await servedRoot(o.root);
  const address = o.address ?? "127.0.0.1";
  const port = o.port ?? TFTP_PORT;
  let socket: DatagramSocket;
  try {
    socket = await bindUdp({ address, port });
  } catch (err) {
    throw new ConfigError(`cannot listen on ${endpointKey({ address, port })} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
  }
  const clock = o.clock ?? systemClock;
  const log = o.log ?? silentLog;
  const maxTransfers = o.maxTransfers ?? DEFAULT_MAX_TRANSFERS;
  const retries = o.retries ?? DEFAULT_RETRIES;
  /** By peer: a retransmitted RRQ must not start a second transfer. Undefined while the file is being opened. */
  const transfers = new Map<string, OutgoingTransfer | undefined>();
  let peakTransfers = 0;
  let closed = false;

  const reply = (to: Endpoint, code: TftpErrorCode, message: string) => socket.send(encodePacket({ opcode: Opcode.Error, code, message }), to);
  const refuse = (p: RequestPacket, from: Endpoint, code: TftpErrorCode, message: string) => {
    log.info(`TFTP: refused ${p.opcode === Opcode.ReadRequest ? "RRQ" : "WRQ"} ${p.filename} from ${endpointKey(from)}: ${message}`);
    reply(from, code, message);
  };

  async function accept(p: RequestPacket, from: Endpoint, key: string): Promise<void> {
    const opened = await openServedFile(root, p.filename);
    if (!("file" in opened)) {
      transfers.delete(key);
      return refuse(p, from, opened.code, opened.message);
    }
    const { acknowledged, options } = negotiateAsServer(p.options, opened.size);
    let own: NativeDatagramSocket;
    try {
      // The transfer's socket carries the bulk: batched sends (a window in one sendmmsg) and receives.
      own = await bindNativeUdp({ address: socket.local.address, batch: TRANSFER_RECEIVE_BATCH });
    } catch (err) {
      await opened.file.close();
      transfers.delete(key);
      return refuse(p, from, TftpErrorCode.NotDefined, `no socket for the transfer (${describeError(err)})`);
    }
    if (closed) {
      own.close();
      transfers.delete(key);
      await opened.file.close();
      return;
    }
    const ended = () => transfers.delete(key);
    transfers.set(key, new OutgoingTransfer({ name: p.filename, peer: from, socket: own, file: opened.file, size: opened.size, options, acknowledged, retries, clock, log, ended }));
  }

  socket.onMessage((data, from) => {
    let p;
    try {
      p = decodePacket(data);
    } catch (err) {
      if (!(err instanceof TftpDecodeError)) throw err;
      if (data[0] !== 0 || data[1] !== Opcode.Error) reply(from, err.replyCode, err.message);
      return;
    }
    if (p.opcode === Opcode.Error) return;
    if (p.opcode !== Opcode.ReadRequest && p.opcode !== Opcode.WriteRequest) return reply(from, TftpErrorCode.IllegalOperation, "expected a read request");
    if (p.opcode === Opcode.WriteRequest) return refuse(p, from, TftpErrorCode.AccessViolation, "read-only server");
    if (p.mode !== OCTET_MODE) return refuse(p, from, TftpErrorCode.IllegalOperation, `mode ${p.mode} not served (octet only)`);
    const key = endpointKey(from);
    if (transfers.has(key)) return;
    if (transfers.size >= maxTransfers) return refuse(p, from, TftpErrorCode.NotDefined, `server busy (${maxTransfers} transfers), try later`);
    transfers.set(key, undefined);
    peakTransfers = Math.max(peakTransfers, transfers.size);
    accept(p, from, key).catch((err) => {
      transfers.delete(key);
      refuse(p, from, TftpErrorCode.NotDefined, `cannot serve: ${describeError(err)}`);
    });
  });
  log.info(`TFTP: serving ${root} on ${endpointKey(socket.local)} (at most ${maxTransfers} transfers)`);

  return {
    local: socket.local,
    get activeTransfers() {
      return transfers.size;
    },
    get peakTransfers() {
      return peakTransfers;
    },
    async close() {
      closed = true;
      socket.close();
      for (const t of [...transfers.values()]) t?.feed({ type: "abort", code: TftpErrorCode.NotDefined, message: "server shutting down" });
    },
  };
}
