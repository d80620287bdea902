import { afterEach, describe, expect, it } from "vitest";
import { decodeCapture, type DecodedLine } from "../../agent/capwap/decode/index.js";
import { profiles } from "../../agent/capwap/profiles/index.js";
import { pcapBytes, type UdpDatagram } from "../../agent/pcap/index.js";
import { SimLab } from "../support/sim-lab.js";

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

/** Radio ID 255 names the WTP itself (RFC 5415 §4.6.33), not a radio. */
const WHOLE_WTP = 255;

describe("the lab controller takes the Radio IDs of both profiles", () => {
  it.each([
    ["rfc5415", [1, 2]],
    ["cisco", [0, 1]],
  ] as const)("%s: an AP numbering its radios %j reaches Run, and every radio element both sides sent carries those IDs", async (profile, ids) => {
    const datagrams: { timeMs: number; datagram: UdpDatagram }[] = [];
    lab = new SimLab({ profile, controller: { capture: (timeMs, src, dst, payload) => datagrams.push({ timeMs, datagram: { src, dst, payload: payload.slice() } }) } });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 10_000)).toBe(true);

    const lines: DecodedLine[] = [];
    await decodeCapture(
      (async function* () {
        yield pcapBytes(datagrams);
      })(),
      { profile, controlPort: 5246, dataPort: 5247 },
      (line) => lines.push(line),
    );
    const radioIds = new Set<number>();
    for (const line of lines) {
      expect(line).not.toHaveProperty("error");
      for (const element of (line.elements ?? []) as { fields?: { radioId?: number } }[]) {
        const id = element.fields?.radioId;
        if (id !== undefined && id !== WHOLE_WTP) radioIds.add(id);
      }
    }
    expect([...radioIds].sort()).toEqual(ids);
    expect(profiles[profile].firstRadioId).toBe(ids[0]);
  });
});
