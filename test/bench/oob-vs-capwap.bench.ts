/**
 * oob.vs-capwap: the seed's argument for out-of-band download — TCP's
 * window beats CAPWAP's stop-and-wait — as the time to move a realistic
 * image (ap1g8's, 70,512,640 bytes) at 100 ms RTT, no loss, sink storage:
 * - CAPWAP Image Data at window 1 and window 20, the AP and the lab
 *   controller over real UDP and DTLS through the WAN proxy (imageOverWan).
 *   Window 1 carries about 13.8 kB/s, so the whole image would take some 85
 *   minutes: each window moves a sample (CAPWAP_SAMPLE_BYTES) and the time,
 *   from the controller's first block to its last acknowledgement, is
 *   projected linearly to the image (a steady stream of blocks, the start's
 *   one request and response a fraction of a second of it). Beside it the
 *   physical bound, window × 1377 B / RTT, as a time for the image.
 * - HTTPS: the AP's OOB download of the whole image from the controller's
 *   embedded server across `vap wan --link` (real TCP between namespaces,
 *   oob-rig.ts), median of HTTPS_ROUNDS, measured, not projected. Its offer's
 *   one CAPWAP round trip (100 ms) is not in it.
 * One line per method; the HTTPS line also gives how many times faster than
 * each CAPWAP window it is. The CAPWAP lines need no root; the HTTPS line
 * makes network namespaces.
 */
import { hardwareClasses } from "../../platform/classes/index.js";
import { imageOverWan } from "../support/wan-image.js";
import { acrossLink, mbPerS } from "./netns-link.js";
import { OobRig } from "./oob-rig.js";
import { median, report } from "./report.js";

const RTT_MS = 100;
const IMAGE = "ap1g8";
const IMAGE_BYTES = hardwareClasses[IMAGE].typicalImageBytes;
/** About 38 s at window 1 and 19 s at window 20: long enough for a steady rate, short enough for a bench. */
const CAPWAP_SAMPLE_BYTES = { 1: 512 * 1024, 20: 5 * 1024 * 1024 } as const;
const HTTPS_ROUNDS = 3;

const round1 = (x: number) => Math.round(x * 10) / 10;

const capwapSeconds: Record<number, number> = {};
for (const [w, sampleBytes] of Object.entries(CAPWAP_SAMPLE_BYTES)) {
  const window = Number(w);
  const r = await imageOverWan({ profile: "cisco", window, imageBytes: sampleBytes, impairment: { delayMs: RTT_MS / 2 }, seed: 7, timeoutMs: 300_000 });
  if (!r.intact) throw new Error(`CAPWAP window ${window}: the ${sampleBytes}-byte sample did not arrive intact`);
  const projected = (r.transferMs / 1000) * (IMAGE_BYTES / sampleBytes);
  capwapSeconds[window] = projected;
  report({
    bench: "oob.vs-capwap",
    value: round1(projected),
    unit: `s to move ${IMAGE_BYTES} B by CAPWAP Image Data (projected from a ${sampleBytes}-byte sample, WAN proxy ${RTT_MS} ms RTT, no loss)`,
    bound: round1(IMAGE_BYTES / r.boundBytesPerSecond),
    boundKind: "physics",
    method: "capwap",
    window,
    sampleBytes,
    sampleSeconds: round1(r.transferMs / 1000),
    bytesPerSecond: Math.round(r.bytesPerSecond),
    boundBytesPerSecond: Math.round(r.boundBytesPerSecond),
  });
}

const rig = OobRig.create({ [IMAGE]: IMAGE_BYTES });
try {
  const { result: ms } = await acrossLink(rig.ns, ["--delay", `${RTT_MS / 2}ms`], async () => {
    const server = await rig.server("embedded");
    try {
      const times: number[] = [];
      for (let round = 0; round < HTTPS_ROUNDS; round++) times.push(rig.apDownload(server.offers[IMAGE]!, IMAGE));
      return median(times);
    } finally {
      await server.stop();
    }
  });
  const seconds = ms / 1000;
  report({
    bench: "oob.vs-capwap",
    value: round1(seconds),
    unit: `s to move ${IMAGE_BYTES} B by the AP's OOB HTTPS download (embedded server, vap wan --link ${RTT_MS} ms RTT, no loss, median of ${HTTPS_ROUNDS})`,
    method: "https",
    MBps: mbPerS(IMAGE_BYTES, ms),
    timesFasterThanCapwapW1: Math.round(capwapSeconds[1]! / seconds),
    timesFasterThanCapwapW20: round1(capwapSeconds[20]! / seconds),
  });
} finally {
  rig.remove();
}
