/**
 * The two machines against each other on a simulated link (ManualClock,
 * seeded loss, reordering and duplication, a slow sink): every run is the
 * same run, and each must deliver the file exactly, with traffic that
 * stays near the minimum (duplicates answered by duplicates — the
 * Sorcerer's Apprentice — would multiply it). With `armsReplies` the
 * sender's shell holds armed replies as the native socket does: the armed
 * window leaves the moment its ACK arrives, and the ACK reaches the machine
 * answered.
 */
import { describe, expect, it } from "vitest";
import { ManualClock, type Random, seededRandom } from "../../../agent/core/index.js";
import { negotiateAsServer } from "../../../agent/transfer/tftp/options.js";
import { decodePacket, encodePacket, Opcode, type TftpPacket } from "../../../agent/transfer/tftp/packet.js";
import { initialReceiver, type ReceiverInput, receiverStep } from "../../../agent/transfer/tftp/receiver.js";
import { initialSender, type SenderInput, senderStep } from "../../../agent/transfer/tftp/sender.js";
import { content, sha256 } from "./support.js";

interface Link {
  loss: number;
  reorder: number;
  duplicate: number;
}

interface Outcome {
  received: Uint8Array;
  receiver: string;
  sender: string;
  packets: number;
  dropped: number;
  elapsedMs: number;
}

/** Runs one transfer to the end (both machines finished) on simulated time. */
function simulate(file: Uint8Array, request: { blockSize: number; windowSize: number }, link: Link, random: Random, sinkDelayMs = 0, armsReplies = false): Outcome {
  const clock = new ManualClock();
  const chunks: Uint8Array[] = [];
  let receiverOutcome = "running";
  let senderOutcome = "running";
  let packets = 0;
  let dropped = 0;
  let receiver = initialReceiver("image", { ...request, askSize: true }, 200);
  let sender: ReturnType<typeof initialSender> | undefined;
  let senderTimer: { cancel(): void } | undefined;
  let armed: { ack: number; packets: TftpPacket[] } | undefined;
  let receiverTimer: { cancel(): void } | undefined;

  const carry = (packet: TftpPacket, deliver: (p: TftpPacket) => void) => {
    packets++;
    const bytes = encodePacket(packet);
    if (random.next() < link.loss) return void dropped++;
    const copies = random.next() < link.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) clock.setTimer("link", 5 + (random.next() < link.reorder ? 3 + random.int(10) : 0), () => deliver(decodePacket(bytes)));
  };

  function toSender(input: SenderInput): void {
    if (!sender) return;
    const step = senderStep(sender, input);
    sender = step.state;
    for (const e of step.effects) {
      if (e.type === "send") carry(e.packet, (p) => toReceiver({ type: "packet", packet: p }));
      else if (e.type === "arm-reply") armed = e;
      else if (e.type === "disarm") armed = undefined;
      else if (e.type === "arm") {
        senderTimer?.cancel();
        senderTimer = clock.setTimer("sender", e.ms, () => toSender({ type: "timeout" }));
      } else if (e.type === "read") {
        const size = sender.options.blockSize;
        const data = file.subarray((e.first - 1) * size, (e.first - 1 + e.count) * size);
        clock.setTimer("disk", 0, () => toSender({ type: "read", first: e.first, count: e.count, data }));
      } else {
        senderTimer?.cancel();
        senderOutcome = e.type === "failed" ? `failed ${e.reason}` : "done";
      }
    }
  }

  /** The sender's socket: an armed reply leaves on its ACK before the machine hears of it. */
  function ackToSender(block: number): void {
    const reply = armed?.ack === block ? armed : undefined;
    if (reply) {
      armed = undefined;
      for (const packet of reply.packets) carry(packet, (p) => toReceiver({ type: "packet", packet: p }));
    }
    toSender({ type: "ack", block, answered: reply !== undefined });
  }

  function toServer(p: TftpPacket): void {
    if (p.opcode !== Opcode.ReadRequest || sender) return;
    const { acknowledged, options } = negotiateAsServer(p.options, file.length);
    sender = initialSender({ ...options, timeoutMs: 200 }, acknowledged.size ? { opcode: Opcode.OptionAck, options: acknowledged } : undefined, undefined, armsReplies);
    toSender({ type: "start" });
  }

  function toReceiver(input: ReceiverInput): void {
    const step = receiverStep(receiver, input);
    receiver = step.state;
    for (const e of step.effects) {
      if (e.type === "send") {
        carry(e.packet, (p) => {
          if (e.to === "server") toServer(p);
          else if (p.opcode === Opcode.Ack) ackToSender(p.block);
          else if (p.opcode === Opcode.Error) toSender({ type: "peer-error", code: p.code, message: p.message });
        });
      } else if (e.type === "arm") {
        receiverTimer?.cancel();
        receiverTimer = clock.setTimer("receiver", e.ms, () => toReceiver({ type: "timeout" }));
      } else if (e.type === "begin" || e.type === "write") {
        if (e.type === "write") chunks.push(e.data);
        clock.setTimer("sink", sinkDelayMs, () => toReceiver({ type: "sink-ready", calls: 1 }));
      } else if (e.type === "complete" || e.type === "failed") {
        receiverOutcome = e.type === "failed" ? `failed ${e.reason}` : "complete";
      } else {
        receiverTimer?.cancel();
      }
    }
  }

  toReceiver({ type: "start" });
  for (let i = 0; i < 1_000_000 && (receiverOutcome === "running" || senderOutcome === "running"); i++) clock.advance(5);
  return { received: Buffer.concat(chunks), receiver: receiverOutcome, sender: senderOutcome, packets, dropped, elapsedMs: clock.now() };
}

