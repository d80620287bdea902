/** The server's transfer machine, row by row: every input and the effects it must produce. */
import { describe, expect, it } from "vitest";
import { Opcode, TftpErrorCode } from "../../../agent/transfer/tftp/packet.js";
import { initialSender, type SenderEffect, type SenderState, senderStep } from "../../../agent/transfer/tftp/sender.js";
import { content } from "./support.js";

const options = (blockSize: number, windowSize: number, timeoutMs = 1000) => ({ blockSize, windowSize, timeoutMs });

/** Effects in a short form: "DATA 3", "OACK", "read 5+4", "arm 1000", "done", "failed timeout". */
function brief(effects: SenderEffect[]): string[] {
  return effects.map((e) => {
    if (e.type === "send") {
      const p = e.packet;
      return p.opcode === Opcode.Data ? `DATA ${p.block}${p.data.length === 0 ? " (empty)" : ""}` : p.opcode === Opcode.OptionAck ? "OACK" : p.opcode === Opcode.Error ? `ERROR ${p.code}` : `opcode ${p.opcode}`;
    }
    if (e.type === "read") return `read ${e.first}+${e.count}`;
    if (e.type === "arm") return `arm ${e.ms}`;
    if (e.type === "failed") return `failed ${e.reason}`;
    if (e.type === "arm-reply") return `reply on ACK ${e.ack}: DATA ${e.packets[0]!.block}-${e.packets.at(-1)!.block}`;
    return e.type;
  });
}

/** A machine plus the file it reads from: `step` feeds an input; `fulfil` answers the outstanding read. */
class Harness {
  state: SenderState;
  #pendingRead: { first: number; count: number } | undefined;

  constructor(
    readonly file: Uint8Array,
    blockSize: number,
    windowSize: number,
    withOack = false,
    armsReplies = false,
  ) {
    const oack = withOack ? ({ opcode: Opcode.OptionAck, options: new Map([["blksize", String(blockSize)]]) } as const) : undefined;
    this.state = initialSender(options(blockSize, windowSize), oack, undefined, armsReplies);
  }

  step(input: Parameters<typeof senderStep>[1]): string[] {
    const { state, effects } = senderStep(this.state, input);
    this.state = state;
    for (const e of effects) if (e.type === "read") this.#pendingRead = e;
    return brief(effects);
  }

  fulfil(): string[] {
    const { first, count } = this.#pendingRead!;
    this.#pendingRead = undefined;
    const size = this.state.options.blockSize;
    return this.step({ type: "read", first, count, data: this.file.subarray((first - 1) * size, (first - 1 + count) * size) });
  }
}

