import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { profiles, type Message } from "../../agent/capwap/profiles/index.js";
import { imageReceiveSpan, MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import { seededRandom, silentLog } from "../../agent/core/index.js";
import { ImageDataReceiver, type TransferOutcome } from "../../agent/transfer/index.js";
import { MemorySink } from "../support/memory-images.js";

const profile = profiles.cisco;
const IMAGE = Uint8Array.from(randomBytes(1377 * 400 + 99)); // 401 blocks: sequence numbers wrap

function blocks(image: Uint8Array, firstSeq = 250): Message[] {
  const out: Message[] = [];
  for (let i = 0, seq = firstSeq; i * 1377 < image.length; i++, seq = (seq + 1) & 0xff) {
    out.push({ type: MessageType.ImageDataRequest, seq, elements: [profile.imageBlock(image.subarray(i * 1377, (i + 1) * 1377), false)] });
  }
  return out;
}

function receiver(window: number, image = IMAGE, md5: Uint8Array = createHash("md5").update(image).digest()) {
  const sink = new MemorySink();
  const acks: [number, number][] = [];
  let outcome: TransferOutcome | undefined;
  const r = new ImageDataReceiver({
    profile,
    window,
    size: image.length,
    md5,
    sink,
    log: silentLog,
    respond: (req, code) => acks.push([req.seq, code]),
    onDone: (o) => (outcome = o),
  });
  return { r, sink, acks, outcome: () => outcome };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("ImageDataReceiver: the AP's sliding window", () => {
  it("writes in order whatever order blocks arrive in within the window; every block is acked; duplicates are written once", async () => {
    const random = seededRandom(11);
    for (const window of [1, 4, 8, 20]) {
      const { r, sink, acks, outcome } = receiver(window);
      const all = blocks(IMAGE);
      r.receive(all[0]!); // the anchor comes alone
      // The controller keeps `window` blocks in flight; they arrive shuffled, some twice.
      let next = 1;
      while (next < all.length) {
        const batch = all.slice(next, next + window);
        const arrivals = [...batch, ...batch.filter(() => random.next() < 0.2)].sort(() => random.next() - 0.5);
        for (const m of arrivals) r.receive(m);
        next += batch.length;
      }
      await settle();
      expect(outcome()).toMatchObject({ ok: true, blocks: all.length, lastBlockBytes: 99 });
      expect(Buffer.compare(sink.finished!, IMAGE)).toBe(0);
      expect(acks.every(([, code]) => code === ResultCode.Success)).toBe(true);
      expect(new Set(acks.map(([seq]) => seq)).size).toBe(256); // every sequence number was acknowledged
    }
  });

  it("drops a block beyond the receive span (no ack) and re-acks one already written", () => {
    const { r, acks } = receiver(4);
    const all = blocks(IMAGE, 0);
    r.receive(all[0]!);
    r.receive(all[9]!); // 8 ahead of next (1), window 4, span 8: dropped
    expect(acks).toEqual([[0, ResultCode.Success]]);
    r.receive(all[0]!); // behind: written already
    expect(acks).toEqual([
      [0, ResultCode.Success],
      [0, ResultCode.Success],
    ]);
  });

  it("takes blocks up to the span past the one it misses while that one is resent, writes them in order once it comes, drops beyond", async () => {
    for (const window of [1, 4, 8, 20, MAX_IMAGE_WINDOW]) {
      const span = imageReceiveSpan(window);
      const { r, sink, acks, outcome } = receiver(window);
      const all = blocks(IMAGE, 0);
      r.receive(all[0]!);
      // Block 1 is lost; the controller goes on sending up to the span past it.
      for (const m of all.slice(2, 1 + span)) r.receive(m);
      r.receive(all[1 + span]!); // one past the span: dropped, not acknowledged
      expect(acks.map(([seq]) => seq)).toEqual([0, ...all.slice(2, 1 + span).map((m) => m.seq)]);
      await settle();
      expect(sink.chunks).toHaveLength(1); // only the anchor: nothing written past the gap
      r.receive(all[1]!); // the resent block: it and everything buffered behind it go to the sink
      for (const m of all.slice(1 + span)) r.receive(m);
      await settle();
      expect(outcome()).toMatchObject({ ok: true, blocks: all.length });
      expect(Buffer.compare(sink.finished!, IMAGE)).toBe(0);
    }
  });

  it("refuses a block whose checksum fails and takes the good copy under the same sequence number", async () => {
    const image = IMAGE.subarray(0, 3000);
    const { r, sink, acks, outcome } = receiver(4, image);
    const all = blocks(image, 7);
    const bad = structuredClone(all[1]!);
    (bad.elements[0] as { data: Uint8Array }).data[10]! ^= 1;
    r.receive(all[0]!);
    r.receive(bad);
    expect(acks.at(-1)).toEqual([8, ResultCode.ImageDataErrorInvalidChecksum]);
    r.receive(all[1]!);
    r.receive(all[2]!);
    await settle();
    expect(outcome()?.ok).toBe(true);
    expect(Buffer.compare(sink.finished!, image)).toBe(0);
  });

  it("refuses an image whose MD5 is wrong: the sink never sees finish(), and the last block is answered with the refusal", async () => {
    const image = IMAGE.subarray(0, 3000);
    const { r, sink, acks, outcome } = receiver(4, image, new Uint8Array(16));
    for (const m of blocks(image)) r.receive(m);
    await settle();
    expect(outcome()).toMatchObject({ ok: false });
    expect((outcome() as { error: Error }).error.message).toMatch(/^MD5 [0-9a-f]{32} of the received image does not match 0{32}$/);
    expect(sink.finished).toBeUndefined();
    expect(acks).toEqual([
      [250, ResultCode.Success],
      [251, ResultCode.Success],
      [252, ResultCode.ImageDataErrorOtherError],
    ]);
  });

  it("answers the last block only once the sink has taken every byte: the controller frees its download slot on that answer", async () => {
    const image = IMAGE.subarray(0, 1377 * 5 + 10);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new MemorySink();
    const write = slow.write.bind(slow);
    const events: string[] = [];
    let stored = 0;
    slow.write = async (chunk) => {
      await gate;
      stored += chunk.length;
      events.push(`stored ${stored}`);
      return write(chunk);
    };
    const r = new ImageDataReceiver({
      profile,
      window: 8,
      size: image.length,
      md5: createHash("md5").update(image).digest(),
      sink: slow,
      log: silentLog,
      respond: (m, code) => events.push(`ack ${m.seq} ${code}`),
      onDone: (o) => events.push(`done ${o.ok}`),
    });
    const all = blocks(image, 0);
    for (const m of all) r.receive(m);
    await settle();
    // Every block but the last is acknowledged at once (the sink may lag by a window); the last waits for the sink.
    expect(events).toEqual([0, 1, 2, 3, 4].map((seq) => `ack ${seq} ${ResultCode.Success}`));
    release();
    for (let i = 0; i < 3; i++) await settle();
    expect(events.slice(5)).toEqual([...all.map((_, i) => `stored ${Math.min((i + 1) * 1377, image.length)}`), `ack 5 ${ResultCode.Success}`, "done true"]);
  });

  it("refuses more bytes than announced, and an RFC EOF that comes early", async () => {
    const image = IMAGE.subarray(0, 3000);
    const { r, acks, outcome } = receiver(4, image.subarray(0, 2000));
    for (const m of blocks(image)) r.receive(m);
    expect((outcome() as { error: Error }).error.message).toBe("image longer than the announced 2000 bytes");
    // The block that ran past the announced size is answered with why, and so is any block after the end.
    expect(acks).toEqual([
      [250, ResultCode.Success],
      [251, ResultCode.ImageDataErrorInvalidDataLength],
      [252, ResultCode.ImageDataErrorInvalidDataLength],
    ]);

    const rfc = profiles.rfc5415;
    let ended: TransferOutcome | undefined;
    const r2 = new ImageDataReceiver({ profile: rfc, window: 2, size: 3000, md5: new Uint8Array(16), sink: new MemorySink(), log: silentLog, respond: () => {}, onDone: (o) => (ended = o) });
    r2.receive({ type: MessageType.ImageDataRequest, seq: 0, elements: [rfc.imageBlock(image.subarray(0, 1024), true)] });
    expect((ended as { error: Error }).error.message).toBe("EOF after 1024 of 3000 bytes");
  });

  it("holds acknowledgements while the sink is behind, so memory stays bounded", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new MemorySink();
    const write = slow.write.bind(slow);
    slow.write = async (chunk) => {
      await gate;
      return write(chunk);
    };
    const acks: number[] = [];
    const r = new ImageDataReceiver({ profile, window: 20, size: IMAGE.length, md5: createHash("md5").update(IMAGE).digest(), sink: slow, log: silentLog, respond: (m) => acks.push(m.seq), onDone: () => {}, maxQueuedBlocks: 8 });
    const all = blocks(IMAGE, 0);
    for (const m of all.slice(0, 20)) r.receive(m);
    expect(acks).toHaveLength(8); // the rest wait for the sink
    release();
    await settle();
    expect(acks).toHaveLength(20);
  });

  it("reports a failing sink once: the transfer ends with one outcome, however many writes were queued", async () => {
    const outcomes: TransferOutcome[] = [];
    const sink = new MemorySink();
    sink.write = async () => {
      throw new Error("No space left on device");
    };
    const r = new ImageDataReceiver({ profile, window: 8, size: IMAGE.length, md5: createHash("md5").update(IMAGE).digest(), sink, log: silentLog, respond: () => {}, onDone: (o) => outcomes.push(o) });
    for (const m of blocks(IMAGE).slice(0, 9)) r.receive(m);
    await settle();
    await settle();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { message: "cannot store the image: No space left on device" } });
  });

  it("reports a sink that fails on the last write once, not again when the image completes", async () => {
    const small = IMAGE.subarray(0, 1377 * 3);
    const outcomes: TransferOutcome[] = [];
    const sink = new MemorySink();
    let writes = 0;
    sink.write = async () => {
      if (++writes === 3) throw new Error("I/O error");
    };
    const acks: number[] = [];
    const r = new ImageDataReceiver({ profile, window: 4, size: small.length, md5: createHash("md5").update(small).digest(), sink, log: silentLog, respond: (_m, code) => acks.push(code), onDone: (o) => outcomes.push(o) });
    for (const m of blocks(small)) r.receive(m);
    for (let i = 0; i < 5; i++) await settle();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { message: "cannot store the image: I/O error" } });
    // The last block was not stored: it is refused, not acknowledged.
    expect(acks).toEqual([ResultCode.Success, ResultCode.Success, ResultCode.ImageDataErrorOtherError]);
  });
});
