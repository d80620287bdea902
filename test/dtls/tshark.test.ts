import { tempDir } from "../support/temp.js";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keylogFileSink } from "../../agent/capwap/dtls/index.js";
import { writePcap } from "../support/pcap.js";
import { requirePeer } from "../support/peers.js";
import { clientContext, labPki, Link, nextData, serverContext } from "./support.js";

const AC = { address: "127.0.0.1", port: 5246 };
const WTP = { address: "127.0.0.1", port: 40001 };

/**
 * Hand-built CAPWAP control messages (RFC 5415 §4.3, §4.5.1): header with
 * HLEN 2 and WBID 1, then message type, sequence number, element length 3
 * (itself + flags, no elements) and flags. Echo Request = 13, Response = 14.
 */
function capwapEcho(type: 13 | 14, seq: number): Buffer {
  return Buffer.from([0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, type, seq, 0x00, 0x03, 0x00]);
}

function tshark(args: string[]): string {
  return execFileSync(requirePeer("tshark"), args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

describe("key log", () => {
  it("lets tshark decrypt a captured CAPWAP-over-DTLS exchange", async () => {
    const dir = tempDir("keylog");
    const keylog = join(dir, "sslkeys.log");
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    link.connect({ context: clientContext(pki, { keylog: keylogFileSink(keylog) }) });
    const server = await link.handshake();
    const request = nextData(server);
    link.client.send(capwapEcho(13, 7));
    await request;
    const response = nextData(link.client);
    server.send(capwapEcho(14, 7));
    await response;

    const lines = readFileSync(keylog, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
    expect(statSync(keylog).mode & 0o777).toBe(0o600);

    const pcap = join(dir, "capwap-dtls.pcap");
    writePcap(
      pcap,
      link.log.map((e) => ({ src: e.dir === "c2s" ? WTP : AC, dst: e.dir === "c2s" ? AC : WTP, payload: e.datagram, time: e.time })),
    );
    const fields = ["-T", "fields", "-e", "capwap.preamble.type", "-e", "data.data"];
    const rows = (args: string[]) =>
      tshark(["-r", pcap, ...args, ...fields])
        .trim()
        .split("\n")
        .map((l) => l.split("\t"));

    // Every datagram is CAPWAP with a DTLS header (preamble type 1) ...
    const decrypted = rows(["-o", `tls.keylog_file:${keylog}`]);
    expect(decrypted).toHaveLength(link.log.length);
    expect(decrypted.every(([type]) => type === "1")).toBe(true);
    // ... and with the key log tshark recovers exactly the two CAPWAP messages.
    const plaintexts = decrypted.map(([, data]) => data).filter((d) => d);
    expect(plaintexts).toEqual([capwapEcho(13, 7).toString("hex"), capwapEcho(14, 7).toString("hex")]);
    // Without it, nothing.
    expect(rows([]).filter(([, data]) => data)).toEqual([]);

    // The recovered bytes are the CAPWAP messages tshark itself decodes.
    const clear = join(dir, "capwap-clear.pcap");
    writePcap(
      clear,
      plaintexts.map((hex, i) => ({ src: i ? AC : WTP, dst: i ? WTP : AC, payload: Buffer.from(hex!, "hex"), time: Date.now() })),
    );
    const types = tshark(["-r", clear, "-T", "fields", "-e", "capwap.control.header.message_type"]).trim().split("\n");
    expect(types).toEqual(["13", "14"]);
  });
});
