/** The client's transfer machine, row by row. */
import { describe, expect, it } from "vitest";
import { Opcode, type TftpPacket, TftpErrorCode } from "../../../agent/transfer/tftp/packet.js";
import { initialReceiver, type ReceiverEffect, type ReceiverInput, type ReceiverState, receiverStep } from "../../../agent/transfer/tftp/receiver.js";

function brief(effects: ReceiverEffect[]): string[] {
  return effects.map((e) => {
    if (e.type === "send") {
      const p = e.packet;
      const what = p.opcode === Opcode.Ack ? `ACK ${p.block}` : p.opcode === Opcode.Error ? `ERROR ${p.code}` : p.opcode === Opcode.ReadRequest ? `RRQ ${[...p.options.keys()].join(",")}` : `opcode ${p.opcode}`;
      return `${what} -> ${e.to}`;
    }
    if (e.type === "arm") return `arm ${e.ms}`;
    if (e.type === "begin") return `begin ${e.size ?? "?"}`;
    if (e.type === "write") return `write ${e.data.length}`;
    if (e.type === "failed") return `failed ${e.reason}`;
    return e.type;
  });
}

class Harness {
  state: ReceiverState;
  /** Lead 0 unless asked: every ACK waits for the sink, so each row shows the back-pressure. */
  constructor(request = { blockSize: 512, windowSize: 4, askSize: true } as Parameters<typeof initialReceiver>[1], sinkLeadBytes = 0) {
    this.state = initialReceiver("ap1g8", request, 1000, undefined, sinkLeadBytes);
  }
  step(input: ReceiverInput): string[] {
    const { state, effects } = receiverStep(this.state, input);
    this.state = state;
    return brief(effects);
  }
  packet(packet: TftpPacket): string[] {
    return this.step({ type: "packet", packet });
  }
  data(block: number, length = 512): string[] {
    return this.packet({ opcode: Opcode.Data, block, data: new Uint8Array(length) });
  }
  oack(entries: [string, string][]): string[] {
    return this.packet({ opcode: Opcode.OptionAck, options: new Map(entries) });
  }
  /** The sink finishes `n` calls (one input, as the client's shell reports a write of n blocks). */
  ready(n = 1): string[] {
    return this.step({ type: "sink-ready", calls: n });
  }
}

