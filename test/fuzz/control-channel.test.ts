/**
 * Seeded fuzz of the control channel's request/response sequencing
 * (agent/capwap/channel/control-channel.ts) against a live peer: two
 * channels under a ManualClock, wired through an in-memory link that loses,
 * delays (and so reorders) and duplicates packets, with a small packet size
 * so that long requests and responses travel in fragments. Both sides send
 * requests (up to a few outstanding each); the peer answers at once, later,
 * or never. In half the cases packets are also mutated on the wire.
 * Invariants: no exception; every request ends exactly once — its response
 * or its timeout, never both, never twice; a response is the answer the
 * peer gave to that request's type and sequence number (clean cases: to
 * that very request); a retransmitted or duplicated request reaches the
 * peer once, unless the response cache (64 sequence numbers) forgot it;
 * nothing is left armed once every request has ended.
 */
import { describe, expect, it } from "vitest";
import { ControlChannel } from "../../agent/capwap/channel/index.js";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { findElement, type Message, profiles } from "../../agent/capwap/profiles/index.js";
import { ManualClock, seededRandom, type Random } from "../../agent/core/index.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const RETRANSMIT_MS = 3_000;
const MAX_RETRANSMIT = 5;
const MAX_DELAY_MS = 200;
/** The channel's response cache, in sequence numbers. */
const RESPONSE_CACHE = 64;
const TYPES = [MessageType.EchoRequest, MessageType.ConfigurationUpdateRequest, MessageType.WtpEventRequest, MessageType.DataTransferRequest, MessageType.ClearConfigurationRequest];

interface Sent {
  id: number;
  type: number;
  name: string;
  seq: number;
  responses: Message[];
  timeouts: number;
}

interface Side {
  channel: ControlChannel;
  /** Requests sent, by id. */
  sent: Sent[];
  /** The requests delivered to this side's onRequest, in order, and the answer token each got. */
  delivered: Message[];
}

