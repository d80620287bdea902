/** The OOB file server's pure parts: ranges, request targets, fault shapes, and nginx's access log lines read back. */
import { describe, expect, it } from "vitest";
import { bodyPlan, corruptChunk } from "../../../lab/controller/oob/faults.js";
import { CORRUPT_BYTES } from "../../../lab/controller/oob/limits.js";
import { transferOf } from "../../../lab/controller/oob/nginx.js";
import { parseRange, requestTarget } from "../../../lab/controller/oob/serve.js";

describe("parseRange (RFC 9110 §14.1.2, one range)", () => {
  const size = 1000;
  it.each([
    [undefined, { kind: "whole" }],
    ["bytes=0-99", { kind: "range", start: 0, end: 99 }],
    ["bytes=900-", { kind: "range", start: 900, end: 999 }],
    ["bytes=900-5000", { kind: "range", start: 900, end: 999 }],
    ["bytes=-100", { kind: "range", start: 900, end: 999 }],
    ["bytes=-5000", { kind: "range", start: 0, end: 999 }],
    ["BYTES=1-1", { kind: "range", start: 1, end: 1 }],
    ["bytes=999-999", { kind: "range", start: 999, end: 999 }],
    ["bytes=1000-", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    // Ignored, as RFC 9110 lets a server: several ranges, a reversed one, another unit, junk.
    ["bytes=0-1,5-6", { kind: "whole" }],
    ["bytes=10-5", { kind: "whole" }],
    ["items=0-1", { kind: "whole" }],
    ["bytes=-", { kind: "whole" }],
    ["bytes=a-b", { kind: "whole" }],
  ] as const)("%s", (header, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it("an empty file satisfies no range", () => {
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-1", 0)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("requestTarget", () => {
  it.each([
    ["/images/ap1g8", { image: "ap1g8", file: "ap1g8" }],
    ["/images/ap1g8?x=1", { image: "ap1g8", file: "ap1g8" }],
    ["/images/ap1g%38", { image: "ap1g8", file: "ap1g8" }],
    ["/images/../etc/passwd", { status: 404, file: "/images/../etc/passwd" }],
    ["/images/%2e%2e%2fetc%2fpasswd", { status: 404, file: "/images/%2e%2e%2fetc%2fpasswd" }],
    ["/images/AP1G8", { status: 404, file: "/images/AP1G8" }],
    ["/images/ap1g8/", { status: 404, file: "/images/ap1g8/" }],
    ["/images/.hidden", { status: 404, file: "/images/.hidden" }],
    ["/images/", { status: 404, file: "/images/" }],
    ["/ap1g8", { status: 404, file: "/ap1g8" }],
    ["/images/ap%00", { status: 404, file: "/images/ap%00" }],
    ["/images/%zz", { status: 400, file: "/images/%zz" }],
  ] as const)("%s", (url, expected) => {
    expect(requestTarget(url)).toEqual(expected);
  });

  it("shows a long path cut short", () => {
    expect(requestTarget(`/${"a".repeat(500)}`).file).toHaveLength(120);
  });
});

describe("fault shapes", () => {
  it("stall and truncate send about half a body, the others all of it", () => {
    expect(bodyPlan("stall", 1001)).toEqual({ send: 500, then: "hold" });
    expect(bodyPlan("truncate", 1001)).toEqual({ send: 500, then: "close" });
    expect(bodyPlan("corrupt", 1001)).toEqual({ send: 1001, then: "end" });
    expect(bodyPlan(undefined, 0)).toEqual({ send: 0, then: "end" });
    // A HEAD has no body to spoil.
    expect(bodyPlan("stall", 0)).toEqual({ send: 0, then: "end" });
    expect(bodyPlan("truncate", 0)).toEqual({ send: 0, then: "end" });
  });

  it("corrupt flips the middle CORRUPT_BYTES of the file, at the same file positions whatever the chunking", () => {
    const size = 1001;
    const whole = new Uint8Array(size).fill(0x11);
    corruptChunk(whole, 0, size);
    const flipped = [...whole.keys()].filter((i) => whole[i] !== 0x11);
    expect(flipped).toEqual(Array.from({ length: CORRUPT_BYTES }, (_, i) => 500 + i));
    expect(whole[500]).toBe(0xee);
    // The same file read in 7-byte chunks (a resume starting mid-way included).
    const pieces = new Uint8Array(size).fill(0x11);
    for (let at = 3; at < size; at += 7) corruptChunk(pieces.subarray(at, Math.min(size, at + 7)), at, size);
    expect(pieces.subarray(3)).toEqual(whole.subarray(3));
  });
});

describe("nginx access log lines as transfers", () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({ address: "127.0.0.1", ap: "02:00:00:00:00:01", method: "GET", uri: "/images/ap1g8", status: 200, length: "1000", bytes: 1000, seconds: 0.25, completion: "OK", ...fields });

  it("reads a whole transfer, one without a token, a HEAD, and a body cut short that nginx calls complete", () => {
    expect(transferOf(line({}))).toEqual({ ap: "02:00:00:00:00:01", address: "127.0.0.1", file: "ap1g8", bytes: 1000, seconds: 0.25, status: 200, complete: true, method: "HTTPS" });
    expect(transferOf(line({ ap: "", status: 401, length: "179", bytes: 179 }))).toEqual({ address: "127.0.0.1", file: "ap1g8", bytes: 179, seconds: 0.25, status: 401, complete: true, method: "HTTPS" });
    expect(transferOf(line({ method: "HEAD", bytes: 0 }))?.complete).toBe(true);
    expect(transferOf(line({ bytes: 500 }))?.complete).toBe(false);
    expect(transferOf(line({ completion: "" }))?.complete).toBe(false);
    expect(transferOf(line({ uri: "/etc/passwd", status: 404 }))?.file).toBe("/etc/passwd");
  });

  it("is no transfer when the line is not one of its own", () => {
    expect(transferOf("not json")).toBeUndefined();
    expect(transferOf(JSON.stringify({ address: "127.0.0.1" }))).toBeUndefined();
    expect(transferOf(line({ status: "200" }))).toBeUndefined();
  });
});
