/**
 * `fetchTftp`: download one file by TFTP into an ImageSink — the shell
 * around the receiver machine. Its shape (name or URL in, sink, progress,
 * AbortSignal, a failure with a typed reason) is an image source's, so the
 * AP can start it like any other.
 */
import { lookup } from "node:dns/promises";
import { isIPv6 } from "node:net";
import { type Clock, ConfigError, describeError, systemClock, VapError } from "../../core/index.js";
import { bindNativeUdp, type Endpoint, type NativeDatagramSocket } from "../../net/index.js";
import type { ImageSink, ImageSinkResult } from "../sink.js";
import { CLIENT_REQUEST, DEFAULT_BLOCK_SIZE, DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, SINK_WRITE_BYTES, TFTP_PORT } from "./limits.js";
import type { OptionRequest, TransferOptions } from "./options.js";
import { DATA_HEADER_BYTES, encodePacket, TftpErrorCode } from "./packet.js";
import { decodeFromPeer, RetransmitTimer, refuseStranger, sameEndpoint } from "./peer.js";
import { initialReceiver, type ReceiverEffect, type ReceiverInput, type ReceiverState, receiverStep, type TftpFailureReason } from "./receiver.js";

/** A TFTP download that did not complete, and why. */
export class TftpError extends VapError {
  readonly reason: TftpFailureReason;

  constructor(reason: TftpFailureReason, message: string, options?: ErrorOptions) {
    super(`VAP_TFTP_${reason.toUpperCase().replace("-", "_")}`, message, options);
    this.reason = reason;
  }
}

export interface TftpTarget {
  host: string;
  /** Default 69. */
  port?: number;
  /** The file name as the server knows it (an AP asks for its class, "ap1g8"). */
  path: string;
  /** Options to ask for; default CLIENT_REQUEST plus tsize. `{}` asks for none (a plain RFC 1350 request). */
  options?: OptionRequest;
}

export interface FetchTftpOptions {
  signal?: AbortSignal;
  onProgress?(bytes: number, total?: number): void;
  clock?: Clock;
  /** Retransmissions before giving up; default DEFAULT_RETRIES. */
  retries?: number;
  /** Wait before the first retransmission; default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface FetchTftpResult extends ImageSinkResult {
  bytes: number;
  /** What was negotiated. */
  options: TransferOptions;
}

/** `tftp://host[:port]/path` → a target; anything else is a one-line ConfigError (the URL is the operator's or the controller's to fix). */
export function parseTftpUrl(url: string): TftpTarget {
  let parsed: URL | undefined;
  let path = "";
  try {
    parsed = new URL(url);
    path = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "tftp:" || parsed.hostname === "" || path === "") throw new ConfigError(`"${url}" is not tftp://host[:port]/path`);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: parsed.port ? Number(parsed.port) : TFTP_PORT, path };
}

const DEFAULT_REQUEST: OptionRequest = { ...CLIENT_REQUEST, askSize: true };

/** What the kernel charges a received datagram beyond its payload (its buffer's bookkeeping, about 1 KB on loopback). */
const KERNEL_DATAGRAM_OVERHEAD = 1024;
/** Never below this: the kernel's usual default (~208 KB) with room to spare. */
const MIN_RECEIVE_BUFFER = 1 << 20;

/**
 * The receive buffer a window needs: a whole window arrives before this
 * process reads, and a retransmitted window may land on one not yet read.
 * Below that the kernel drops blocks and the transfer crawls from timeout
 * to timeout (blksize 65464 × windowsize 64 is 4 MB: 8 MB took 42 s
 * instead of 0.1 s with the default buffer).
 */
function receiveBufferFor(request: OptionRequest): number {
  const datagram = (request.blockSize ?? DEFAULT_BLOCK_SIZE) + DATA_HEADER_BYTES + KERNEL_DATAGRAM_OVERHEAD;
  return Math.max(MIN_RECEIVE_BUFFER, 2 * (request.windowSize ?? 1) * datagram);
}

