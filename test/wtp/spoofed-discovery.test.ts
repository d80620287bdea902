/**
 * A Discovery Response from an address the AP never asked, on real UDP: with
 * a static controller list the AP answers only what comes from a listed
 * controller. Before, one forged response (any of 256 sequence numbers)
 * took the AP into DTLS Setup with the forger for WaitDTLS (60 s).
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { encodeControlPacket, MessageType } from "../../agent/capwap/codec/index.js";
import { profiles } from "../../agent/capwap/profiles/index.js";
import { Wtp } from "../../agent/capwap/wtp/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import { createLog } from "../../agent/core/index.js";
import { bindUdp } from "../../agent/net/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

let wtp: Wtp | undefined;
let forger: Socket | undefined;
afterEach(async () => {
  await wtp?.stop();
  forger?.close();
});

/** What a forger sends: a well-formed Discovery Response for every sequence number the AP might be waiting on. */
function forgedResponses(): Uint8Array[] {
  const profile = profiles.cisco;
  const elements = profile.discoveryResponse(
    { name: "evil-wlc", softwareVersion: "17.12.1.5", hardwareVersion: "1.0.0.0", stations: 0, stationLimit: 1000, activeWtps: 0, maxWtps: 1000, security: 2, controlAddress: "127.0.0.1", unixTime: 0, echoIntervalSeconds: 30 },
    [],
  );
  return Array.from({ length: 256 }, (_, seq) => encodeControlPacket({ type: MessageType.DiscoveryResponse, seq, elements }, profile.elements));
}

describe("Discovery Responses with a static controller list", () => {
  it("a forged response from an unlisted address is discarded; the AP keeps discovering its controller", async () => {
    const listed = await freeLoopbackAddress();
    const lines: string[] = [];
    const config = parseApConfig({ baseMac: "02:00:00:00:77:01", profile: "cisco", controllers: [{ address: listed }], dtls: { mode: "plaintext" }, timers: { discoveryInterval: "5s" } }, "spoof.yaml");
    wtp = new Wtp({ config, network: { bind: () => bindUdp({ address: "127.0.0.1", port: 0 }) }, log: createLog({ console: (l) => lines.push(l) }) });
    await wtp.start();
    const target = wtp.controlEndpoint!;

    forger = createSocket("udp4");
    const forgerAddress = await freeLoopbackAddress();
    await new Promise<void>((r) => forger!.bind(5246, forgerAddress, r));
    for (const packet of forgedResponses()) forger.send(packet, target.port, target.address);
    await new Promise((r) => setTimeout(r, 300));

    expect(wtp.state).toBe("Discovery");
    // Every forged response is counted; the log shows the first few, then (at stop) one summary.
    expect(wtp.stats.discarded).toBe(256);
    // 255 carry another round's sequence number; the one that matches comes from an unlisted address.
    expect(lines.filter((l) => l.includes(`Discarding Discovery Response from ${forgerAddress}:5246: not a configured controller`))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("Discarding msg CAPWAP_DISCOVERY_RESPONSE(type 2) in CAPWAP state: Discovery"))).toHaveLength(5);
    await wtp.stop();
    expect(lines.filter((l) => l.includes(`255 packets discarded from ${forgerAddress} in the last`) && l.endsWith(": CAPWAP_DISCOVERY_RESPONSE in Discovery"))).toHaveLength(1);
    expect(lines.some((l) => l.includes("evil-wlc") || l.includes("CAPWAP State: DTLS Setup"))).toBe(false);
  });
});
