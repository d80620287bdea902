import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decodeControlPacket, encodeControlPacket, MessageType } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Element } from "../../agent/capwap/profiles/index.js";
import { capwapImageSource } from "../../agent/transfer/index.js";
import { impairedLink } from "../support/impairment.js";
import { memoryLibrary, MemorySink } from "../support/memory-images.js";
import { FAST_TIMERS, SimLab } from "../support/sim-lab.js";

const IMAGE = Uint8Array.from(randomBytes(100_003)); // not a multiple of either block size
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

interface ImageLabOptions {
  profile: "cisco" | "rfc5415";
  window: number;
  aps?: number;
  timers?: Record<string, string>;
  /** DTLS off on both sides, so a test can see and change the messages on the way. */
  plaintext?: boolean;
  controller?: NonNullable<ConstructorParameters<typeof SimLab>[0]>["controller"];
}

function imageLab(options: ImageLabOptions) {
  const lines: string[] = [];
  const sinks: MemorySink[] = [];
  lab = new SimLab({
    profile: options.profile,
    aps: options.aps ?? 1,
    lines,
    apConfig: () => ({ timers: { ...FAST_TIMERS, ...options.timers }, ...(options.plaintext ? { dtls: { mode: "plaintext" } } : {}) }),
    controller: {
      images: memoryLibrary({ ap1g8: IMAGE }),
      softwareVersion: "17.12.1.5",
      imageWindow: () => options.window,
      ...(options.plaintext ? { dtls: "plaintext" as const } : {}),
      ...options.controller,
    },
    wtp: (i, sim) => ({
      imageSources: { capwap: capwapImageSource({
        imageName: "ap1g8",
        sink: () => (sinks[i] = new MemorySink()),
        clock: sim.clock,
        startTimeoutMs: 3_000,
        inactivityMs: 3_000,
      }) },
    }),
  });
  return { lab, lines, sinks };
}

describe("CAPWAP Image Data with a sliding window (simulated network, real DTLS)", () => {
  for (const profile of ["cisco", "rfc5415"] as const) {
    for (const window of [1, 4, 8, 20]) {
      it(`${profile}, window ${window}: byte-exact through 3% loss, reordering and duplication`, async () => {
        const { lab, lines, sinks } = imageLab({ profile, window });
        lab.network.filter = impairedLink({ seed: window, loss: 0.03, reorder: 0.05, duplicate: 0.02 });
        await lab.start();
        expect(await lab.runUntil(() => sinks[0]?.finished !== undefined && lab.allInRun(), 300_000, 5)).toBe(true);
        expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
        expect(lab.controller.aps()[0]!.download).toMatchObject({ name: "ap1g8", state: "complete", size: IMAGE.length, window });
        const blockSize = profile === "cisco" ? 1377 : 1024;
        const expected = [
          "AP image version 17.9.4.27 backup 0.0.0.0, Controller 17.12.1.5",
          "Version does not match.",
          "Image Data Request sent to 10.0.0.1, fileName [ap1g8]",
          `${IMAGE.length} bytes, ${Math.ceil(IMAGE.length / blockSize)} msgs, ${IMAGE.length % blockSize} last`,
          "Last block stored",
          "Image transfer completed from WLC",
        ];
        for (const l of expected) expect(lines.some((x) => x.includes(l)), l).toBe(true);
      });
    }
  }
});

describe("the window is what both ends allow", () => {
  it("a controller offering 64 to an AP that accepts at most 20 keeps at most 20 blocks in flight, and the image arrives", async () => {
    // Image Data Requests the controller sent and the AP has not answered yet, by sequence number.
    const outstanding = new Set<number>();
    let most = 0;
    const { lab, lines, sinks } = imageLab({
      profile: "cisco",
      window: 64,
      controller: {
        capture: (_t, from, to, packet) => {
          if (from.port !== 5246 && to.port !== 5246) return; // the data channel
          const { message } = decodeControlPacket<Element>(packet, ciscoProfile.elements);
          if (message?.type === MessageType.ImageDataRequest && from.port === 5246) outstanding.add(message.seq);
          if (message?.type === MessageType.ImageDataResponse && to.port === 5246) outstanding.delete(message.seq);
          most = Math.max(most, outstanding.size);
        },
      },
    });
    expect(lab.configs[0]!.maxImageWindow).toBe(20);
    await lab.start();
    expect(await lab.runUntil(() => sinks[0]?.finished !== undefined && lab.allInRun(), 60_000, 5)).toBe(true);
    expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
    expect(lab.controller.aps()[0]).toMatchObject({ imageWindow: 64, download: { state: "complete", window: 20 } });
    expect(most).toBe(20);
    expect(lines.some((l) => l.includes(`Sending image ap1g8 (${IMAGE.length} bytes) to ${lab.wtps[0]!.name}, window 20`))).toBe(true);
  });
});