describe("TFTP receiver machine", () => {
  it("asks with options, ACKs the OACK once the sink has begun, ACKs each full window only after the sink took it", () => {
    const h = new Harness();
    expect(h.step({ type: "start" })).toEqual(["RRQ blksize,tsize,windowsize -> server", "arm 1000"]);
    expect(h.oack([["blksize", "512"], ["windowsize", "2"], ["tsize", "1100"]])).toEqual(["begin 1100"]);
    expect(h.ready()).toEqual(["ACK 0 -> peer", "arm 1000"]);
    expect(h.data(1)).toEqual(["write 512"]);
    expect(h.data(2)).toEqual(["write 512"]);
    // Back-pressure: window complete, but the sink still holds two writes.
    expect(h.ready()).toEqual([]);
    expect(h.ready()).toEqual(["ACK 2 -> peer", "arm 1000"]);
    expect(h.data(3, 76)).toEqual(["write 76"]);
    expect(h.ready()).toEqual(["ACK 3 -> peer", "arm 8000", "complete"]);
    // Dally (8 waits, the back-off cap): the final DATA again means our last ACK was lost; it is ACKed again each time.
    expect(h.data(3, 76)).toEqual(["ACK 3 -> peer", "arm 8000"]);
    expect(h.data(3, 76)).toEqual(["ACK 3 -> peer", "arm 8000"]);
    expect(h.data(2)).toEqual([]);
    // Complete: a late cancel changes nothing.
    expect(h.step({ type: "abort", reason: "aborted", code: TftpErrorCode.NotDefined, message: "late" })).toEqual([]);
    expect(h.step({ type: "timeout" })).toEqual(["closed"]);
    expect(h.state.phase).toBe("done");
  });

  it("with a lead, ACKs run ahead of the sink by at most the lead; ACK 0 waits for begin, the final ACK for every write", () => {
    // Lead of 3 blocks, window 2: the sink may hold 3 writes when an ACK is due.
    const h = new Harness({ blockSize: 512, windowSize: 2, askSize: true }, 3 * 512);
    h.step({ type: "start" });
    expect(h.oack([["blksize", "512"], ["windowsize", "2"], ["tsize", "3000"]])).toEqual(["begin 3000"]);
    expect(h.ready()).toEqual(["ACK 0 -> peer", "arm 1000"]);
    h.data(1);
    // Two writes held, within the lead: the ACK goes out at once.
    expect(h.data(2)).toEqual(["write 512", "ACK 2 -> peer", "arm 1000"]);
    h.data(3);
    // Four held: over the lead, the ACK waits until the sink is back within it.
    expect(h.data(4)).toEqual(["write 512"]);
    // The peer is not silent: we hold the ACK, so a timeout only waits again.
    expect(h.step({ type: "timeout" })).toEqual(["arm 1000"]);
    expect(h.ready()).toEqual(["ACK 4 -> peer", "arm 1000"]);
    // An ACK sent and the sink still busy within its lead: a timeout is the peer's silence, and the ACK goes again.
    expect(h.step({ type: "timeout" })).toEqual(["ACK 4 -> peer", "arm 2000"]);
    h.data(5);
    expect(h.data(6, 440)).toEqual(["write 440"]);
    expect(h.ready(4)).toEqual([]);
    expect(h.ready()).toEqual(["ACK 6 -> peer", "arm 8000", "complete"]);
    expect(h.state.bytes).toBe(3000);
  });

  it("one sink-ready for n calls (a write of n gathered blocks) does what n sink-readies do, at every point of a transfer", () => {
    // Lead of 3 blocks, window 2, 9 blocks: ACKs held and released, the final one, in every split of the sink's completions.
    for (let split = 1; split <= 10; split++) {
      const run = (one: boolean) => {
        const h = new Harness({ blockSize: 512, windowSize: 2, askSize: true }, 3 * 512);
        const effects = [...h.step({ type: "start" }), ...h.oack([["blksize", "512"], ["windowsize", "2"], ["tsize", String(8 * 512 + 100)]])];
        let busy = 1;
        for (let block = 1; block <= 9; block++) {
          effects.push(...h.data(block, block === 9 ? 100 : 512));
          busy++;
          if (busy >= split || block === 9) {
            if (one) effects.push(...h.ready(busy));
            else for (; busy > 0; busy--) effects.push(...h.ready());
            busy = 0;
          }
        }
        return { effects, state: h.state };
      };
      expect(run(true)).toEqual(run(false));
    }
  });

  it("without options, the first block's ACK waits for the sink to begin even within the lead", () => {
    const h = new Harness(undefined, 1 << 20);
    h.step({ type: "start" });
    expect(h.data(1)).toEqual(["begin ?", "write 512"]);
    expect(h.ready()).toEqual(["ACK 1 -> peer", "arm 1000"]);
  });

  it("a server without options answers DATA 1: RFC 1350 defaults, no size", () => {
    const h = new Harness();
    h.step({ type: "start" });
    expect(h.data(1, 10)).toEqual(["begin ?", "write 10"]);
    expect(h.ready(2)).toEqual(["ACK 1 -> peer", "arm 8000", "complete"]);
    expect(h.state.options.blockSize).toBe(512);
  });

  it("ERROR 8 to the request: asks again without options (RFC 2347 §2)", () => {
    const h = new Harness();
    h.step({ type: "start" });
    expect(h.packet({ opcode: Opcode.Error, code: TftpErrorCode.OptionRefused, message: "no" })).toEqual(["RRQ  -> server", "arm 1000"]);
    expect(h.packet({ opcode: Opcode.Error, code: TftpErrorCode.OptionRefused, message: "no" })).toEqual(["failed refused"]);
  });

  it("ERROR 1 is not-found, ERROR 2 refused; an OACK that widens the request is answered ERROR 8", () => {
    const missing = new Harness();
    missing.step({ type: "start" });
    expect(missing.packet({ opcode: Opcode.Error, code: 1, message: "File not found" })).toEqual(["failed not-found"]);
    const denied = new Harness();
    denied.step({ type: "start" });
    expect(denied.packet({ opcode: Opcode.Error, code: 2, message: "Access violation" })).toEqual(["failed refused"]);
    const wide = new Harness();
    wide.step({ type: "start" });
    expect(wide.oack([["blksize", "9000"]])).toEqual(["ERROR 8 -> peer", "failed protocol"]);
  });

  it("a lost OACK ACK: the OACK again is ACKed again", () => {
    const h = new Harness();
    h.step({ type: "start" });
    h.oack([["blksize", "512"]]);
    h.ready();
    expect(h.oack([["blksize", "512"]])).toEqual(["ACK 0 -> peer", "arm 1000"]);
  });

  it("after a gap: one ACK of the last block in order, then silence until the sender resends from there", () => {
    const h = new Harness();
    h.step({ type: "start" });
    h.oack([["windowsize", "4"]]);
    h.ready();
    expect(h.data(1)).toEqual(["write 512"]);
    h.ready();
    expect(h.data(3)).toEqual(["ACK 1 -> peer", "arm 1000"]);
    expect(h.data(4)).toEqual([]);
    expect(h.data(2)).toEqual(["write 512"]);
  });

  it("duplicates (our ACK was lost) are answered once per progress or timeout", () => {
    const h = new Harness();
    h.step({ type: "start" });
    h.oack([["windowsize", "2"]]);
    h.ready();
    h.data(1);
    h.data(2);
    h.ready(2);
    expect(h.data(1)).toEqual(["ACK 2 -> peer", "arm 1000"]);
    expect(h.data(2)).toEqual([]);
    expect(h.step({ type: "timeout" })).toEqual(["ACK 2 -> peer", "arm 2000"]);
    expect(h.data(1)).toEqual(["ACK 2 -> peer", "arm 2000"]);
  });

  it("timeouts: the RRQ or the last ACK again with doubling waits; unreachable if nobody ever answered, timeout if the server went silent", () => {
    const silent = new Harness();
    silent.step({ type: "start" });
    const waits = [1, 2, 3, 4, 5].map(() => silent.step({ type: "timeout" }));
    expect(waits.map((w) => w.at(-1))).toEqual(["arm 2000", "arm 4000", "arm 8000", "arm 8000", "arm 8000"]);
    expect(waits[0]![0]).toMatch(/^RRQ/);
    expect(silent.step({ type: "timeout" })).toEqual(["failed unreachable"]);
    const gone = new Harness();
    gone.step({ type: "start" });
    gone.data(1);
    gone.ready(2);
    for (let i = 0; i < 5; i++) expect(gone.step({ type: "timeout" })[0]).toBe("ACK 1 -> peer");
    expect(gone.step({ type: "timeout" })).toEqual(["failed timeout"]);
  });

  it("waiting on a slow sink is not the server's silence", () => {
    const h = new Harness();
    h.step({ type: "start" });
    h.data(1);
    for (let i = 0; i < 10; i++) expect(h.step({ type: "timeout" })).toEqual(["arm 1000"]);
    expect(h.ready(2)).toEqual(["ACK 1 -> peer", "arm 1000"]);
  });

  it.each([
    ["0", 0],
    ["1", 1],
  ])("block numbers roll over 65535 → %s, and ACKs follow the server's convention", (_name, wrapTo) => {
    const h = new Harness({ blockSize: 8, windowSize: 1 });
    h.step({ type: "start" });
    h.oack([["blksize", "8"]]);
    h.ready();
    for (let b = 1; b <= 65535; b++) {
      h.data(b, 8);
      h.ready();
    }
    expect(h.data(wrapTo, 8)).toEqual(["write 8"]);
    expect(h.ready()).toEqual([`ACK ${wrapTo} -> peer`, "arm 1000"]);
    expect(h.data(wrapTo + 1, 3)).toEqual(["write 3"]);
    expect(h.ready()).toEqual([`ACK ${wrapTo + 1} -> peer`, "arm 8000", "complete"]);
    expect(h.state.received).toBe(65537);
    expect(h.state.bytes).toBe(65536 * 8 + 3);
  });

  it("in a window, a 1 at the wrap is the block after a lost 0, not the 65535 → 1 convention", () => {
    const h = new Harness({ blockSize: 8, windowSize: 16 });
    h.step({ type: "start" });
    h.oack([["blksize", "8"], ["windowsize", "16"]]);
    h.ready();
    for (let b = 1; b <= 65535; b++) {
      h.data(b, 8);
      h.ready();
    }
    expect(h.data(1, 8)).toEqual(["ACK 65535 -> peer", "arm 1000"]);
    expect(h.data(0, 8)).toEqual(["write 8"]);
    expect(h.state.received).toBe(65536);
  });

  it("tsize promised more than arrived: truncated", () => {
    const h = new Harness();
    h.step({ type: "start" });
    h.oack([["tsize", "2000"]]);
    h.ready();
    h.data(1, 100);
    expect(h.ready()).toEqual(["ACK 1 -> peer", "arm 8000", "failed truncated"]);
  });

  it("a DATA larger than the block size is a protocol error; a server ERROR mid-transfer is truncation", () => {
    const big = new Harness();
    big.step({ type: "start" });
    big.oack([["blksize", "512"]]);
    expect(big.data(1, 513)).toEqual(["ERROR 4 -> peer", "failed protocol"]);
    const stopped = new Harness();
    stopped.step({ type: "start" });
    stopped.data(1);
    expect(stopped.packet({ opcode: Opcode.Error, code: 0, message: "shutting down" })).toEqual(["failed truncated"]);
  });

  it("abort tells the server (once it is known) and fails with the reason given", () => {
    const h = new Harness();
    h.step({ type: "start" });
    expect(h.step({ type: "abort", reason: "aborted", code: TftpErrorCode.NotDefined, message: "cancelled" })).toEqual(["failed aborted"]);
    const mid = new Harness();
    mid.step({ type: "start" });
    mid.data(1);
    expect(mid.step({ type: "abort", reason: "sink", code: TftpErrorCode.DiskFull, message: "full" })).toEqual(["ERROR 3 -> peer", "failed sink"]);
  });
});
