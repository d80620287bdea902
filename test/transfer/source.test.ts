/**
 * The image-source seam: any ImageSource, started for the WTP through
 * imageSourceStarter, reports started/finished/failed(reason) with a typed
 * reason, gets its sink prechecked first and aborted on failure, and stops
 * when the WTP aborts it. The CAPWAP source fails with its own reasons.
 */
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { type Message, profiles } from "../../agent/capwap/profiles/index.js";
import type { CapwapSession, DownloadHost, ImageDownload, ImageSourceFailure } from "../../agent/capwap/wtp/index.js";
import { createLog, ManualClock } from "../../agent/core/index.js";
import { capwapImageSource, type ImageSource, ImageSourceError, imageSourceStarter } from "../../agent/transfer/index.js";
import { MemorySink } from "../support/memory-images.js";

const DOWNLOAD: ImageDownload = { mode: "join", version: "17.12.1.5", controllerAddress: "10.0.0.1", window: 4 };
const settle = async () => {
  for (let i = 0; i < 8; i++) await Promise.resolve();
};

/** A host that records what the download reported, over a CAPWAP session the test scripts. */
function recordingHost(request: CapwapSession["request"] = () => new Promise(() => {})) {
  const lines: string[] = [];
  const reports: ({ started: true } | { finished: { reboot: boolean; version?: string } } | { failed: ImageSourceFailure; message: string })[] = [];
  const host: DownloadHost = {
    session: { profile: profiles.rfc5415, log: createLog({ console: (l) => lines.push(l) }), request, respond: () => {}, onImageData: () => {} },
    started: () => reports.push({ started: true }),
    finished: (result) => reports.push({ finished: result }),
    failed: (reason, message) => reports.push({ failed: reason, message }),
  };
  return { host, reports, lines };
}

/** An out-of-band source (HTTPS-like): it needs nothing from the CAPWAP session. */
function bytesSource(bytes: Uint8Array, gate?: Promise<void>): ImageSource & { signal?: AbortSignal } {
  const source: ImageSource & { signal?: AbortSignal } = {
    async fetch(image, sink, { signal }) {
      source.signal = signal;
      await sink.begin({ name: image.name, size: bytes.length });
      await gate;
      if (signal.aborted) throw signal.reason;
      await sink.write(bytes);
      return sink.finish();
    },
  };
  return source;
}

describe("imageSourceStarter: any source behind the WTP's seam", () => {
  it("a source that needs nothing from CAPWAP: started once the sink began, then finished, the bytes in the sink", async () => {
    const sink = new MemorySink();
    const { host, reports } = recordingHost();
    imageSourceStarter({ imageName: "ap1g8", sink: () => sink, source: () => bytesSource(Uint8Array.of(1, 2, 3)) }).start(DOWNLOAD, host);
    await settle();
    expect(reports).toEqual([{ started: true }, { finished: { reboot: false } }]);
    expect([...sink.finished!]).toEqual([1, 2, 3]);
  });

  it("a typed failure reaches the WTP with its reason; the sink is aborted with its message", async () => {
    const sink = new MemorySink();
    const { host, reports } = recordingHost();
    const missing: ImageSource = { fetch: async () => Promise.reject(new ImageSourceError("not-found", "404 ap1g8")) };
    imageSourceStarter({ imageName: "ap1g8", sink: () => sink, source: () => missing }).start(DOWNLOAD, host);
    await settle();
    expect(reports).toEqual([{ failed: "not-found", message: "404 ap1g8" }]);
    expect(sink.aborted).toEqual(["404 ap1g8"]);
  });

  it("the sink's precheck refuses: reason sink, the source is never asked", async () => {
    const sink = Object.assign(new MemorySink(), { precheck: async () => Promise.reject(new Error("/tmp space: available 10 KiB, required 50 KiB")) });
    const { host, reports } = recordingHost();
    let asked = false;
    const source: ImageSource = { fetch: async () => ((asked = true), {}) };
    imageSourceStarter({ imageName: "ap1g8", sink: () => sink, source: () => source }).start(DOWNLOAD, host);
    await settle();
    expect(reports).toEqual([{ failed: "sink", message: "/tmp space: available 10 KiB, required 50 KiB" }]);
    expect(asked).toBe(false);
  });

  it("a bug in a source is reason internal", async () => {
    const { host, reports } = recordingHost();
    const buggy: ImageSource = { fetch: async () => Promise.reject(new TypeError("x is undefined")) };
    imageSourceStarter({ imageName: "ap1g8", sink: () => new MemorySink(), source: () => buggy }).start(DOWNLOAD, host);
    await settle();
    expect(reports).toEqual([{ failed: "internal", message: "x is undefined" }]);
  });

  it("aborted by the WTP: logged, the source's signal carries reason aborted, the sink aborted, nothing reported after", async () => {
    const sink = new MemorySink();
    const { host, reports, lines } = recordingHost();
    let open!: () => void;
    const source = bytesSource(Uint8Array.of(1), new Promise<void>((resolve) => (open = resolve)));
    const running = imageSourceStarter({ imageName: "ap1g8", sink: () => sink, source: () => source }).start(DOWNLOAD, host);
    await settle();
    running.abort("DataChannelDeadInterval expired");
    open();
    await settle();
    expect(reports).toEqual([{ started: true }]);
    expect(lines.some((l) => l.includes("Aborting image download(0x0): DataChannelDeadInterval expired, ap1g8"))).toBe(true);
    expect(source.signal!.reason).toBeInstanceOf(ImageSourceError);
    expect((source.signal!.reason as ImageSourceError).reason).toBe("aborted");
    expect(sink.aborted).toEqual(["DataChannelDeadInterval expired"]);
    expect(sink.finished).toBeUndefined();
  });
});

