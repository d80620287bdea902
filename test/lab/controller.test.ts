import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { decodeControlPacket, encodeControlPacket, MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Element, type Message } from "../../agent/capwap/profiles/index.js";
import type { CapwapSession, DownloadHost, ImageDownload, ImageSourceStarter, RunningDownload } from "../../agent/capwap/wtp/index.js";
import { capwapImageSource } from "../../agent/transfer/index.js";
import { ConfigError, ManualClock } from "../../agent/core/index.js";
import { bindUdp, MemoryNetwork } from "../../agent/net/index.js";
import { LabController, type DownloadRecord, type ImageLibrary, type LabControllerOptions } from "../../lab/controller/index.js";
import { memoryLibrary, MemorySink } from "../support/memory-images.js";
import { AC_ADDRESS, apAddress, SimLab } from "../support/sim-lab.js";
import { escaped, freeLoopbackAddress } from "../support/loopback.js";

const IMAGE = Uint8Array.from(randomBytes(20 * 1377 + 500));
const BLOCKS = Math.ceil(IMAGE.length / 1377);

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

/** A library that counts the files it opened and the ones closed again. */
function countingLibrary(images: Record<string, Uint8Array>): ImageLibrary & { opened: number; closed: number } {
  const inner = memoryLibrary(images);
  const counts = {
    opened: 0,
    closed: 0,
    async open(name: string) {
      const file = await inner.open(name);
      if (!file) return undefined;
      counts.opened++;
      return { ...file, close: () => void counts.closed++ };
    },
  };
  return counts;
}

/** A capture of the control messages the (cisco) controller sends: type and sequence number (fragments skipped). */
function sentByController(): { sent: { type: number; seq: number }[]; capture: LabControllerOptions["capture"] } {
  const sent: { type: number; seq: number }[] = [];
  return {
    sent,
    capture: (_t, from, _to, packet) => {
      if (from.port !== 5246) return;
      const { message } = decodeControlPacket<Element>(packet, ciscoProfile.elements);
      if (!message) return;
      sent.push({ type: message.type, seq: message.seq });
    },
  };
}

/**
 * An AP-side image source that asks for the image, acknowledges every block,
 * and asks again (Initiate Download) after `askAgainAfter` blocks — what an
 * AP that restarted its download looks like to the controller.
 */
class AskingTwice implements ImageSourceStarter {
  readonly seqs: number[] = [];
  #session: CapwapSession | undefined;
  constructor(readonly askAgainAfter: number) {}

  start(_download: ImageDownload, host: DownloadHost): RunningDownload {
    this.#session = host.session;
    host.session.onImageData((message) => this.#imageData(message));
    this.#ask();
    return { abort: () => {} };
  }

  #imageData(message: Message): void {
    this.seqs.push(message.seq);
    this.#session!.respond(message, [{ kind: "ResultCode", resultCode: ResultCode.Success }]);
    if (this.seqs.length === this.askAgainAfter) this.#ask();
  }

  #ask(): void {
    const session = this.#session!;
    void session.request({ type: MessageType.ImageDataRequest, elements: [{ kind: "ImageIdentifier", vendorId: session.profile.vendorId, identifier: "ap1g8" }, { kind: "InitiateDownload" }] });
  }
}

