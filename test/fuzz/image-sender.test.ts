/**
 * Seeded fuzz of the lab controller's image sender (lab/controller/
 * image-sender.ts) over its real control channel under a ManualClock. The
 * AP's side is played by the fuzz: Image Data Responses to any request sent
 * so far — in any order, again and again, long after (stale), refusing a
 * block (bad checksum), now and then refusing the transfer — responses
 * under random sequence numbers, mutated responses, and time passing
 * (retransmissions, timeouts). Invariants: no exception; the sender never
 * sends a new block a receive span past the oldest block the AP has not
 * acknowledged, and never holds more than a window of requests (their
 * retransmit timers); it ends exactly once, and once the AP stops answering
 * it ends within its retransmissions; a completed transfer sent every block
 * with the image's bytes.
 */
import { describe, expect, it } from "vitest";
import { ControlChannel } from "../../agent/capwap/channel/index.js";
import { CapwapDecodeError, decodeControlPacket, encodeControlPacket, MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { type Element, findElement, type Message, profiles } from "../../agent/capwap/profiles/index.js";
import { imageReceiveSpan, MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import { ManualClock, seededRandom, silentLog, type Random } from "../../agent/core/index.js";
import { ImageSender } from "../../lab/controller/image-sender.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const RETRANSMIT_MS = 3_000;
const MAX_RETRANSMIT = 5;

function runCase(random: Random): { outcome: string; blocks: number } {
  const profile = random.next() < 0.5 ? profiles.cisco : profiles.rfc5415;
  const B = profile.imageBlockSize;
  const count = 1 + random.int(30);
  const image = Uint8Array.from({ length: (count - 1) * B + 1 + random.int(B) }, () => random.int(256));
  const window = [1, 2, 3, 4, 8, MAX_IMAGE_WINDOW][random.int(6)]!;
  // An AP that announced its window buffers its receive span; one that did not, only the window.
  const span = random.next() < 0.5 ? imageReceiveSpan(window) : window;
  const refusals = random.next() < 0.2;
  const clock = new ManualClock();
  const packets: Uint8Array[] = [];
  const channel = new ControlChannel(
    { profile, clock, maxPacketSize: () => 1500, retransmitIntervalMs: RETRANSMIT_MS, maxRetransmit: MAX_RETRANSMIT, transmit: (p) => packets.push(p), onRequest: () => {}, onDiscard: () => {} },
    random.int(256),
  );
  const firstSeq = channel.nextSeq;
  const file = { name: "ap1g8", size: image.length, md5: new Uint8Array(16), read: (o: number, n: number) => image.subarray(o, o + n), close: () => {} };
  const ends: (Error | undefined)[] = [];
  const sender = new ImageSender({ channel, profile, file, window, span, clock, log: silentLog, maxTimeoutMs: RETRANSMIT_MS, onDone: (error) => ends.push(error) });

  /** Per block: the bytes it was last sent with; which blocks the AP acknowledged (as the sender counts it). */
  const sent = new Map<number, Uint8Array>();
  const acked = new Set<number>();
  const seqs: number[] = [];
  const oldestUnacked = () => {
    let i = 0;
    while (acked.has(i)) i++;
    return i;
  };
  /** What the sender put on the wire since last looked: every new block within the span. */
  const watch = () => {
    for (const p of packets.splice(0)) {
      const { message } = decodeControlPacket<Element>(p, profile.elements);
      if (!message) throw new Error("an image block fragmented at 1500 bytes");
      const index = (message.seq - firstSeq) & 0xff;
      const block = profile.readImageBlock(message.elements);
      if (block.kind !== "data") throw new Error(`block ${index} sent as ${block.kind}`);
      if (!sent.has(index) && index >= oldestUnacked() + span) throw new Error(`block ${index} sent with block ${oldestUnacked()} unacknowledged, span ${span}`);
      sent.set(index, Uint8Array.from(block.data));
      seqs.push(message.seq);
    }
    if (clock.pending().length > window) throw new Error(`${clock.pending().length} requests pending, window ${window}`);
  };
  /** A response reaches the sender; a Success one counts as the sender would. */
  const answer = (packet: Uint8Array) => {
    let response;
    try {
      response = decodeControlPacket<Element>(packet, profile.elements).message;
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
    }
    const pendingBefore = new Set(clock.pending());
    channel.receive(packet);
    if (response?.type === MessageType.ImageDataResponse && (findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success) === ResultCode.Success) {
      const index = (response.seq - firstSeq) & 0xff;
      // Only an answer to a request on the wire counts (the channel matched it: its timer went).
      if (pendingBefore.has(`retransmit-${response.seq}`) && !clock.pending().includes(`retransmit-${response.seq}`)) acked.add(index);
    }
  };
  const response = (seq: number, resultCode: number) => {
    const message: Message = { type: MessageType.ImageDataResponse, seq, elements: [{ kind: "ResultCode", resultCode }] };
    return encodeControlPacket(message, profile.elements);
  };

  sender.start();
  watch();
  for (let step = 0; step < 60 * count && ends.length === 0; step++) {
    const roll = random.int(20);
    if (roll < 12) {
      // An answer to something sent: mostly the newest, any of them now and then (stale, duplicate).
      if (seqs.length === 0) continue;
      const seq = random.next() < 0.7 ? seqs[seqs.length - 1 - random.int(Math.min(seqs.length, window))]! : seqs[random.int(seqs.length)]!;
      const r = random.next();
      answer(response(seq, r < 0.88 ? ResultCode.Success : r < 0.98 || !refusals ? ResultCode.ImageDataErrorInvalidChecksum : ResultCode.ImageDataErrorOtherError));
    } else if (roll < 14) answer(response(random.int(256), ResultCode.Success));
    else if (roll < 17) answer(mutate(response(seqs[random.int(seqs.length)] ?? 0, ResultCode.Success), [], random));
    else clock.advance(random.next() < 0.9 ? random.int(RETRANSMIT_MS / 4) : random.int(RETRANSMIT_MS + 500));
    watch();
  }
  // The AP goes silent: the sender ends within its retransmissions.
  clock.advance((MAX_RETRANSMIT + 2) * RETRANSMIT_MS);
  watch();
  if (ends.length !== 1) throw new Error(`the transfer ended ${ends.length} times`);
  const error = ends[0];
  if (!error) {
    const bytes = Buffer.concat(Array.from({ length: count }, (_, i) => sent.get(i) ?? new Uint8Array(0)));
    if (Buffer.compare(bytes, image) !== 0) throw new Error("completed, but the blocks sent are not the image");
    if (oldestUnacked() < count) throw new Error(`completed with block ${oldestUnacked()} unacknowledged`);
  }
  return { outcome: error ? `failed: ${error.message.replace(/\d+/g, "N")}` : "completed", blocks: count };
}

describe("ImageSender under random, duplicate, stale and mutated acknowledgements", () => {
  it("stays within its window, ends once, and completes only with every block acknowledged", () => {
    const cases = fuzzCases(400);
    const outcomes: Record<string, number> = {};
    for (let n = 0; n < cases; n++) {
      let outcome: string;
      try {
        ({ outcome } = runCase(seededRandom(9000 + n)));
      } catch (err) {
        throw new Error(`case ${n} (seed ${9000 + n}): ${(err as Error).stack}`);
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    console.log(`image sender fuzz: ${cases} cases`, JSON.stringify(outcomes));
    expect(outcomes.completed).toBeGreaterThan(cases / 4);
    expect(Object.keys(outcomes).length).toBeGreaterThan(1);
  }, fuzzTimeout(fuzzCases(400), 10));
});
