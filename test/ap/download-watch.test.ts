import { describe, expect, it } from "vitest";
import { DownloadWatch, type DownloadEvent } from "../../agent/ap/download-watch.js";
import type { DownloadHost, ImageDownload } from "../../agent/capwap/wtp/index.js";
import { ManualClock } from "../../agent/core/index.js";
import type { ImageSink } from "../../agent/transfer/index.js";

const download: ImageDownload = { mode: "join", version: "17.12.1.5", controllerAddress: "127.0.0.1", window: 8 };
const nullSink: ImageSink = { begin: async () => {}, write: async () => {}, finish: async () => ({ reboot: true }), abort: async () => {} };

/** A watched source whose host records what reached the WTP; `run` drives its sink as a source would. */
function watched() {
  const clock = new ManualClock();
  const events: string[] = [];
  const watch = new DownloadWatch(clock, (e: DownloadEvent) => events.push(e.kind === "ended" ? `ended ok=${e.ok} ${e.reason ?? ""} bytes=${e.bytes} ms=${e.ms} flowed=${e.flowed}`.replace("  ", " ") : e.kind));
  const told: string[] = [];
  const host = { session: {} as DownloadHost["session"], started: () => told.push("started"), finished: () => told.push("finished"), failed: (r: string) => told.push(`failed ${r}`) } as DownloadHost;
  let lent: DownloadHost | undefined;
  const sources = watch.sources({ capwap: { start: (_d, h) => ((lent = h), { abort: () => told.push("aborted") }) } });
  const running = sources.capwap!.start(download, host);
  return { clock, events, told, sink: watch.sink(nullSink), host: () => lent!, running };
}

describe("DownloadWatch: what a fleet counts of an AP's image download", () => {
  it("started at the first byte, drained at the last announced one (before the AP acknowledges it), then ended with bytes and time", async () => {
    const w = watched();
    w.host().started();
    w.clock.advance(5000); // queued at the controller: no byte yet
    await w.sink.begin({ name: "ap1g8", size: 3000 });
    expect(w.events).toEqual([]);
    await w.sink.write(new Uint8Array(1500));
    expect(w.events).toEqual(["started"]);
    w.clock.advance(200);
    await w.sink.write(new Uint8Array(1500));
    expect(w.events).toEqual(["started", "drained"]);
    await w.sink.finish();
    w.host().finished({ reboot: true });
    expect(w.events).toEqual(["started", "drained", "ended ok=true bytes=3000 ms=200 flowed=true"]);
    expect(w.told).toEqual(["started", "finished"]);
  });

  it("a download aborted mid-way is drained and ended once, failed as aborted; the WTP's abort still reaches the source", async () => {
    const w = watched();
    await w.sink.begin({ name: "ap1g8", size: 3000 });
    await w.sink.write(new Uint8Array(1000));
    w.running.abort("teardown");
    w.host().failed("network", "late report after the abort");
    expect(w.events).toEqual(["started", "drained", "ended ok=false aborted bytes=1000 ms=0 flowed=true"]);
    expect(w.told).toEqual(["aborted", "failed network"]);
  });

  it("a download that fails before any byte never counted as flowing", () => {
    const w = watched();
    w.clock.advance(30_000);
    w.host().failed("timeout", "no first block");
    expect(w.events).toEqual(["ended ok=false timeout bytes=0 ms=30000 flowed=false"]);
  });
});
