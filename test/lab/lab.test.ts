import { tempDir } from "../support/temp.js";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MessageType } from "../../agent/capwap/codec/index.js";
import { main } from "../../cli/main.js";
import { bindUdp } from "../../agent/net/index.js";
import { Lab } from "../../lab/lab/index.js";
import { escaped, freeLoopbackAddress } from "../support/loopback.js";
import { fieldValues, findAll, problems, tsharkJson, type TsharkPacket } from "../support/tshark.js";

const dir = tempDir("lab");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RFC 5415 §2.2's order for one AP: discovery, join, configure, change state — then Run. */
const JOIN_SEQUENCE = [
  MessageType.DiscoveryRequest,
  MessageType.DiscoveryResponse,
  MessageType.JoinRequest,
  MessageType.JoinResponse,
  MessageType.ConfigurationStatusRequest,
  MessageType.ConfigurationStatusResponse,
  MessageType.ChangeStateEventRequest,
  MessageType.ChangeStateEventResponse,
];

function conversations(packets: TsharkPacket[], acPort = "5246"): Map<string, { control: number[]; keepAlives: number }> {
  const byAp = new Map<string, { control: number[]; keepAlives: number }>();
  for (const p of packets) {
    const [src] = fieldValues(p.layers.udp, "udp.srcport");
    const [dst] = fieldValues(p.layers.udp, "udp.dstport");
    const [srcIp] = fieldValues(p.layers.ip, "ip.src");
    const [dstIp] = fieldValues(p.layers.ip, "ip.dst");
    if ("capwap.data" in p.layers) {
      const ap = src === "5247" ? dstIp! : srcIp!;
      const entry = byAp.get(ap) ?? { control: [], keepAlives: 0 };
      entry.keepAlives++;
      byAp.set(ap, entry);
      continue;
    }
    const type = fieldValues(p.layers.capwap, "capwap.control.header.message_type")[0];
    if (type === undefined) continue; // a non-final fragment
    const ap = src === acPort ? `${dstIp}:${dst}` : `${srcIp}:${src}`;
    const entry = byAp.get(ap) ?? { control: [], keepAlives: 0 };
    entry.control.push(Number(type));
    byAp.set(ap, entry);
  }
  return byAp;
}

describe("APs join the lab controller over real UDP and DTLS; tshark reads the capture", () => {
  for (const profile of ["cisco", "rfc5415"] as const) {
    for (const aps of [1, 10, 200]) {
      it(`${profile}: ${aps} AP(s) reach Run; every message decodes cleanly, in RFC order`, async () => {
        const address = await freeLoopbackAddress();
        const pcap = join(dir, `${profile}-${aps}.pcap`);
        const lab = await Lab.start({ aps, profile, address, apVersion: "17.9.4.27", controllerVersion: "17.9.4.27", console: null, pcap, startRate: 1000 });
        try {
          await lab.waitFor((l) => l.allInRun(), 30_000, () => "not all in Run");
        } finally {
          await lab.stop();
        }
        const packets = tsharkJson(readFileSync(pcap), profile === "cisco" ? { "capwap.draft_8_cisco": "TRUE" } : {});
        const allowed = profile === "cisco" ? ["Session ID length 4 wrong, must be = 16"] : [];
        expect(packets.flatMap((p) => problems(p, allowed))).toEqual([]);
        const byAp = [...conversations(packets).entries()].filter(([k]) => k.includes(":"));
        expect(byAp).toHaveLength(aps);
        for (const [ap, c] of byAp) expect(c.control.slice(0, JOIN_SEQUENCE.length), ap).toEqual(JOIN_SEQUENCE);
        // Data channel: each AP's keep-alive and the controller's answer.
        const keepAlives = [...conversations(packets).values()].reduce((n, c) => n + c.keepAlives, 0);
        expect(keepAlives).toBeGreaterThanOrEqual(2 * aps);
        expect(findAll(packets.map((p) => p.layers), "capwap.keep_alive").length).toBe(keepAlives);
      }, 60_000);
    }
  }
});

describe("vap lab when the controller's port is taken", () => {
  it("one line naming address:port, exit status 2, its temporary directory removed and nothing left bound", async () => {
    const address = await freeLoopbackAddress();
    const squatter = await bindUdp({ address, port: 5247 });
    const tmp = tempDir("lab-tmpdir");
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // where Lab.start makes its own directory
    let err = "";
    try {
      const code = await main(["lab", "--aps", "1", "--address", address, "--quiet"], { stdout: () => {}, stderr: (t) => (err += t) });
      expect(code).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      squatter.close();
    }
    expect(err).toMatch(new RegExp(`^vap lab: lab controller cannot listen on ${escaped(address)}:5247: bind EADDRINUSE[^\\n]*\\n$`));
    expect(readdirSync(tmp)).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
    const control = await bindUdp({ address, port: 5246 });
    control.close();
  });
});
