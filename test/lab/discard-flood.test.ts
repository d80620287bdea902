/**
 * A peer sending garbage at the controller's control port costs a few log
 * lines and a summary, not a line per packet — and every packet is counted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { encodeControlPacket, MessageType } from "../../agent/capwap/codec/index.js";
import { ciscoProfile } from "../../agent/capwap/profiles/index.js";
import { createLog, DEFAULT_REPEAT_LIMIT } from "../../agent/core/index.js";
import { bindUdp, type DatagramSocket } from "../../agent/net/index.js";
import { LabController } from "../../lab/controller/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

const FLOOD = 1000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(done: () => boolean, what: () => string): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > 10_000) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A plaintext controller logging into `lines`, and a socket to flood it from. */
async function floodTarget(lines: string[]) {
  const address = await freeLoopbackAddress();
  const controller = await LabController.listen({ address, profile: "cisco", dtls: "plaintext", log: createLog({ console: (l) => lines.push(l) }) });
  cleanups.push(() => controller.shutdown());
  const flooder: DatagramSocket = await bindUdp({ address: "127.0.0.1", port: 0 });
  cleanups.push(() => flooder.close());
  return { address, controller, flooder };
}

describe("the controller under a flood of malformed datagrams", () => {
  it(`${FLOOD} at its socket from one source: the first lines, then one summary at shutdown, all counted`, async () => {
    const lines: string[] = [];
    const { address, controller, flooder } = await floodTarget(lines);
    // Not a DTLS record (no preamble byte 1), too short for a CAPWAP header: malformed.
    for (let i = 0; i < FLOOD; i++) flooder.send(Uint8Array.of(0, 0x10, i & 0xff), { address, port: 5246 });
    await until(() => controller.stats.discarded === FLOOD, () => `${controller.stats.discarded} of ${FLOOD} counted`);
    await controller.shutdown();
    const discards = lines.filter((l) => l.includes("Discarding packet from 127.0.0.1:"));
    expect(discards).toHaveLength(DEFAULT_REPEAT_LIMIT.firstLines);
    const summaries = lines.filter((l) => l.includes("packets discarded"));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(new RegExp(`\\] ${FLOOD} packets discarded from 127\\.0\\.0\\.1 in the last [\\d.]+ m?s: malformed packet$`));
  });

  it(`${FLOOD} responses nobody asked for inside an AP's session: its channel logs the first lines and a summary, all counted`, async () => {
    const lines: string[] = [];
    const { address, controller, flooder } = await floodTarget(lines);
    // In plaintext mode a Join Request opens the AP's session (its empty body gets no answer).
    flooder.send(encodeControlPacket({ type: MessageType.JoinRequest, seq: 0, elements: [] }, ciscoProfile.elements), { address, port: 5246 });
    await until(() => controller.aps().length === 1, () => "no session");
    const key = controller.aps()[0]!.key;
    for (let i = 0; i < FLOOD; i++) flooder.send(encodeControlPacket({ type: MessageType.EchoResponse, seq: i & 0xff, elements: [] }, ciscoProfile.elements), { address, port: 5246 });
    await until(() => controller.stats.discarded === FLOOD, () => `${controller.stats.discarded} of ${FLOOD} counted`);
    await controller.shutdown();
    expect(lines.filter((l) => l.includes(`Discarding packet from ${key}: unexpected Echo Response`))).toHaveLength(DEFAULT_REPEAT_LIMIT.firstLines);
    const summaries = lines.filter((l) => l.includes("packets discarded"));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(new RegExp(`\\] ${FLOOD} packets discarded from ${key.replace(/\./g, "\\.")} in the last [\\d.]+ m?s: unexpected Echo Response$`));
  });
});