describe("lab controller: image transfers and sequence numbers", () => {
  it("a second Initiate Download while a transfer runs ends the first (slot and file released) and serves the second under new sequence numbers", async () => {
    const library = countingLibrary({ ap1g8: IMAGE });
    const stage = new AskingTwice(3);
    const records: DownloadRecord[] = [];
    lab = new SimLab({ controller: { images: library, softwareVersion: "17.12.1.5", imageWindow: () => 4, maxConcurrentDownloads: 1 }, wtp: () => ({ imageSources: { capwap: stage } }) });
    lab.controller.on("download", (ap) => records.push(ap.download!));
    await lab.start();
    expect(await lab.runUntil(() => records.at(-1)?.state === "complete", 30_000)).toBe(true);
    expect(records.map((r) => r.state)).toEqual(["queued", "downloading", "failed", "queued", "downloading", "complete"]);
    expect(records[2]!.error).toBe("superseded by a new Image Data Request from the AP");
    expect(records.at(-1)).toMatchObject({ bytes: IMAGE.length, size: IMAGE.length });
    expect({ opened: library.opened, closed: library.closed }).toEqual({ opened: 2, closed: 2 });
    // Every block reached the stage under a number the AP had not answered before: none came from its response cache.
    expect(new Set(stage.seqs).size).toBe(stage.seqs.length);
    expect(stage.seqs.length).toBeGreaterThanOrEqual(3 + BLOCKS);
  });

  it("after a transfer, the next request carries a sequence number past every block's", async () => {
    let sink: MemorySink | undefined;
    const { sent, capture } = sentByController();
    lab = new SimLab({
      controller: { images: memoryLibrary({ ap1g8: IMAGE }), softwareVersion: "17.12.1.5", imageWindow: () => 4, capture },
      wtp: (_i, sim) => ({ imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => (sink = new MemorySink()), clock: sim.clock, startTimeoutMs: 3_000, inactivityMs: 3_000 }) } }),
    });
    await lab.start();
    expect(await lab.runUntil(() => sink?.finished !== undefined && lab!.allInRun(), 30_000)).toBe(true);
    expect(createHash("md5").update(sink!.finished!).digest("hex")).toBe(createHash("md5").update(IMAGE).digest("hex"));
    const update = lab.controller.configurationUpdate(lab.wtps[0]!.name, []);
    await lab.run(500);
    expect(await update).toBe(ResultCode.Success);
    const blocks = [...new Set(sent.filter((m) => m.type === MessageType.ImageDataRequest).map((m) => m.seq))];
    expect(blocks).toHaveLength(BLOCKS);
    const [next] = sent.filter((m) => m.type === MessageType.ConfigurationUpdateRequest).map((m) => m.seq);
    expect(blocks).not.toContain(next);
    expect(next).toBe((blocks.at(-1)! + 1) & 0xff);
  });
});

/** Run `vap …` in-process; resolves with its exit status and output. */
async function vap(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

/** Whether `address:port` can be bound right now (nobody holds it). */
async function free(address: string, port: number): Promise<boolean> {
  try {
    (await bindUdp({ address, port })).close();
    return true;
  } catch {
    return false;
  }
}

describe("lab controller: Configuration Update on demand", () => {
  it("an AP in Run takes the new name and echo interval it is sent, and answers Success", async () => {
    const lines: string[] = [];
    lab = new SimLab({ lines });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun())).toBe(true);
    const wtp = lab.wtps[0]!;
    const old = wtp.name;
    const update = lab.controller.configurationUpdate(old, [
      { kind: "WtpName", name: "AP-LOBBY-1" },
      { kind: "CapwapTimers", discovery: 5, echoRequest: 3 },
    ]);
    await lab.run(500);
    expect(await update).toBe(ResultCode.Success);
    expect(wtp.name).toBe("AP-LOBBY-1");
    expect(lines.some((l) => l.includes(`AP name changed from ${old} to AP-LOBBY-1`))).toBe(true);
    // The lab's echo interval was 1 s; 3 s from now on.
    const before = wtp.stats.echoes;
    await lab.run(9_000);
    expect(wtp.stats.echoes - before).toBeGreaterThanOrEqual(2);
    expect(wtp.stats.echoes - before).toBeLessThanOrEqual(4);
    expect(wtp.state).toBe("Run");
  });
  it("a request the AP has not answered when its session ends is refused, not left waiting forever", async () => {
    lab = new SimLab();
    const sim = lab;
    await sim.start();
    expect(await sim.runUntil(() => sim.allInRun())).toBe(true);
    // The AP hears nothing more: the request waits on its retransmissions when the controller closes.
    sim.network.filter = (d) => (d.to.address === apAddress(0) ? "drop" : undefined);
    const outcome = sim.controller.configurationUpdate(sim.wtps[0]!.name, [{ kind: "WtpName", name: "AP-X" }]).then(
      () => "answered",
      (err: Error) => err.message,
    );
    await sim.run(50);
    sim.controller.close();
    await sim.run(10);
    expect(await Promise.race([outcome, Promise.resolve("still waiting")])).toMatch(/left before it answered/);
  });
});

