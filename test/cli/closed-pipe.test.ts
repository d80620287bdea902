import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rfc5415Profile } from "../../agent/capwap/profiles/index.js";
import { captureOf } from "../capwap/golden-support.js";
import { rfc5415Messages } from "../capwap/samples.js";
import { tempDir } from "../support/temp.js";

const dir = tempDir("closed-pipe");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VAP = join(import.meta.dirname, "../../dist/cli/vap.js");

describe("vap writing into a pipe whose reader has gone (`| head -1`)", () => {
  it("stops quietly with status 0: no EPIPE stack, no further output", () => {
    // Far more JSON than a pipe buffers (64 KiB), so vap is still writing when head exits.
    const samples = Array.from({ length: 40 }, () => rfc5415Messages()).flat();
    const file = join(dir, "many.pcap");
    writeFileSync(file, captureOf(samples, rfc5415Profile).pcap);
    // A real shell pipeline into a real head; PIPESTATUS has vap's own status.
    const r = spawnSync("bash", ["-c", 'node "$1" capwap decode "$2" | head -1; echo "vap exited ${PIPESTATUS[0]}" >&2', "_", VAP, file], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ typeName: "Discovery Request" });
    expect(r.stderr).toBe("vap exited 0\n");
  });
});
