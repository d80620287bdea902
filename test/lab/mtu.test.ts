import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { maxControlPacket } from "../../agent/capwap/channel/index.js";
import { decodePacket, MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { DtlsContext } from "../../agent/capwap/dtls/index.js";
import { Wtp } from "../../agent/capwap/wtp/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import { bindUdp, type DatagramSocket, type Endpoint } from "../../agent/net/index.js";
import { systemClock } from "../../agent/core/index.js";
import { capwapImageSource } from "../../agent/transfer/index.js";
import { LabController } from "../../lab/controller/index.js";
import { labPki } from "../dtls/support.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { memoryLibrary, MemorySink } from "../support/memory-images.js";

/** The AP's own loopback address, apart from the controller's (its ports are the OS's choice). */
const AP = "127.0.0.1";
/** RFC 5415 §2.4.3's mandatory suite; CBC, so the record overhead is the largest of the default suites'. */
const CIPHERS = "TLS_RSA_WITH_AES_128_CBC_SHA";
const IMAGE = Uint8Array.from(randomBytes(30 * 1377 + 100));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A UDP socket that records the size of every datagram it sends. */
async function measured(address: string, port: number, sizes: number[]): Promise<DatagramSocket> {
  const socket = await bindUdp({ address, port });
  return {
    local: socket.local,
    send: (data, to) => {
      sizes.push(data.length);
      socket.send(data, to);
    },
    onMessage: (h) => socket.onMessage(h),
    close: () => socket.close(),
  };
}

interface Captured {
  out: boolean;
  type: number | undefined;
  fragment: boolean;
  length: number;
}

describe("MTU: one CAPWAP packet per datagram where it fits (IPv4 loopback, DTLS)", () => {
  it("the plaintext limit is the link MTU less the IP and UDP headers of the peer's family", () => {
    expect(maxControlPacket("192.0.2.1")).toBe(1472);
    expect(maxControlPacket("::ffff:192.0.2.1")).toBe(1472);
    expect(maxControlPacket("2001:db8::1")).toBe(1452);
    expect(maxControlPacket("192.0.2.1", { maxPayload: 0 }, 9000)).toBe(8972);
    expect(maxControlPacket("192.0.2.1", { maxPayload: 1407 })).toBe(1407);
  });

  it("cisco: the 1400-byte Join Request and every Image Data Request go unfragmented; a longer message is still fragmented", async () => {
    const AC = await freeLoopbackAddress();
    const pki = labPki("rsa");
    const wire = { ap: [] as number[], ac: [] as number[] };
    const packets: Captured[] = [];
    const controller = await LabController.listen(
      {
        address: AC,
        profile: "cisco",
        dtls: new DtlsContext({ role: "server", cert: pki.controller.cert, key: pki.controller.key, ca: pki.ca.cert, ciphers: CIPHERS }),
        softwareVersion: "17.12.1.5",
        images: memoryLibrary({ ap1g8: IMAGE }),
        imageWindow: () => 4,
      },
      (address, port) => (port === 5246 ? measured(address, port, wire.ac) : bindUdp({ address, port })),
    );
    cleanups.push(async () => {
      await controller.shutdown();
    });
    let sink: MemorySink | undefined;
    const config = parseApConfig(
      { baseMac: "02:00:00:00:61:02", profile: "cisco", controllers: [{ address: AC }], discovery: { bindAddress: AP }, dtls: { cert: "-", key: "-", ca: "-" } },
      "mtu",
    );
    const wtp = new Wtp({
      config,
      network: { bind: (purpose) => (purpose === "control" ? measured(AP, 0, wire.ap) : bindUdp({ address: AP })) },
      dtls: new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert, ciphers: CIPHERS }),
      imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => (sink = new MemorySink()), clock: systemClock, startTimeoutMs: 10_000, inactivityMs: 10_000 }) },
      capture: (_t, from: Endpoint, _to, packet) => {
        const { header, payload } = decodePacket(packet);
        const first = !header.f || header.fragmentOffset === 0;
        const type = first && payload.length >= 4 ? new DataView(payload.buffer, payload.byteOffset).getUint32(0) : undefined;
        packets.push({ out: from.address === AP, type, fragment: header.f, length: packet.length });
      },
    });
    cleanups.push(() => wtp.stop());
    await wtp.start();
    const deadline = Date.now() + 30_000;
    while (!(sink?.finished && wtp.state === "Run") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(wtp.state).toBe("Run");
    expect(Buffer.from(sink!.finished!)).toEqual(Buffer.from(IMAGE));

    const joins = packets.filter((p) => p.out && p.type === MessageType.JoinRequest);
    expect(joins).toEqual([{ out: true, type: MessageType.JoinRequest, fragment: false, length: 1400 }]);
    const blocks = packets.filter((p) => !p.out && p.type === MessageType.ImageDataRequest);
    expect(blocks.length).toBeGreaterThanOrEqual(Math.ceil(IMAGE.length / 1377));
    expect(blocks.filter((p) => p.length === 1400).length).toBe(Math.floor(IMAGE.length / 1377));
    expect(packets.filter((p) => p.fragment)).toEqual([]);

    // Larger than one record: fragmented, each fragment within the session's data MTU, and answered.
    const result = await controller.configurationUpdate(wtp.name, [{ kind: "LocationData", location: "x".repeat(4000) }]);
    expect(result).toBe(ResultCode.Success);
    const fragments = packets.filter((p) => !p.out && p.fragment);
    expect(fragments.length).toBe(3);
    for (const f of fragments) expect(f.length).toBeLessThanOrEqual(1407);
    // No datagram on the wire over the IPv4 path's 1500 - 20 - 8 bytes.
    expect(Math.max(...wire.ap, ...wire.ac)).toBeLessThanOrEqual(1472);
  });
});
