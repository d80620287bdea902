import { describe, expect, it } from "vitest";
import { ControlChannel } from "../../agent/capwap/channel/index.js";
import { controlHeader, encodeControlMessage, fragmentPayload, MessageType } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Element, type Message } from "../../agent/capwap/profiles/index.js";
import { createLog, ManualClock } from "../../agent/core/index.js";

const PEER = "10.0.0.2:5246";
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));
/** An Echo Request whose one element claims 8 bytes and has none: broken TLV framing. */
const MALFORMED = hex("00100200 00000000 0000000d 00 0007 00 0021 0008");

function channel(options: { diagnostics?: boolean } = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const log = createLog({ clock, level: "debug", console: (l) => lines.push(l.replace(/^\[\*[^\]]+\] /, "")) });
  const discarded: string[] = [];
  const requests: Message[] = [];
  const ch = new ControlChannel({
    profile: ciscoProfile,
    clock,
    transmit: () => {},
    maxPacketSize: () => 1400,
    retransmitIntervalMs: 3000,
    maxRetransmit: 5,
    onRequest: (m) => requests.push(m),
    onDiscard: (reason) => discarded.push(reason),
    ...(options.diagnostics !== false && { diagnostics: { log, peer: PEER } }),
  });
  return { ch, clock, lines, discarded, requests };
}

describe("the control channel logs what it drops, a few lines per reason and then a summary", () => {
  it("1000 malformed packets: onDiscard hears of each, the log gets five lines and one summary", () => {
    const { ch, clock, lines, discarded } = channel();
    for (let i = 0; i < 1000; i++) ch.receive(MALFORMED);
    expect(discarded).toHaveLength(1000);
    expect(discarded[0]).toBe("malformed packet: CAPWAP decode: element length 8 exceeds the 0 bytes left at byte 18 in Echo Request(13) element Result Code(33)");
    expect(lines).toEqual(Array(5).fill(`Discarding packet from ${PEER}: ${discarded[0]}`));
    clock.advance(10_000);
    expect(lines.slice(5)).toEqual([`1000 packets discarded from ${PEER} in the last 10 s: malformed packet`]);
  });

  it("responses nobody waits for are a reason of their own, per message type", () => {
    const { ch, clock, lines } = channel();
    const response = (type: number, seq: number) => Uint8Array.of(...hex("00100200 00000000"), ...encodeControlMessage({ type, seq, elements: [] }, ciscoProfile.elements));
    for (let seq = 0; seq < 8; seq++) {
      ch.receive(response(MessageType.EchoResponse, seq));
      ch.receive(MALFORMED);
    }
    expect(lines.filter((l) => l.includes("unexpected Echo Response (seq"))).toHaveLength(5);
    expect(lines.filter((l) => l.includes(": malformed packet: "))).toHaveLength(5);
    clock.advance(10_000);
    expect(lines.slice(10).sort()).toEqual([`8 packets discarded from ${PEER} in the last 10 s: malformed packet`, `8 packets discarded from ${PEER} in the last 10 s: unexpected Echo Response`]);
  });

  it("close() gives the summaries still due", () => {
    const { ch, lines } = channel();
    for (let i = 0; i < 7; i++) ch.receive(MALFORMED);
    ch.close();
    expect(lines.at(-1)).toBe(`7 packets discarded from ${PEER} in the last 0 ms: malformed packet`);
  });

  it("without diagnostics it logs nothing itself (its owner logs from onDiscard)", () => {
    const { ch, lines, discarded } = channel({ diagnostics: false });
    ch.receive(MALFORMED);
    expect(discarded).toHaveLength(1);
    expect(lines).toEqual([]);
  });
});

describe("an element the codec kept raw reaches the owner in its message and the debug log", () => {
  it("a fragmented Configuration Status Request with a short Cisco AP LED State is delivered; the note is logged once per layout, then summarized", () => {
    const { ch, clock, lines, requests, discarded } = channel();
    const elements: Element[] = [
      { kind: "CiscoApUptime", current: 84, last: 1 },
      { kind: "CiscoApLedState", ledState: 1, saveFlag: 0 },
    ];
    const good = encodeControlMessage({ type: MessageType.ConfigurationStatusRequest, seq: 3, elements }, ciscoProfile.elements);
    // The LED State is the last element (TLV 4 + vendor header 6 + value 2): drop its last byte, fix both length fields.
    const ledAt = good.length - 12;
    const payload = good.subarray(0, good.length - 1);
    payload[6]! -= 1;
    payload[ledAt + 3]! -= 1;
    for (let seq = 0; seq < 7; seq++) {
      payload[4] = seq;
      for (const fragment of fragmentPayload(payload, controlHeader(), 24, seq + 1)) ch.receive(fragment);
    }
    expect(discarded).toEqual([]);
    expect(requests).toHaveLength(7);
    expect(requests[0]!.elements).toEqual([
      { kind: "CiscoApUptime", current: 84, last: 1 },
      { kind: "VendorSpecific", vendorId: 4232704, elementId: 125, data: Uint8Array.of(1), note: "Cisco AP LED State: u8 needs 1 byte(s), 0 left at byte 37" },
    ]);
    const note = `Configuration Status Request from ${PEER}: element kept raw: Cisco AP LED State: u8 needs 1 byte(s), 0 left at byte 37`;
    expect(lines).toEqual(Array(5).fill(note));
    clock.advance(10_000);
    expect(lines.slice(5)).toEqual([`7 elements kept raw from ${PEER} in the last 10 s: Cisco AP LED State`]);
  });
});