export async function fetchTftp(target: string | TftpTarget, sink: ImageSink, o: FetchTftpOptions = {}): Promise<FetchTftpResult> {
  const t = typeof target === "string" ? parseTftpUrl(target) : target;
  if (o.signal?.aborted) throw new TftpError("aborted", "aborted before the request");
  let address: string;
  try {
    address = (await lookup(t.host)).address;
  } catch (err) {
    throw new TftpError("unreachable", `cannot resolve ${t.host} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
  }
  const request = t.options ?? DEFAULT_REQUEST;
  // Nothing of a datagram outlives its handler: a block is copied into the sink's gather buffer as it comes.
  const socket = await bindNativeUdp({ address: isIPv6(address) ? "::" : "0.0.0.0", receiveBufferBytes: receiveBufferFor(request), reuseReceiveMemory: true });
  const timeoutMs = o.timeoutMs ?? (request.timeoutSeconds === undefined ? DEFAULT_TIMEOUT_MS : request.timeoutSeconds * 1000);
  const download = new Download(t.path, { address, port: t.port ?? TFTP_PORT }, socket, sink, request, timeoutMs, o);
  return download.run();
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One download: feeds the machine, carries out its effects, and runs the sink's calls one after another. */
class Download {
  #state: ReceiverState;
  /** The server's transfer id, learnt from its first answer. */
  #peer: Endpoint | undefined;
  readonly #timer: RetransmitTimer;
  /** Sink calls run in order; each completion is a "sink-ready" input. */
  #sinkChain: Promise<unknown> = Promise.resolve();
  #written = 0;
  /**
   * The blocks the machine handed over for the sink that no sink call has
   * taken yet, copied into one buffer as they come: how many, and the bytes.
   */
  #gathering: Uint8Array | undefined;
  #gatheredBlocks = 0;
  #gatheredBytes = 0;
  /**
   * Gather buffers whose writes finished (a sink owns a chunk only until its
   * write resolves), for the next ones. A fresh 64 KiB buffer per write came
   * from memory the allocator had just given back, and faulting it in again
   * cost the client about a sixth of its CPU time.
   */
  readonly #spare: Uint8Array[] = [];
  #settle!: { resolve: (r: FetchTftpResult) => void; reject: (e: TftpError) => void };

  constructor(
    private readonly path: string,
    private readonly server: Endpoint,
    private readonly socket: NativeDatagramSocket,
    private readonly sink: ImageSink,
    request: OptionRequest,
    timeoutMs: number,
    private readonly o: FetchTftpOptions,
  ) {
    const asked = Object.keys(request).length > 0 ? request : undefined;
    this.#state = initialReceiver(path, asked, timeoutMs, o.retries ?? DEFAULT_RETRIES);
    this.#timer = new RetransmitTimer(o.clock ?? systemClock, "tftp-retransmit", () => this.#feed({ type: "timeout" }));
  }

  run(): Promise<FetchTftpResult> {
    const done = new Promise<FetchTftpResult>((resolve, reject) => (this.#settle = { resolve, reject }));
    const onAbort = () => this.#feed({ type: "abort", reason: "aborted", code: TftpErrorCode.NotDefined, message: "transfer cancelled" });
    this.o.signal?.addEventListener("abort", onAbort, { once: true });
    this.socket.onMessage((data, from) => this.#receive(data, from));
    this.#feed({ type: "start" });
    return done.finally(() => this.o.signal?.removeEventListener("abort", onAbort));
  }

  #receive(data: Uint8Array, from: Endpoint): void {
    // The first answer from the server's address fixes its transfer id (RFC 1350 §4).
    if (!this.#peer && from.address === this.server.address && this.#state.phase === "request") this.#peer = from;
    if (!this.#peer || !sameEndpoint(from, this.#peer)) return refuseStranger(this.socket, data, from);
    const packet = decodeFromPeer(data);
    if (packet) this.#feed({ type: "packet", packet });
  }

  #feed(input: ReceiverInput): void {
    const { state, effects } = receiverStep(this.#state, input);
    this.#state = state;
    for (const e of effects) this.#carryOut(e);
    // Blocks gather into one sink write until there are SINK_WRITE_BYTES of them, or until the machine holds an ACK for the sink.
    if (this.#gatheredBlocks > 0 && (this.#gatheredBytes >= SINK_WRITE_BYTES || state.ackDue !== undefined)) this.#write();
  }

  /** A block into the gather buffer: under SINK_WRITE_BYTES are gathered before it, so one block more always fits. */
  #gather(data: Uint8Array): void {
    const buffer = (this.#gathering ??= this.#spare.pop() ?? new Uint8Array(SINK_WRITE_BYTES - 1 + this.#state.options.blockSize));
    buffer.set(data, this.#gatheredBytes);
    this.#gatheredBytes += data.length;
    this.#gatheredBlocks++;
  }

  /** One sink write of the gathered blocks; its completion finishes a sink call per block, and the buffer is spare again. */
  #write(): void {
    const buffer = this.#gathering!;
    const data = buffer.subarray(0, this.#gatheredBytes);
    const blocks = this.#gatheredBlocks;
    this.#gathering = undefined;
    this.#gatheredBlocks = 0;
    this.#gatheredBytes = 0;
    this.#sinkCall(async () => {
      await this.sink.write(data);
      this.#spare.push(buffer);
      this.#written += data.length;
      this.o.onProgress?.(this.#written, this.#state.options.size);
      return blocks;
    });
  }

  #carryOut(e: ReceiverEffect): void {
    switch (e.type) {
      case "send":
        // A new request goes to the well-known port and may be answered from a new transfer id.
        if (e.to === "server") this.#peer = undefined;
        return this.socket.send(encodePacket(e.packet), e.to === "server" ? this.server : this.#peer!);
      case "arm":
        return this.#timer.arm(e.ms);
      case "begin":
        return this.#sinkCall(() => this.sink.begin({ name: this.path, size: e.size }));
      case "write":
        return this.#gather(e.data);
      case "complete":
        // The dally that follows must not keep a finished CLI process alive (`vap fetch` waited it out).
        this.socket.unref();
        this.#sinkChain = this.#sinkChain.then(() => this.sink.finish());
        void this.#sinkChain.then(
          (result) => this.#settle.resolve({ ...(result as ImageSinkResult), bytes: this.#written, options: this.#state.options }),
          (err) => this.#fail("sink", `sink refused the image: ${describeError(err)}`, err),
        );
        return;
      case "closed":
        this.#timer.cancel();
        return this.socket.close();
      case "failed":
        return this.#fail(e.reason, e.message);
    }
  }

  /**
   * A sink call; its completion is one "sink-ready" input for all the
   * machine's sink calls it carried (a write carries one per block; an input
   * per block was a machine step and a state copy each). It starts after
   * this turn of the event loop: the ACK the datagrams just earned leaves
   * first (sends go out at the end of the turn), and the sink's work
   * overlaps the next window on the wire instead of delaying the ACK that
   * releases it.
   */
  #sinkCall(call: () => Promise<unknown>): void {
    // After a failure nothing more reaches the sink but its abort.
    this.#sinkChain = this.#sinkChain.then(nextTurn).then(() => (this.#state.phase === "failed" ? undefined : call())).then(
      (blocks) => this.#feed({ type: "sink-ready", calls: typeof blocks === "number" ? blocks : 1 }),
      (err) => this.#feed({ type: "abort", reason: "sink", code: TftpErrorCode.DiskFull, message: `sink: ${describeError(err)}` }),
    );
  }

  #fail(reason: TftpFailureReason, message: string, cause?: unknown): void {
    this.#timer.cancel();
    this.socket.close();
    const error = new TftpError(reason, `tftp ${this.path}: ${message}`, { cause });
    // Whatever reached the sink is thrown away, after any call still running; the caller hears of the failure after that.
    void this.#sinkChain
      .catch(() => {})
      .then(() => this.sink.abort(message))
      .catch(() => {})
      .then(() => this.#settle.reject(error));
  }
}
