/**
 * Seeded fuzz of the AP's Image Data receiver (agent/transfer/capwap/
 * receiver.ts). Each case is one transfer: a controller that keeps its
 * window (block 0 alone, then up to `window` unacknowledged) on a link that
 * loses, reorders and duplicates, and resends what goes unacknowledged or is
 * refused; a sink whose writes finish late (and now and then fail); in half
 * the cases also mutated Image Data Requests and well-formed blocks under
 * any sequence number (stale, out of the window, forged). Invariants: no
 * exception; the transfer ends exactly once (never stuck while the
 * controller keeps sending); the sink gets bytes strictly in order (clean
 * cases: always a prefix of the image); a completed transfer's bytes are the
 * image; the sink never holds more than the receiver's queue allows plus a
 * window.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CapwapDecodeError, decodeControlMessage, encodeControlMessage, MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { type Element, type Message, profiles } from "../../agent/capwap/profiles/index.js";
import { MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import { seededRandom, silentLog, type Random } from "../../agent/core/index.js";
import { ImageDataReceiver, type ImageSink, type TransferOutcome } from "../../agent/transfer/index.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const settle = () => new Promise((resolve) => setImmediate(resolve));
const randomBytes = (random: Random, n: number) => Uint8Array.from({ length: n }, () => random.int(256));

/** A sink whose writes wait until the test lets them finish; it checks the order they come in. */
class LateSink implements ImageSink {
  readonly chunks: Uint8Array[] = [];
  readonly waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  maxWaiting = 0;
  finished: Uint8Array | undefined;
  constructor(
    readonly image: Uint8Array,
    readonly clean: boolean,
  ) {}
  async begin(): Promise<void> {}
  write(chunk: Uint8Array): Promise<void> {
    const at = this.chunks.reduce((n, c) => n + c.length, 0);
    this.chunks.push(Uint8Array.from(chunk));
    if (this.clean && Buffer.compare(chunk, this.image.subarray(at, at + chunk.length)) !== 0) throw new Error(`bytes at ${at} out of order`);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.maxWaiting = Math.max(this.maxWaiting, this.waiting.length);
    });
  }
  async finish() {
    this.finished = Buffer.concat(this.chunks);
    return {};
  }
  async abort(): Promise<void> {}
}

/** Let every write finish, those the receiver starts meanwhile too. */
async function drain(sink: LateSink): Promise<void> {
  do {
    for (const w of sink.waiting.splice(0)) w.resolve();
    await settle();
  } while (sink.waiting.length > 0);
}

interface Case {
  profile: (typeof profiles)[keyof typeof profiles];
  image: Uint8Array;
  window: number;
  maxQueuedBlocks: number;
  firstSeq: number;
  /** Mutated and forged requests too. */
  dirty: boolean;
  /** A sink write fails now and then. */
  sinkFails: boolean;
}

function makeCase(random: Random): Case {
  const profile = random.next() < 0.5 ? profiles.cisco : profiles.rfc5415;
  const blocks = 1 + random.int(10);
  const size = (blocks - 1) * profile.imageBlockSize + 1 + random.int(profile.imageBlockSize);
  return {
    profile,
    image: randomBytes(random, size),
    window: [1, 2, 3, 4, 8, MAX_IMAGE_WINDOW][random.int(6)]!,
    maxQueuedBlocks: [1, 2, 4, MAX_IMAGE_WINDOW][random.int(4)]!,
    firstSeq: random.int(256),
    dirty: random.next() < 0.5,
    sinkFails: random.next() < 0.1,
  };
}

/**
 * How often the controller sends a block before it gives up on the AP (RFC
 * 5415 MaxRetransmit and then some): a forged or stale block that reaches
 * the receiver first anchors its window elsewhere (by design, block 0 comes
 * first), and then only the image source's inactivity timer ends the
 * transfer — the receiver has no timer of its own.
 */
const GIVE_UP_AFTER = 12;

type RunOutcome = TransferOutcome | { ok: false; abandoned: true };

