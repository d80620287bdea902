/**
 * WAN proxy benchmarks:
 * - UDP relay throughput with no impairment against the same traffic sent
 *   direct (1400-byte datagrams, echoed, 64 in flight). The load generator
 *   (client and echo server) runs in a worker thread, so the main thread
 *   runs only the relay: its datagrams/s is what one core relays.
 * - Delay accuracy: measured one-way delay against a configured 50 ms
 *   (p50/p99 error in ms), light load, sender and sink on the relay's thread
 *   so the receive latency users see is included.
 * - Rate accuracy: goodput at a 10 Mbit/s limit against the limit.
 */
import { createSocket, type Socket } from "node:dgram";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { startWanProxy } from "../../lab/wan/index.js";
import { report } from "./report.js";

const DATAGRAM_BYTES = 1400;
const WINDOW = 64;
const RUN_MS = 3_000;

async function bound(address = "127.0.0.1"): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
}

interface RunResult {
  roundTrips: number;
  elapsedMs: number;
}

/** Worker: an echo server and a client keeping WINDOW datagrams in flight towards a given port. */
async function generator(): Promise<void> {
  const echo = await bound();
  echo.on("message", (m, r) => echo.send(m, r.port, r.address));
  const client = await bound();
  const payload = Buffer.alloc(DATAGRAM_BYTES);
  parentPort!.postMessage({ echoPort: echo.address().port });
  parentPort!.on("message", (msg: { port?: number; stop?: boolean }) => {
    if (msg.stop) {
      echo.close();
      client.close();
      parentPort!.close();
      return;
    }
    const port = msg.port!;
    let roundTrips = 0;
    let inFlight = 0;
    let progress = 0;
    const fill = () => {
      for (; inFlight < WINDOW; inFlight++) client.send(payload, port, "127.0.0.1");
    };
    const onReply = () => {
      roundTrips++;
      inFlight--;
      fill();
    };
    client.on("message", onReply);
    // A datagram lost in a full socket buffer would shrink the window for good: refill when replies stall.
    const watchdog = setInterval(() => {
      if (roundTrips === progress) inFlight = 0;
      progress = roundTrips;
      fill();
    }, 50);
    const started = performance.now();
    fill();
    setTimeout(() => {
      clearInterval(watchdog);
      client.off("message", onReply);
      const result: RunResult = { roundTrips, elapsedMs: performance.now() - started };
      parentPort!.postMessage(result);
    }, RUN_MS);
  });
}

class Generator {
  readonly #worker = new Worker(new URL(import.meta.url));
  echoPort = 0;

