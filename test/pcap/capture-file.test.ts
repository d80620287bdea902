import { tempDir } from "../support/temp.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../agent/core/index.js";
import { CaptureFile, readCapture } from "../../agent/pcap/index.js";

const dir = tempDir("capture");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const from = { address: "127.0.0.2", port: 40000 };
const to = { address: "127.0.0.1", port: 5246 };

describe("CaptureFile (--pcap)", () => {
  it("writes what it records as a pcap file", async () => {
    const capture = CaptureFile.open(join(dir, "ok.pcap"));
    capture.record(1000, from, to, Uint8Array.of(0, 0x10, 0x18, 0));
    await capture.close();
    const packets = [];
    for await (const r of readCapture(join(dir, "ok.pcap"))) packets.push(r);
    expect(packets).toHaveLength(1);
    expect(capture).toMatchObject({ packets: 1, dropped: 0, failure: undefined });
  });

  it("a path it cannot write is a one-line ConfigError at open", () => {
    expect(() => CaptureFile.open(join(dir, "missing", "x.pcap"))).toThrow(new ConfigError(`--pcap: cannot write ${join(dir, "missing", "x.pcap")} (ENOENT)`));
  });

  it("a disk that fills up ends the capture with one report, never the process", async () => {
    const reports: string[] = [];
    const capture = CaptureFile.open("/dev/full", (err) => reports.push(err.message));
    capture.record(1000, from, to, new Uint8Array(100));
    while (!capture.failure) await new Promise((r) => setImmediate(r));
    capture.record(1001, from, to, new Uint8Array(100));
    capture.record(1002, from, to, new Uint8Array(100));
    await capture.close();
    expect(reports).toEqual(["capture /dev/full stopped: ENOSPC: no space left on device, write"]);
    expect(capture.dropped).toBe(2);
  });
});
