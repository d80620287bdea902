/** The console socket's frames: round trips in any chunking, and a table of what no peer sends. */
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder, FrameError, FrameType } from "../../../agent/console/transports/index.js";

describe("console frames", () => {
  const frames = [encodeFrame(FrameType.attach, Uint8Array.of(1)), encodeFrame(FrameType.data, new TextEncoder().encode("show version\r")), encodeFrame(FrameType.data), encodeFrame(FrameType.exit, Uint8Array.of(1))];
  const stream = Uint8Array.from(frames.flatMap((f) => [...f]));

  it.each([1, 2, 3, 5, 64, stream.length])("decodes the same frames fed %i bytes at a time", (size) => {
    const decoder = new FrameDecoder();
    const got = [];
    for (let at = 0; at < stream.length; at += size) got.push(...decoder.push(stream.subarray(at, at + size)));
    expect(got.map((f) => [f.type, [...f.payload]])).toEqual([
      [FrameType.attach, [1]],
      [FrameType.data, [...new TextEncoder().encode("show version\r")]],
      [FrameType.data, []],
      [FrameType.exit, [1]],
    ]);
  });

  it.each([
    ["an unknown type", Uint8Array.of(0, 0, 0), "unknown frame type 0"],
    ["a length past the limit", Uint8Array.of(FrameType.data, 0x40, 0x01), "frame of 16385 bytes, more than 16384"],
  ])("refuses %s", (_what, bytes, message) => {
    expect(() => new FrameDecoder().push(bytes)).toThrow(new FrameError(message));
  });

  it("never encodes a payload past the limit", () => {
    expect(() => encodeFrame(FrameType.data, new Uint8Array(16385))).toThrow(RangeError);
  });
});