function runCase(random: Random): Record<string, number> {
  const profile = random.next() < 0.5 ? profiles.cisco : profiles.rfc5415;
  const dirty = random.next() < 0.5;
  const maxPacket = [96, 160, 400, 1400][random.int(4)]!;
  const loss = [0, 0.05, 0.2][random.int(3)]!;
  const clock = new ManualClock();
  const counts: Record<string, number> = {};
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const sides: Side[] = [];
  let nextId = 0;

  const wire = (to: () => Side) => (packet: Uint8Array) => {
    if (random.next() < loss) return void count("lost");
    for (let copies = random.next() < 0.05 ? 2 : 1; copies > 0; copies--) {
      const bytes = dirty && random.next() < 0.05 ? (count("mutated"), mutate(packet, [], random)) : packet;
      clock.setTimer("wire", 1 + random.int(MAX_DELAY_MS), () => to().channel.receive(bytes));
    }
  };
  /** The peer's answer names which delivered request it answers: "<index>|<the request's WtpName>". */
  const answer = (side: Side, request: Message, at: number) => {
    const name = findElement(request.elements, "WtpName")?.name ?? "";
    side.channel.respond(request, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "AcName", name: `${at}|${name}` },
    ]);
  };
  for (const index of [0, 1]) {
    const side: Side = {
      sent: [],
      delivered: [],
      channel: new ControlChannel(
        {
          profile,
          clock,
          maxPacketSize: () => maxPacket,
          retransmitIntervalMs: RETRANSMIT_MS,
          maxRetransmit: MAX_RETRANSMIT,
          transmit: wire(() => sides[1 - index]!),
          onRequest: (request) => {
            const at = side.delivered.push(request) - 1;
            const r = random.next();
            if (r < 0.7) answer(side, request, at);
            else if (r < 0.9) clock.setTimer("answer", random.int(RETRANSMIT_MS * 2), () => answer(side, request, at));
            else count("left unanswered");
          },
          onDiscard: () => count("discarded"),
        },
        random.int(256),
      ),
    };
    sides.push(side);
  }

  const request = (from: Side, peer: Side) => {
    const type = TYPES[random.int(TYPES.length)]!;
    const id = nextId++;
    const name = `r${id}-${"x".repeat(random.next() < 0.3 ? random.int(480) : random.int(16))}`;
    const sent: Sent = { id, type, name, seq: -1, responses: [], timeouts: 0 };
    from.sent.push(sent);
    const pending = from.channel.request(
      { type, elements: [{ kind: "WtpName", name }] },
      (response) => {
        sent.responses.push(response);
        if (sent.responses.length + sent.timeouts > 1) throw new Error(`request ${id} ended twice`);
        if (response.type !== type + 1 || response.seq !== sent.seq) throw new Error(`request ${id} (type ${type}, seq ${sent.seq}) got type ${response.type}, seq ${response.seq}`);
        const [at, echoed] = (findElement(response.elements, "AcName")?.name ?? "").split("|");
        const answered = peer.delivered[Number(at)];
        if (dirty) return; // a mutated packet may carry any name: type and seq are what the channel matches
        if (!answered || answered.seq !== sent.seq || answered.type !== type || echoed !== name) throw new Error(`request ${id} (${name.slice(0, 12)}…) got the answer to ${echoed?.slice(0, 12)}…`);
      },
      () => {
        sent.timeouts++;
        if (sent.responses.length + sent.timeouts > 1) throw new Error(`request ${id} ended twice`);
      },
    );
    sent.seq = pending.seq;
  };
  const outstanding = (side: Side) => side.sent.filter((s) => s.responses.length + s.timeouts === 0).length;

  for (let step = 0; step < 300; step++) {
    const from = random.int(2);
    // Up to a few outstanding each way: far below the response cache, as a session's requests are.
    if (random.next() < 0.3 && outstanding(sides[from]!) < 4) request(sides[from]!, sides[1 - from]!);
    else clock.advance(random.int(random.next() < 0.9 ? MAX_DELAY_MS : RETRANSMIT_MS));
  }
  // Quiet: every retransmission runs out, every delayed answer and packet arrives.
  clock.advance((MAX_RETRANSMIT + 2) * RETRANSMIT_MS + MAX_DELAY_MS * 2);

  for (const [s, side] of sides.entries()) {
    const peer = sides[1 - s]!;
    for (const sent of side.sent) {
      if (sent.responses.length + sent.timeouts !== 1) throw new Error(`request ${sent.id} ended ${sent.responses.length + sent.timeouts} times`);
      count(sent.responses.length ? "answered" : "timed out");
    }
    if (dirty) continue;
    // A request reached the peer twice only when the peer's cache had forgotten it: 64 other sequence numbers came between.
    for (const [i, m] of peer.delivered.entries()) {
      const again = peer.delivered.findIndex((o, j) => j > i && o.seq === m.seq && findElement(o.elements, "WtpName")?.name === findElement(m.elements, "WtpName")?.name);
      if (again < 0) continue;
      const between = new Set(peer.delivered.slice(i + 1, again).map((o) => o.seq));
      if (between.size < RESPONSE_CACHE) throw new Error(`a retransmission of seq ${m.seq} reached the peer again after only ${between.size} other requests`);
    }
  }
  if (clock.pending().length > 0) throw new Error(`still armed after every request ended: ${clock.pending().join(", ")}`);
  return counts;
}

describe("control channel request/response sequencing on a lossy, reordering, duplicating link", () => {
  it("ends every request once with its own answer or a timeout, answers retransmissions from the cache", () => {
    const cases = fuzzCases(60);
    const totals: Record<string, number> = {};
    for (let n = 0; n < cases; n++) {
      let counts: Record<string, number>;
      try {
        counts = runCase(seededRandom(3000 + n));
      } catch (err) {
        throw new Error(`case ${n} (seed ${3000 + n}): ${(err as Error).stack}`);
      }
      for (const [k, v] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + v;
    }
    console.log(`control channel fuzz: ${cases} cases`, JSON.stringify(totals));
    expect(totals.answered).toBeGreaterThan(0);
    expect(totals["timed out"]).toBeGreaterThan(0);
    expect(totals.mutated).toBeGreaterThan(0);
  }, fuzzTimeout(fuzzCases(60), 100));
});