describe("TFTP machines over a simulated lossy link", () => {
  const cases: [string, number, number, number, Link][] = [
    ["clean, lock-step", 10_000, 512, 1, { loss: 0, reorder: 0, duplicate: 0 }],
    ["empty file", 0, 512, 4, { loss: 0.05, reorder: 0, duplicate: 0 }],
    ["exact multiple of the block", 512 * 32, 512, 8, { loss: 0.05, reorder: 0.05, duplicate: 0.02 }],
    ["5 % loss, lock-step", 100_000, 512, 1, { loss: 0.05, reorder: 0, duplicate: 0.01 }],
    ["5 % loss, reordering, window 16", 300_000, 1468, 16, { loss: 0.05, reorder: 0.05, duplicate: 0.01 }],
    ["20 % loss, window 4", 50_000, 512, 4, { loss: 0.2, reorder: 0.1, duplicate: 0.05 }],
  ];
  it.each(cases.flatMap(([name, ...rest]) => [[name, ...rest, false] as const, [`${name}, armed replies`, ...rest, true] as const]))("%s: the file arrives exactly", (_name, size, blockSize, windowSize, link, armsReplies) => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const file = content(size, seed);
      const out = simulate(file, { blockSize, windowSize }, link, seededRandom(seed), 1, armsReplies);
      expect({ seed, receiver: out.receiver, sender: out.sender }).toEqual({ seed, receiver: "complete", sender: "done" });
      expect(sha256(out.received)).toBe(sha256(file));
      // RRQ, OACK, ACK 0, every block, an ACK per window. Loss costs go-back-N resends of the window's
      // rest (about 3x at 5 % and window 16); answering duplicates with duplicates would grow without bound.
      const blocks = Math.floor(size / blockSize) + 1;
      const minimum = 3 + blocks + Math.ceil(blocks / windowSize);
      if (link.loss === 0 && link.duplicate === 0) expect(out.packets).toBe(minimum);
      else expect(out.packets).toBeLessThan(minimum * 5);
    }
  });

  it("past 65535 blocks (rollover) with 1 % loss and window 16", () => {
    const file = content(8 * 65_540 + 5);
    const out = simulate(file, { blockSize: 8, windowSize: 16 }, { loss: 0.01, reorder: 0.01, duplicate: 0 }, seededRandom(7));
    expect([out.receiver, out.sender]).toEqual(["complete", "done"]);
    expect(out.dropped).toBeGreaterThan(0);
    expect(sha256(out.received)).toBe(sha256(file));
  });

  it("a link that drops everything from the server: the client gives up as unreachable, with back-off", () => {
    const out = simulate(content(100), { blockSize: 512, windowSize: 1 }, { loss: 1, reorder: 0, duplicate: 0 }, seededRandom(1));
    expect(out.receiver).toBe("failed unreachable");
    // The RRQ, then again after 200, 400, 800, 1600 and 3200 ms; the last wait (6400 ms) ends it: 6 requests.
    expect(out.packets).toBe(6);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(200 + 400 + 800 + 1600 + 3200 + 6400);
  });
});