describe("corruption on the way is caught every time", () => {
  it("≥ 200 transfers with a corrupted block (RFC: MD5 at EOF) or MD5 (both profiles) are all refused; nothing reaches a sink as good", async () => {
    const SMALL = Uint8Array.from(randomBytes(12_000));
    let refused = 0;
    for (const [profile, fault] of [
      ["rfc5415", "block"],
      ["rfc5415", "md5"],
      ["cisco", "md5"],
    ] as const) {
      const sinks: MemorySink[][] = [[], [], [], []];
      lab = new SimLab({
        profile,
        aps: 4,
        controller: {
          images: memoryLibrary({ ap1g8: SMALL }),
          softwareVersion: "17.12.1.5",
          imageWindow: () => 8,
        },
        faults: fault === "block" ? { corruptBlock: (_ap: string, index: number) => index === 5 } : { corruptMd5: () => true },
        wtp: (i, sim) => ({
          imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => (sinks[i]![sinks[i]!.length] = new MemorySink()), clock: sim.clock, startTimeoutMs: 3_000, inactivityMs: 3_000 }) },
        }),
      });
      await lab.start();
      const attempts = () => sinks.reduce((n, s) => n + s.filter((x) => x.aborted.length > 0).length, 0);
      await lab.runUntil(() => attempts() >= 70, 600_000, 5);
      for (const s of sinks.flat()) expect(s.finished).toBeUndefined();
      for (const s of sinks.flat().filter((x) => x.aborted.length)) expect(s.aborted[0]).toMatch(/^MD5 [0-9a-f]{32} of the received image does not match [0-9a-f]{32}$/);
      for (const w of lab.wtps) expect(w.restartReason).toMatch(/^MD5 .* does not match/);
      refused += attempts();
      lab.stop();
      lab = undefined;
    }
    expect(refused).toBeGreaterThanOrEqual(200);
  });

  it("cisco: a block corrupted on the way fails its checksum, is asked for again, and the image arrives intact", async () => {
    const lines: string[] = [];
    const sinks: MemorySink[] = [];
    const corrupted = new Set([0, 3, 17, 40, 72]);
    lab = new SimLab({
      profile: "cisco",
      lines,
      controller: { images: memoryLibrary({ ap1g8: IMAGE }), softwareVersion: "17.12.1.5", imageWindow: () => 8 },
      faults: { corruptBlock: (_ap, index) => corrupted.has(index) },
      wtp: (i, sim) => ({ imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => (sinks[i] = new MemorySink()), clock: sim.clock, startTimeoutMs: 3_000, inactivityMs: 3_000 }) } }),
    });
    await lab.start();
    expect(await lab.runUntil(() => sinks[0]?.finished !== undefined, 60_000, 5)).toBe(true);
    expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
    expect(lines.filter((l) => /Image Data seq \d+: block checksum 0x[0-9a-f]+ ≠ 0x[0-9a-f]+, asking again/.test(l))).toHaveLength(corrupted.size);
  });
});

describe("the window the controller offers", () => {
  it("a window of 0 is taken as stop-and-wait (1), logged, and the image arrives", async () => {
    const { lab, lines, sinks } = imageLab({ profile: "cisco", window: 1, plaintext: true });
    // The lab controller never offers 0; a broken one does: rewrite its Join Response on the way.
    const table = ciscoProfile.elements;
    lab.network.filter = (d) => {
      if (d.from.port !== 5246 || d.data[0] !== 0) return undefined;
      const { message } = decodeControlPacket<Element>(d.data, table);
      if (!message) return undefined;
      if (message.type !== MessageType.JoinResponse) return undefined;
      const elements = message.elements.map((e) => (e.kind === "ImageWindow" ? { ...e, window: 0 } : e));
      expect(elements.some((e) => e.kind === "ImageWindow")).toBe(true);
      d.data = encodeControlPacket({ ...message, elements }, table);
      return undefined;
    };
    await lab.start();
    expect(await lab.runUntil(() => sinks[0]?.finished !== undefined && lab.allInRun(), 60_000, 5)).toBe(true);
    expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
    expect(lab.wtps[0]!.controller?.imageWindow).toBe(1);
    expect(lab.wtps[0]!.stats.restarts).toBe(0);
    expect(lines.some((l) => l.includes("Controller offered an Image Data window of 0; using 1 (stop-and-wait)"))).toBe(true);
  });
});