describe("lab controller: AP liveness", () => {
  it("an AP that falls silent is dropped exactly one idle deadline after the last packet it sent", async () => {
    lab = new SimLab();
    const sim = lab;
    await sim.start();
    expect(await sim.runUntil(() => sim.allInRun())).toBe(true);
    let silent = false;
    let lastArrival = 0;
    sim.network.filter = (d) => {
      if (d.from.address !== apAddress(0)) return undefined;
      if (silent) return "drop";
      lastArrival = sim.clock.now() + 1; // the network's 1 ms latency
      return undefined;
    };
    await sim.run(2_500);
    silent = true;
    const left: { at: number; reason: string }[] = [];
    sim.controller.on("leave", (_ap, reason) => left.push({ at: sim.clock.now(), reason }));
    // The deadline: 3 echo intervals of 1 s and 6 retransmit intervals of 100 ms after the last packet.
    await sim.run(lastArrival + 3_590 - sim.clock.now());
    expect(left).toEqual([]);
    await sim.run(100);
    expect(left).toEqual([{ at: lastArrival + 3_600, reason: expect.stringContaining("nothing from the AP") }]);
  });
});

describe("lab controller: the AP table", () => {
  it("advertises how many APs are in Run (AC Descriptor, Active WTPs) as they join and leave", async () => {
    lab = new SimLab({ aps: 3 });
    const sim = lab;
    const probe = sim.network.bind("10.0.0.77");
    const answers: number[] = [];
    probe.onMessage((d) => answers.push(ciscoProfile.acSummary(decodeControlPacket<Element>(d, ciscoProfile.elements).message!.elements).activeWtps));
    const activeWtps = async () => {
      answers.length = 0;
      probe.send(encodeControlPacket({ type: MessageType.DiscoveryRequest, seq: 1, elements: [] }, ciscoProfile.elements), { address: AC_ADDRESS, port: 5246 });
      await sim.run(10);
      expect(answers).toHaveLength(1);
      return answers[0];
    };
    expect(await activeWtps()).toBe(0);
    await sim.start();
    expect(await sim.runUntil(() => sim.allInRun())).toBe(true);
    expect(await activeWtps()).toBe(3);
    await sim.wtps[2]!.stop();
    expect(await sim.runUntil(() => sim.controller.aps().length === 2)).toBe(true);
    expect(await activeWtps()).toBe(2);
  });
});

describe("lab controller: its two sockets", () => {
  it("listen() on a port in use: a ConfigError naming address:port, and the control socket already bound is closed again", async () => {
    const address = await freeLoopbackAddress();
    const squatter = await bindUdp({ address, port: 5247 });
    try {
      const refused = LabController.listen({ address, profile: "cisco", dtls: "plaintext" });
      await expect(refused).rejects.toThrow(ConfigError);
      await expect(refused).rejects.toThrow(new RegExp(`^lab controller cannot listen on ${escaped(address)}:5247: bind EADDRINUSE`));
      expect(await free(address, 5246)).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it("listen() on an in-memory network binds both at once, refuses the same way, and shutdown() frees both ports", async () => {
    const network = new MemoryNetwork(new ManualClock());
    const bind = (address: string, port: number) => network.bind(address, port);
    network.bind("10.0.0.9", 5247);
    expect(() => LabController.listen({ address: "10.0.0.9", profile: "cisco", dtls: "plaintext" }, bind)).toThrow(/^lab controller cannot listen on 10\.0\.0\.9:5247: 10\.0\.0\.9:5247 is already bound$/);
    const controller = LabController.listen({ address: "10.0.0.8", profile: "cisco", dtls: "plaintext" }, bind);
    expect(controller.sockets.control.local).toEqual({ address: "10.0.0.8", port: 5246 });
    expect(controller.sockets.data.local).toEqual({ address: "10.0.0.8", port: 5247 });
    await controller.shutdown();
    await LabController.listen({ address: "10.0.0.8", profile: "cisco", dtls: "plaintext" }, bind).shutdown();
    // The refused controller's control socket was closed again.
    network.bind("10.0.0.9", 5246).close();
  });

  for (const port of [5246, 5247]) {
    it(`vap controller with ${port} in use: one line naming it, exit status 2, nothing left bound`, async () => {
      const address = await freeLoopbackAddress();
      const squatter = await bindUdp({ address, port });
      try {
        const { code, err } = await vap("controller", "--plaintext", "--address", address);
        expect(code).toBe(2);
        expect(err).toMatch(new RegExp(`^vap controller: lab controller cannot listen on ${escaped(address)}:${port}: bind EADDRINUSE[^\\n]*\\n$`));
      } finally {
        squatter.close();
      }
      expect(await free(address, 5246)).toBe(true);
      expect(await free(address, 5247)).toBe(true);
    });
  }
});