  async start(): Promise<void> {
    this.echoPort = ((await this.#next()) as { echoPort: number }).echoPort;
  }

  /** Echo round trips towards `port` for RUN_MS. */
  async run(port: number): Promise<RunResult> {
    this.#worker.postMessage({ port });
    return (await this.#next()) as RunResult;
  }

  async stop(): Promise<void> {
    this.#worker.postMessage({ stop: true });
    await new Promise((resolve) => this.#worker.once("exit", resolve));
  }

  #next(): Promise<unknown> {
    return new Promise((resolve) => this.#worker.once("message", resolve));
  }
}

async function throughput(): Promise<void> {
  const gen = new Generator();
  await gen.start();
  // Each round trip is two datagrams through the relay (there and back).
  const rate = (r: RunResult) => Math.round(((2 * r.roundTrips) / r.elapsedMs) * 1000);
  await gen.run(gen.echoPort); // warm up the kernel path and the JIT
  const direct = rate(await gen.run(gen.echoPort));
  report({ bench: "wan.udp.direct", value: direct, unit: "datagrams/s (1400 B, echo, 64 in flight)" });

  const proxy = await startWanProxy({ relays: [{ protocol: "udp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: gen.echoPort } }], seed: 1 });
  const port = proxy.relays[0]!.listen.port;
  await gen.run(port);
  const before = performance.eventLoopUtilization();
  const relayed = rate(await gen.run(port));
  const busy = performance.eventLoopUtilization(before).utilization;
  const [stats] = proxy.stats();
  report({
    bench: "wan.udp.relay",
    value: relayed,
    unit: "datagrams/s (1400 B, echo, 64 in flight, no impairment)",
    bound: direct,
    boundKind: "peer:direct",
    relayThreadBusy: +busy.toFixed(3),
    perCoreDatagramsPerSecond: Math.round(relayed / busy),
    dropped: stats!.toServer.packetsIn - stats!.toServer.packetsOut + stats!.toClient.packetsIn - stats!.toClient.packetsOut,
  });
  await proxy.close();
  await gen.stop();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function delayAccuracy(): Promise<void> {
  const delayMs = 50;
  const sink = await bound();
  const client = await bound();
  const proxy = await startWanProxy({
    relays: [{ protocol: "udp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: sink.address().port } }],
    impairment: { delayMs },
    seed: 1,
  });
  const n = 2_000;
  const sentAt = new Float64Array(n);
  const errors: number[] = [];
  sink.on("message", (m) => errors.push(performance.now() - sentAt[m.readUInt32BE(0)]! - delayMs));
  const payload = Buffer.alloc(DATAGRAM_BYTES);
  // 2,000 datagrams, one every millisecond or so: about 50 in flight at any time.
  for (let i = 0; i < n; i++) {
    payload.writeUInt32BE(i, 0);
    sentAt[i] = performance.now();
    client.send(payload, proxy.relays[0]!.listen.port, "127.0.0.1");
    if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 4));
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs * 4));
  errors.sort((a, b) => a - b);
  const ms = (x: number) => +x.toFixed(3);
  report({
    bench: "wan.udp.delay-error-p50",
    value: ms(percentile(errors, 0.5)),
    unit: "ms (measured one-way − configured 50 ms)",
    bound: 0,
    boundKind: "physics",
    p99: ms(percentile(errors, 0.99)),
    min: ms(errors[0]!),
    max: ms(errors.at(-1)!),
    samples: errors.length,
    sent: n,
  });
  report({ bench: "wan.udp.delay-error-p99", value: ms(percentile(errors, 0.99)), unit: "ms (measured one-way − configured 50 ms)", bound: 0, boundKind: "physics" });
  await proxy.close();
  sink.close();
  client.close();
}

async function rateAccuracy(): Promise<void> {
  const rateBps = 10e6;
  const sink = await bound();
  const client = await bound();
  const proxy = await startWanProxy({
    relays: [{ protocol: "udp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: sink.address().port } }],
    impairment: { rateBps },
    seed: 1,
  });
  let bytes = 0;
  let first = NaN;
  let last = NaN;
  sink.on("message", (m) => {
    if (Number.isNaN(first)) first = performance.now();
    last = performance.now();
    bytes += m.length;
  });
  const payload = Buffer.alloc(DATAGRAM_BYTES);
  // Offer 11.2 Mbit/s (20 datagrams every 20 ms) for 1.5 s: the link, not the sender, sets the pace.
  for (let i = 0; i < 75; i++) {
    for (let j = 0; j < 20; j++) client.send(payload, proxy.relays[0]!.listen.port, "127.0.0.1");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  // The first datagram's own serialization happened before `first`.
  const goodput = ((bytes - DATAGRAM_BYTES) * 8) / ((last - first) / 1000);
  const [stats] = proxy.stats();
  report({ bench: "wan.udp.rate-10mbit", value: Math.round(goodput), unit: "bit/s delivered at a 10 Mbit/s limit", bound: rateBps, boundKind: "physics", queueDropped: stats!.toServer.queueDropped, delivered: stats!.toServer.packetsOut });
  await proxy.close();
  sink.close();
  client.close();
}

if (isMainThread) {
  await throughput();
  await delayAccuracy();
  await rateAccuracy();
} else {
  await generator();
}