async function runCase(c: Case, random: Random): Promise<{ outcome: RunOutcome; sink: LateSink }> {
  const { profile, image, window } = c;
  const B = profile.imageBlockSize;
  const count = Math.ceil(image.length / B);
  const block = (i: number, seq = (c.firstSeq + i) & 0xff): Message => ({
    type: MessageType.ImageDataRequest,
    seq,
    elements: [profile.imageBlock(image.subarray(i * B, (i + 1) * B), i === count - 1)],
  });
  const sink = new LateSink(image, !c.dirty);
  const link: Message[] = [];
  const sent = new Map<number, number>();
  const send = (i: number) => {
    sent.set(i, (sent.get(i) ?? 0) + 1);
    link.push(block(i));
  };
  const acked = new Set<number>();
  let base = 0;
  let next = 0;
  let outcome: RunOutcome | undefined;
  let ends = 0;
  const receiver = new ImageDataReceiver({
    profile,
    window,
    size: image.length,
    md5: createHash("md5").update(image).digest(),
    sink,
    log: silentLog,
    maxQueuedBlocks: c.maxQueuedBlocks,
    respond: (request, code) => {
      // The answer reaches the controller, or is lost (the block goes again).
      if (random.next() < 0.1) return;
      const i = (request.seq - c.firstSeq) & 0xff;
      if (i < base || i >= next) return;
      if (code === ResultCode.Success) acked.add(i);
      else if (code === ResultCode.ImageDataErrorInvalidChecksum) send(i);
      while (acked.has(base)) base++;
    },
    onDone: (o) => {
      ends++;
      outcome = o;
    },
  });
  const deliver = (m: Message) => receiver.receive(m);
  for (let step = 0; outcome === undefined; step++) {
    if (base === count) {
      // The controller has every acknowledgement: what is on the link arrives, the sink catches up, the transfer ends.
      for (const m of link.splice(0)) deliver(m);
      await drain(sink);
      if (outcome) break;
      if (!c.dirty) throw new Error(`stuck: every block acknowledged, the transfer not ended`);
      outcome = { ok: false, abandoned: true };
      break;
    }
    if (step > 20_000) throw new Error(`stuck: ${base} of ${count} blocks acknowledged, ${sink.waiting.length} writes waiting`);
    switch (random.int(c.dirty ? 13 : 11)) {
      case 0:
      case 1:
      case 2:
      case 3:
        // The controller fills its window: block 0 alone, then up to `window` unacknowledged.
        if (next < count && next < base + window && (base > 0 || next === 0)) send(next++);
        break;
      case 4: {
        // A resend of something unacknowledged (its timeout, or a fast retransmit).
        const unacked = Array.from({ length: next - base }, (_, k) => base + k).filter((i) => !acked.has(i));
        if (unacked.length === 0) break;
        const i = unacked[random.int(unacked.length)]!;
        if (c.dirty && sent.get(i)! >= GIVE_UP_AFTER) outcome = { ok: false, abandoned: true };
        else send(i);
        break;
      }
      case 5:
      case 6:
      case 7:
      case 8: {
        if (link.length === 0) break;
        const at = random.int(link.length);
        const m = link[at]!;
        if (random.next() > 0.15) link.splice(at, 1); // else it arrives twice
        deliver(m);
        break;
      }
      case 9:
        if (link.length > 0) link.splice(random.int(link.length), 1);
        break;
      case 10: {
        for (let k = random.int(sink.waiting.length + 1); k > 0; k--) {
          const w = sink.waiting.shift()!;
          if (c.sinkFails && random.next() < 0.05) w.reject(new Error("disk full"));
          else w.resolve();
        }
        await settle();
        break;
      }
      case 11: {
        const bytes = mutate(encodeControlMessage(block(random.int(count)), profile.elements), [5], random);
        let m: Message;
        try {
          m = decodeControlMessage<Element>(bytes, profile.elements);
        } catch (err) {
          if (err instanceof CapwapDecodeError) break;
          throw err;
        }
        if (m.type === MessageType.ImageDataRequest) deliver(m);
        break;
      }
      default:
        // A well-formed block under any sequence number: stale, beyond the window, or forged.
        deliver(block(random.int(count), random.int(256)));
    }
    if (sink.waiting.length > c.maxQueuedBlocks + window) throw new Error(`${sink.waiting.length} writes waiting: the receiver queues beyond its bound`);
  }
  // Whatever still waits finishes; nothing may end the transfer a second time.
  await drain(sink);
  if (ends !== ("abandoned" in outcome ? 0 : 1)) throw new Error(`the transfer ended ${ends} times`);
  return { outcome, sink };
}

describe("ImageDataReceiver under a lossy, reordering link and forged requests", () => {
  it("ends each transfer once, writes in order, and completes only with the image", async () => {
    const cases = fuzzCases(300);
    const outcomes: Record<string, number> = {};
    for (let n = 0; n < cases; n++) {
      const random = seededRandom(7000 + n);
      const c = makeCase(random);
      let result: Awaited<ReturnType<typeof runCase>>;
      try {
        result = await runCase(c, random);
      } catch (err) {
        throw new Error(`case ${n} (seed ${7000 + n}, ${c.profile.name}, window ${c.window}, ${c.image.length} bytes, ${c.dirty ? "dirty" : "clean"}): ${(err as Error).stack}`);
      }
      const { outcome, sink } = result;
      const kind = outcome.ok ? "completed" : "abandoned" in outcome ? "left to the source's timer" : `failed ${outcome.error.reason}`;
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      if (outcome.ok && Buffer.compare(sink.finished!, c.image) !== 0) expect.fail(`case ${n}: completed with other bytes than the image`);
      // A clean transfer always completes, unless its sink failed.
      if (!c.dirty && !outcome.ok && !("abandoned" in outcome) && outcome.error.reason !== "sink") expect.fail(`case ${n}: a clean transfer failed: ${outcome.error.message}`);
    }
    console.log(`image receiver fuzz: ${cases} cases`, JSON.stringify(outcomes));
    expect(outcomes.completed).toBeGreaterThan(cases / 2);
    expect(Object.keys(outcomes).length).toBeGreaterThan(2);
  }, fuzzTimeout(fuzzCases(300), 20));
});
