/**
 * Codec throughput on one core: encode + decode of a Cisco-profile Join
 * Request and of an Image Data Request carrying a 1377-byte block (issue
 * targets: ≥ 200,000 and ≥ 500,000 messages/s, so the codec never limits a
 * fleet).
 */
import { decodeControlPacket, encodeControlPacket } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Message } from "../../agent/capwap/profiles/index.js";
import { ciscoMessages } from "../capwap/samples.js";
import { report } from "./report.js";

function rate(name: string, message: Message, target: number): void {
  const table = ciscoProfile.elements;
  const roundTrip = () => {
    return decodeControlPacket(encodeControlPacket(message, table), table);
  };
  for (let i = 0; i < 20_000; i++) roundTrip(); // warm up the JIT
  // Five rounds of a second each, median reported with the spread: one
  // busy second on a shared machine moves the median, not the figure.
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < 1_000) {
      for (let i = 0; i < 1_000; i++) roundTrip();
      n += 1_000;
      elapsed = performance.now() - started;
    }
    rounds.push(Math.round((n / elapsed) * 1000));
  }
  rounds.sort((a, b) => a - b);
  const bytes = encodeControlPacket(message, table).length;
  report({ bench: `codec.${name}`, value: rounds[2]!, unit: "messages/s (encode+decode, one core, median of 5 one-second rounds)", bound: target, boundKind: "target", min: rounds[0]!, max: rounds[4]!, messageBytes: bytes });
}

const samples = ciscoMessages();
rate("cisco-join-request", samples.find((s) => s.name === "join request")!.message, 200_000);
rate("cisco-image-data-1377", samples.find((s) => s.name === "image data request (block)")!.message, 500_000);