describe("session loss and timers", () => {
  it("the controller dies mid-transfer: ABORT, partial image discarded, rediscovery, then a clean download", async () => {
    const { lab, lines, sinks } = imageLab({ profile: "cisco", window: 1 });
    // A slow link so the transfer is still running when the controller goes.
    lab.network.filter = () => 20;
    await lab.start();
    expect(await lab.runUntil(() => (lab.controller.aps()[0]?.download?.bytes ?? 0) > 20_000, 60_000)).toBe(true);
    const first = sinks[0]!;
    await lab.restartController(5_000);
    expect(first.aborted).toHaveLength(1);
    expect(first.finished).toBeUndefined();
    expect(lines.some((l) => l.includes("Aborting image download(0x0):") && l.includes("ap1g8"))).toBe(true);
    expect(lab.wtps[0]!.state).not.toBe("ImageData");
    expect(await lab.runUntil(() => lab.wtps[0]!.state === "Run", 120_000)).toBe(true);
    expect(sinks[0]).not.toBe(first);
    expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
    expect(lines.filter((l) => l.includes("CAPWAP State: Discovery")).length).toBe(2);
  });

  it("a join-time transfer outlasting the controller's idle deadline completes: the AP's Image Data Responses keep it alive (no echoes before Run)", async () => {
    const { lab, sinks } = imageLab({ profile: "cisco", window: 1 });
    // One block per 100 ms round trip: about 7 s, twice the sim controller's idle deadline
    // (3 echo intervals of 1 s and 6 retransmit intervals of 100 ms: 3.6 s).
    lab.network.filter = () => 50;
    const left: string[] = [];
    lab.controller.on("leave", (_ap, reason) => left.push(reason));
    await lab.start();
    expect(await lab.runUntil(() => sinks[0]?.finished !== undefined && lab.allInRun(), 60_000)).toBe(true);
    expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
    const download = lab.controller.aps()[0]!.download!;
    expect(download.finishedAt! - download.startedAt!).toBeGreaterThan(3_600);
    expect(left).toEqual([]);
    expect(lab.wtps[0]!.stats.restarts).toBe(0);
  });

  it("no block within ImageDataStartTimer: 'image download cannot start', the session restarts", async () => {
    const { lab, lines } = imageLab({ profile: "cisco", window: 4, controller: { maxConcurrentDownloads: 0 } });
    await lab.start();
    expect(await lab.runUntil(() => lines.some((l) => l.includes("Going to restart CAPWAP (reason : image download cannot start)...")), 20_000)).toBe(true);
    expect(lines.some((l) => l.includes("CAPWAP State: DTLS Teardown"))).toBe(true);
  });

  it("the AP's own WTP Event Requests are discarded while it is in Image Data (seed log line)", async () => {
    const { lab, lines, sinks } = imageLab({ profile: "cisco", window: 1, timers: { statistics: "300ms" } });
    lab.network.filter = () => 10;
    await lab.start();
    expect(await lab.runUntil(() => sinks[0]?.finished !== undefined, 120_000)).toBe(true);
    expect(lines.filter((l) => l.includes("Discarding msg CAPWAP_WTP_EVENT_REQUEST(type 9) in CAPWAP state: Image Data")).length).toBeGreaterThanOrEqual(2);
  });
});

describe("predownload in Run", () => {
  it("50 APs in Run predownload with at most 16 at a time; all complete and none leaves Run", async () => {
    const sinks: MemorySink[] = [];
    const left: string[] = [];
    lab = new SimLab({
      profile: "cisco",
      aps: 50,
      controller: { images: memoryLibrary({ ap1g8: IMAGE }), imageWindow: () => 8 },
      wtp: (i, sim) => ({
        imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => (sinks[i] = new MemorySink()), clock: sim.clock, startTimeoutMs: 3_000, inactivityMs: 3_000 }) },
        onStateChange: (state, previous) => previous === "Run" && left.push(`${i}:${state}`),
      }),
    });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 30_000)).toBe(true);
    // A 40 ms round trip: the predownload wave lasts seconds, across several echo intervals.
    lab.network.filter = () => 20;
    const echoesBefore = lab.wtps.map((w) => w.stats.echoes);
    let active = 0;
    let peak = 0;
    lab.controller.on("download", (ap) => {
      if (ap.download?.state === "downloading" && ap.download.startedAt !== undefined && ap.download.bytes === 0) peak = Math.max(peak, ++active);
      if (ap.download?.state === "complete" || ap.download?.state === "failed") active--;
    });
    const done = lab.controller.predownload("all", "17.12.1.5", 16);
    let results: Awaited<typeof done> | undefined;
    void done.then((r) => (results = r));
    expect(await lab.runUntil(() => results !== undefined, 300_000, 5)).toBe(true);
    expect(results!.map((r) => r.download?.state)).toEqual(new Array(50).fill("complete"));
    expect(peak).toBeLessThanOrEqual(16);
    expect(peak).toBeGreaterThan(1);
    for (const s of sinks) expect(md5(s.finished!)).toBe(md5(IMAGE));
    expect(left).toEqual([]);
    lab.wtps.forEach((w, i) => expect(w.stats.echoes).toBeGreaterThan(echoesBefore[i]!));
  });
});