describe("TFTP sender machine", () => {
  it("RFC 1350 lock-step: read, send, wait for the ACK, send the next; the short block ends it", () => {
    const h = new Harness(content(700), 512, 1);
    expect(h.step({ type: "start" })).toEqual(["read 1+1", "arm 1000"]);
    expect(h.fulfil()).toEqual(["DATA 1"]);
    expect(h.step({ type: "ack", block: 1 })).toEqual(["read 2+1", "arm 1000"]);
    expect(h.fulfil()).toEqual(["DATA 2"]);
    expect(h.state.lastBlock).toBe(2);
    expect(h.step({ type: "ack", block: 2 })).toEqual(["done"]);
    expect(h.step({ type: "ack", block: 2 })).toEqual([]);
  });

  it("OACK first (RFC 2347): resent until ACK 0, data reads ahead meanwhile", () => {
    const h = new Harness(content(100), 512, 4, true);
    expect(h.step({ type: "start" })).toEqual(["OACK", "arm 1000", "read 1+4"]);
    expect(h.fulfil()).toEqual([]);
    expect(h.step({ type: "timeout" })).toEqual(["OACK", "arm 2000"]);
    expect(h.step({ type: "ack", block: 1 })).toEqual([]);
    expect(h.step({ type: "ack", block: 0 })).toEqual(["DATA 1", "arm 1000"]);
    expect(h.step({ type: "ack", block: 1 })).toEqual(["done"]);
  });

  it("a file of exactly N blocks ends with an empty block; an empty file is one empty block", () => {
    const exact = new Harness(content(1024), 512, 8);
    exact.step({ type: "start" });
    expect(exact.fulfil()).toEqual(["DATA 1", "DATA 2", "DATA 3 (empty)"]);
    expect(exact.step({ type: "ack", block: 3 })).toEqual(["done"]);
    const empty = new Harness(new Uint8Array(), 512, 1);
    empty.step({ type: "start" });
    expect(empty.fulfil()).toEqual(["DATA 1 (empty)"]);
    expect(empty.step({ type: "ack", block: 1 })).toEqual(["done"]);
  });

  it("windows (RFC 7440): an ACK inside the window restarts it after the ACKed block", () => {
    const h = new Harness(content(512 * 20), 512, 4);
    h.step({ type: "start" });
    expect(h.fulfil()).toEqual(["DATA 1", "DATA 2", "DATA 3", "DATA 4"]);
    // Block 3 was lost: the receiver ACKs 2.
    expect(h.step({ type: "ack", block: 2 })).toEqual(["DATA 3", "DATA 4", "read 5+2", "arm 1000"]);
    expect(h.fulfil()).toEqual(["DATA 5", "DATA 6"]);
    expect(h.step({ type: "ack", block: 6 })).toEqual(["read 7+4", "arm 1000"]);
  });

  it("a duplicate ACK moves nothing and sends nothing (no Sorcerer's Apprentice); a stale one neither", () => {
    const h = new Harness(content(512 * 20), 512, 4);
    h.step({ type: "start" });
    h.fulfil();
    h.step({ type: "ack", block: 4 });
    h.fulfil();
    expect(h.step({ type: "ack", block: 4 })).toEqual([]);
    expect(h.step({ type: "ack", block: 2 })).toEqual([]);
    // An ACK beyond what was sent is nonsense, not progress.
    expect(h.step({ type: "ack", block: 9 })).toEqual([]);
    expect(h.state.acked).toBe(4);
  });

  it("timeouts resend the whole outstanding window with doubling waits (capped), then give up", () => {
    const h = new Harness(content(512 * 20), 512, 2);
    h.step({ type: "start" });
    h.fulfil();
    expect(h.step({ type: "timeout" })).toEqual(["DATA 1", "DATA 2", "arm 2000"]);
    expect(h.step({ type: "timeout" })).toEqual(["DATA 1", "DATA 2", "arm 4000"]);
    expect(h.step({ type: "timeout" })).toEqual(["DATA 1", "DATA 2", "arm 8000"]);
    expect(h.step({ type: "timeout" })).toEqual(["DATA 1", "DATA 2", "arm 8000"]);
    expect(h.step({ type: "timeout" })).toEqual(["DATA 1", "DATA 2", "arm 8000"]);
    expect(h.step({ type: "timeout" })).toEqual(["failed timeout"]);
    expect(h.step({ type: "ack", block: 2 })).toEqual([]);
  });

  it("progress resets the back-off", () => {
    const h = new Harness(content(512 * 20), 512, 1);
    h.step({ type: "start" });
    h.fulfil();
    h.step({ type: "timeout" });
    h.step({ type: "timeout" });
    expect(h.step({ type: "ack", block: 1 })).toEqual(["read 2+1", "arm 1000"]);
  });

  it("block numbers roll over past 65535 to 0, and ACKs are read across the wrap", () => {
    const blocks = 65_540;
    const h = new Harness(new Uint8Array(8 * blocks - 3), 8, 16);
    h.step({ type: "start" });
    let sent: string[] = h.fulfil();
    while (h.state.phase === "data") {
      const last = Number(sent.at(-1)!.split(" ")[1]);
      const step = h.step({ type: "ack", block: last });
      if (step.includes("done")) break;
      sent = h.fulfil();
      if (h.state.acked === 65_520) expect(sent).toEqual(["DATA 65521", "DATA 65522", "DATA 65523", "DATA 65524", "DATA 65525", "DATA 65526", "DATA 65527", "DATA 65528", "DATA 65529", "DATA 65530", "DATA 65531", "DATA 65532", "DATA 65533", "DATA 65534", "DATA 65535", "DATA 0"]);
    }
    expect(h.state.phase).toBe("done");
    expect(h.state.acked).toBe(blocks);
  });

  it("a peer's ERROR ends the transfer; an abort tells the peer why", () => {
    const h = new Harness(content(10), 512, 1);
    h.step({ type: "start" });
    expect(h.step({ type: "peer-error", code: 3, message: "disk full" })).toEqual(["failed peer-error"]);
    const a = new Harness(content(10), 512, 1);
    a.step({ type: "start" });
    expect(a.step({ type: "abort", code: TftpErrorCode.NotDefined, message: "server shutting down" })).toEqual(["ERROR 0", "failed aborted"]);
  });

  it("armed replies: once a window is out and the next one read, that one is armed on the ACK that releases it; answered, nothing more is sent", () => {
    const h = new Harness(content(512 * 10), 512, 2, false, true);
    // Two windows are read: the one to send and the one to arm.
    expect(h.step({ type: "start" })).toEqual(["read 1+4", "arm 1000"]);
    expect(h.fulfil()).toEqual(["DATA 1", "DATA 2", "reply on ACK 2: DATA 3-4"]);
    // The socket sent 3 and 4 the moment ACK 2 came.
    expect(h.step({ type: "ack", block: 2, answered: true })).toEqual(["read 5+2", "arm 1000"]);
    expect([h.state.acked, h.state.sentUpTo]).toEqual([2, 4]);
    expect(h.fulfil()).toEqual(["reply on ACK 4: DATA 5-6"]);
    // An ACK the socket did not answer (it came second in a batch): the machine disarms and answers it itself.
    expect(h.step({ type: "ack", block: 4 })).toEqual(["disarm", "DATA 5", "DATA 6", "read 7+2", "arm 1000"]);
    expect(h.fulfil()).toEqual(["reply on ACK 6: DATA 7-8"]);
    // Block 6 lost: the window restarts after 5, and the reply armed on ACK 6 is stale.
    expect(h.step({ type: "ack", block: 5 })).toEqual(["disarm", "DATA 6", "DATA 7", "read 9+1", "arm 1000"]);
    expect(h.fulfil()).toEqual(["reply on ACK 7: DATA 8-9"]);
    // A timeout resends the window; the reply stays armed, still the answer to ACK 7.
    expect(h.step({ type: "timeout" })).toEqual(["DATA 6", "DATA 7", "arm 2000"]);
    expect(h.step({ type: "ack", block: 7, answered: true })).toEqual(["read 10+2", "arm 1000"]);
    expect(h.state.sentUpTo).toBe(9);
    // "answered" for an ACK the machine had armed nothing for: it answers itself (the duplicates are harmless).
    expect(h.fulfil()).toEqual(["reply on ACK 9: DATA 10-11"]);
    expect(h.step({ type: "ack", block: 8, answered: true })).toEqual(["disarm", "DATA 9", "DATA 10", "reply on ACK 10: DATA 11-11", "arm 1000"]);
  });

  it("armed replies: the last window is armed with the short final block, and lock-step arms one block", () => {
    const last = new Harness(content(512 * 3 + 100), 512, 2, false, true);
    last.step({ type: "start" });
    expect(last.fulfil()).toEqual(["DATA 1", "DATA 2", "reply on ACK 2: DATA 3-4"]);
    expect(last.state.lastBlock).toBe(4);
    expect(last.step({ type: "ack", block: 2, answered: true })).toEqual(["arm 1000"]);
    expect(last.step({ type: "ack", block: 4 })).toEqual(["done"]);
    const lockStep = new Harness(content(2000), 512, 1, false, true);
    expect(lockStep.step({ type: "start" })).toEqual(["read 1+2", "arm 1000"]);
    expect(lockStep.fulfil()).toEqual(["DATA 1", "reply on ACK 1: DATA 2-2"]);
    expect(lockStep.step({ type: "ack", block: 1, answered: true })).toEqual(["read 3+1", "arm 1000"]);
    expect(lockStep.fulfil()).toEqual(["reply on ACK 2: DATA 3-3"]);
  });

  it("a read answer for the wrong blocks is ignored", () => {
    const h = new Harness(content(2000), 512, 2);
    h.step({ type: "start" });
    expect(h.step({ type: "read", first: 3, count: 2, data: content(1024) })).toEqual([]);
    expect(h.fulfil()).toEqual(["DATA 1", "DATA 2"]);
  });
});