describe("the CAPWAP source's failure reasons", () => {
  const clock = new ManualClock();
  const start = (request: CapwapSession["request"], download = DOWNLOAD) => {
    const sink = new MemorySink();
    const recorded = recordingHost(request);
    capwapImageSource({ imageName: "ap1g8", sink: () => sink, clock, startTimeoutMs: 3_000 }).start(download, recorded.host);
    return { ...recorded, sink };
  };
  const response = (resultCode: number, withInformation = true): Message => ({
    type: MessageType.ImageDataResponse,
    seq: 1,
    elements: [{ kind: "ResultCode", resultCode }, ...(withInformation ? [{ kind: "ImageInformation" as const, fileSize: 3000, hash: new Uint8Array(16) }] : [])],
  });

  it("no answer to the Initiate Download: timeout", async () => {
    const { reports, sink, lines } = start(async () => Promise.reject(new Error("no answer to Image Data Request")));
    await settle();
    expect(reports).toEqual([{ failed: "timeout", message: "image download cannot start" }]);
    expect(sink.aborted).toEqual(["image download cannot start"]);
    expect(lines.some((l) => l.endsWith("Image Data Request sent to 10.0.0.1, fileName [ap1g8]"))).toBe(true);
  });

  it("a primary's download (efficient image upgrade): its request line carries replicaStatus 0", async () => {
    const { lines } = start(async () => Promise.reject(new Error("no answer")), { ...DOWNLOAD, mode: "predownload", efficient: { role: "primary" } });
    await settle();
    expect(lines.some((l) => l.endsWith("Image Data Request sent to 10.0.0.1, fileName [ap1g8], replicaStatus 0"))).toBe(true);
  });

  it("the controller refuses: refused, with its result code", async () => {
    const { reports } = start(async () => response(ResultCode.ImageDataErrorOtherError));
    await settle();
    expect(reports).toEqual([{ failed: "refused", message: "image download cannot start: Image Data Error (Other Error)" }]);
  });

  it("no Image Information: refused", async () => {
    const { reports } = start(async () => response(ResultCode.Success, false));
    await settle();
    expect(reports).toEqual([{ failed: "refused", message: "image download cannot start: no Image Information" }]);
  });

  it("accepted, but no block within ImageDataStartTimer: started, then timeout", async () => {
    const { reports } = start(async () => response(ResultCode.Success));
    await settle();
    expect(reports).toEqual([{ started: true }]);
    clock.advance(3_000);
    await settle();
    expect(reports).toEqual([{ started: true }, { failed: "timeout", message: "image download cannot start" }]);
  });
});
