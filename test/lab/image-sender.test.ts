/**
 * The controller's image sender on a simulated link (ManualClock, 50 ms each
 * way, losses injected by block and transmission): a lost block goes again
 * as soon as later blocks' acknowledgements show it lost, not when its timer
 * expires; the timer still recovers what no later acknowledgement can show.
 * With a receive span past the window (a vap AP), new blocks keep going out
 * while the lost one goes again; never more than the window unacknowledged,
 * never past the span.
 */
import { describe, expect, it } from "vitest";
import { ControlChannel } from "../../agent/capwap/channel/index.js";
import { decodeControlPacket, ResultCode } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Element } from "../../agent/capwap/profiles/index.js";
import { imageReceiveSpan, MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import { ManualClock, silentLog } from "../../agent/core/index.js";
import { FAST_RETRANSMIT_AFTER, ImageSender } from "../../lab/controller/image-sender.js";

const ONE_WAY_MS = 50;
const BLOCK = ciscoProfile.imageBlockSize;

interface Event {
  index: number;
  at: number;
}

type Wire = (direction: "request" | "response", index: number, nth: number) => boolean;

/** What the controller did and saw, in order: a request sent (`nth` transmission of the block), an acknowledgement received. */
type WireEvent = { kind: "send"; index: number; nth: number } | { kind: "ack"; index: number };

/**
 * One transfer of `blocks` blocks (fewer than 256: sequence number = block
 * index); `lose(direction, index, nth)` loses the nth transmission of a
 * block's request or response, `slow` delays it by a second on top of the
 * one-way time. The span defaults to the window: an AP that announced none.
 */
function transfer(window: number, blocks: number, lose: Wire, { slow = () => false, span = window }: { slow?: Wire; span?: number } = {}) {
  const clock = new ManualClock();
  const sent: Event[] = [];
  const acked: Event[] = [];
  const events: WireEvent[] = [];
  const counts = { request: new Map<number, number>(), response: new Map<number, number>() };
  const index = (packet: Uint8Array) => decodeControlPacket<Element>(packet, ciscoProfile.elements).message!.seq;
  const wire = (direction: "request" | "response", packet: Uint8Array, deliver: () => void) => {
    const i = index(packet);
    const nth = (counts[direction].get(i) ?? 0) + 1;
    counts[direction].set(i, nth);
    if (direction === "request") {
      sent.push({ index: i, at: clock.now() });
      events.push({ kind: "send", index: i, nth });
    }
    if (!lose(direction, i, nth)) clock.setTimer("wire", ONE_WAY_MS + (slow(direction, i, nth) ? 1000 : 0), deliver);
  };
  const discards: string[] = [];
  const common = { profile: ciscoProfile, clock, maxPacketSize: () => 1500, retransmitIntervalMs: 3_000, maxRetransmit: 5, onDiscard: (reason: string) => discards.push(reason) };
  const controller: ControlChannel = new ControlChannel({
    ...common,
    transmit: (p) => wire("request", p, () => ap.receive(p)),
    onRequest: () => {},
  });
  const ap: ControlChannel = new ControlChannel({
    ...common,
    transmit: (p) =>
      wire("response", p, () => {
        acked.push({ index: index(p), at: clock.now() });
        events.push({ kind: "ack", index: index(p) });
        controller.receive(p);
      }),
    onRequest: (m) => ap.respond(m, [{ kind: "ResultCode", resultCode: ResultCode.Success }]),
  });
  const image = new Uint8Array(blocks * BLOCK);
  const file = { name: "ap1g8", size: image.length, md5: new Uint8Array(16), read: (o: number, n: number) => image.subarray(o, o + n), close: () => {} };
  let done: { at: number; error?: Error | undefined } | undefined;
  const sender = new ImageSender({ channel: controller, profile: ciscoProfile, file, window, span, clock, log: silentLog, maxTimeoutMs: 3_000, onDone: (error) => (done = { at: clock.now(), error }) });
  sender.start();
  for (let t = 0; t < 60_000 && !done; t += 1) clock.advance(1);
  const transmissions = (i: number) => sent.filter((e) => e.index === i).map((e) => e.at);
  return { sender, sent, acked, events, done, transmissions, discards };
}

/** Replays the wire log: the most blocks ever unacknowledged, and the farthest any new block went past the oldest unacknowledged one. */
function extent(events: readonly WireEvent[]): { inFlight: number; reach: number } {
  const unacked = new Set<number>();
  let inFlight = 0;
  let reach = 0;
  for (const e of events) {
    if (e.kind === "ack") {
      unacked.delete(e.index);
    } else if (e.nth === 1) {
      unacked.add(e.index);
      inFlight = Math.max(inFlight, unacked.size);
      reach = Math.max(reach, e.index - Math.min(...unacked) + 1);
    }
  }
  return { inFlight, reach };
}

describe("image sender: fast retransmit", () => {
  it("a lost block goes again when the third later block is acknowledged, a round trip after it was sent, not at its timeout", () => {
    const lost = 10;
    const t = transfer(8, 40, (direction, i, nth) => direction === "request" && i === lost && nth === 1);
    expect(t.done).toMatchObject({ error: undefined });
    const [first, again, ...more] = t.transmissions(lost);
    expect(more).toEqual([]);
    // The acknowledgements of blocks sent after it, in the order they came: the third is the proof.
    const laterAcks = t.acked.filter((a) => a.index > lost && a.at >= first!).map((a) => a.at);
    expect(again).toBe(laterAcks[FAST_RETRANSMIT_AFTER - 1]);
    expect(again! - first!).toBe(2 * ONE_WAY_MS);
    expect(t.sender.stats).toMatchObject({ sent: 40, retransmits: 1 });
  });

  it("a lost acknowledgement is recovered the same way (the AP answers the copy from its cache)", () => {
    const t = transfer(8, 40, (direction, i, nth) => direction === "response" && i === 10 && nth === 1);
    expect(t.done).toMatchObject({ error: undefined });
    const [first, again] = t.transmissions(10);
    expect(again! - first!).toBe(2 * ONE_WAY_MS);
    expect(t.sender.stats.retransmits).toBe(1);
  });

  it("in a window of 2 one later acknowledgement is proof enough: no window waits for its timer", () => {
    // Blocks go in pairs (1 and 2, 3 and 4, …): block 9 has block 10 in flight beside it.
    const t = transfer(2, 30, (direction, i, nth) => direction === "request" && i === 9 && nth === 1);
    expect(t.done).toMatchObject({ error: undefined });
    const [first, again] = t.transmissions(9);
    expect(again! - first!).toBe(2 * ONE_WAY_MS);
  });

  it("on a steady link with no loss nothing goes twice: the timeout stays clear of the round trip", () => {
    const t = transfer(8, 300, () => false);
    expect(t.done).toMatchObject({ error: undefined });
    expect(t.sender.stats.retransmits).toBe(0);
    expect(t.sent).toHaveLength(300);
  });

  it("the last block, with nothing after it to show it lost, is recovered by its timer", () => {
    const last = 19;
    const t = transfer(8, 20, (direction, i, nth) => direction === "request" && i === last && nth === 1);
    expect(t.done).toMatchObject({ error: undefined });
    const [first, again] = t.transmissions(last);
    // The adaptive timeout: more than the 100 ms round trip it measured, far less than RetransmitInterval.
    expect(again! - first!).toBeGreaterThan(2 * ONE_WAY_MS);
    expect(again! - first!).toBeLessThan(3_000);
  });

  it("an acknowledgement slower than the retransmission: the late copy is counted as a late ack, not discarded", () => {
    const t = transfer(8, 250, () => false, { slow: (direction, i, nth) => direction === "response" && i === 10 && nth === 1 });
    expect(t.done).toMatchObject({ error: undefined });
    expect(t.transmissions(10)).toHaveLength(2);
    expect(t.sender.stats.lateAcks).toBe(1);
    expect(t.discards).toEqual([]);
  });

  it("a block lost on every transmission ends the transfer after MaxRetransmit", () => {
    const t = transfer(8, 20, (direction, i) => direction === "request" && i === 5);
    expect(t.done?.error?.message).toBe("no answer to image block 5 after retransmissions");
    expect(t.transmissions(5)).toHaveLength(6);
  });
});

describe("image sender: the receive span", () => {
  const WINDOW = 8;
  const SPAN = imageReceiveSpan(WINDOW);
  const lostOnce = (lost: number) => (direction: "request" | "response", i: number, nth: number) => direction === "request" && i === lost && nth === 1;
  /** New blocks sent after the lost block went again and before its acknowledgement came. */
  const sentWhileResent = (events: readonly WireEvent[], lost: number) => {
    const resent = events.findIndex((e) => e.kind === "send" && e.index === lost && e.nth === 2);
    const answered = events.findIndex((e, at) => at > resent && e.kind === "ack" && e.index === lost);
    return events.slice(resent, answered).filter((e) => e.kind === "send" && e.nth === 1).length;
  };

  it("after a single loss new blocks keep going out while the lost one goes again: the transfer ends when a lossless one does", () => {
    const lossless = transfer(WINDOW, 40, () => false, { span: SPAN });
    const t = transfer(WINDOW, 40, lostOnce(10), { span: SPAN });
    expect(t.done).toMatchObject({ error: undefined });
    expect(t.transmissions(10)).toHaveLength(2);
    expect(sentWhileResent(t.events, 10)).toBeGreaterThan(0);
    expect(t.done!.at).toBe(lossless.done!.at);
    expect(extent(t.events)).toEqual({ inFlight: WINDOW, reach: 16 });
  });

  it("never more than the window unacknowledged, never past the span, through losses of requests, acknowledgements and a resent block", () => {
    const lose = (direction: "request" | "response", i: number, nth: number) =>
      (direction === "request" && [10, 11, 30, 31, 32].includes(i) && nth === 1) || (direction === "request" && i === 60 && nth <= 2) || (direction === "response" && i === 45 && nth === 1);
    const t = transfer(WINDOW, 200, lose, { span: SPAN });
    expect(t.done).toMatchObject({ error: undefined });
    const { inFlight, reach } = extent(t.events);
    expect(inFlight).toBe(WINDOW);
    expect(reach).toBeGreaterThan(WINDOW);
    expect(reach).toBeLessThanOrEqual(SPAN);
  });

  it("an AP that announced no window (span = window) gets nothing past the window: the loss costs a round trip", () => {
    const lossless = transfer(WINDOW, 40, () => false);
    const t = transfer(WINDOW, 40, lostOnce(10));
    expect(t.done).toMatchObject({ error: undefined });
    expect(sentWhileResent(t.events, 10)).toBe(0);
    expect(t.done!.at - lossless.done!.at).toBe(2 * ONE_WAY_MS);
    expect(extent(t.events)).toEqual({ inFlight: WINDOW, reach: WINDOW });
  });

  it("the span is twice the window, capped where the sequence numbers in use stay a quarter of the 8-bit space", () => {
    expect([1, 4, 8, 20, 32, 33, MAX_IMAGE_WINDOW].map(imageReceiveSpan)).toEqual([2, 8, 16, 40, 64, 64, MAX_IMAGE_WINDOW]);
  });
});
