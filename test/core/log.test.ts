import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ciscoTimestamp, createLog, ManualClock } from "../../agent/core/index.js";

describe("log", () => {
  it("formats Cisco console timestamps with four fractional digits", () => {
    expect(ciscoTimestamp(Date.UTC(2024, 0, 30, 21, 41, 35, 112))).toBe("[*01/30/2024 21:41:35.1120]");
  });

  it("writes the same message as a console line and a JSON record, never a secret", async () => {
    const lines: string[] = [];
    const records: string[] = [];
    const json = new Writable({
      write(chunk, _enc, cb) {
        records.push(String(chunk));
        cb();
      },
    });
    const log = createLog({ console: (l) => lines.push(l), json, clock: new ManualClock() });
    log.child({ ap: "AP1" }).info("CAPWAP State: Join", { password: "hunter2", psk: "abc" });
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(["[*01/30/2024 21:41:35.0000] CAPWAP State: Join"]);
    expect(records).toHaveLength(1);
    const rec = JSON.parse(records[0]!);
    expect(rec).toMatchObject({ msg: "CAPWAP State: Join", ap: "AP1", password: "*****", psk: "*****" });
    expect(records[0]).not.toContain("hunter2");
  });
});
