/**
 * The seed's sliding window, measured: one image through the WAN impairment
 * proxy at 100 ms RTT for windows 1, 4, 8 and 20, at 0% and 1% loss,
 * against the bound window × block / RTT. Each run is sized to last about
 * VAP_BENCH_SECONDS (35 s: about 0.5 MB at window 1, 9 MB at window 20).
 * Targets: ≥ 90% of the bound at 0% loss; the image intact (the AP
 * checked its MD5; the bench compares SHA-256 too) and ≥ 50% at 1%.
 */
import { imageOverWan } from "../support/wan-image.js";
import { report } from "./report.js";

const SECONDS = Number(process.env.VAP_BENCH_SECONDS ?? 35);
const RTT_MS = 100;
const BLOCK = 1377;
for (const loss of [0, 0.01]) {
  for (const window of [1, 4, 8, 20]) {
    const bound = (window * BLOCK) / (RTT_MS / 1000);
    const r = await imageOverWan({
      profile: "cisco",
      window,
      imageBytes: Math.round(bound * SECONDS),
      impairment: { delayMs: RTT_MS / 2, loss },
      seed: 7,
      timeoutMs: SECONDS * 1000 * 6,
    });
    const ratio = r.bytesPerSecond / r.boundBytesPerSecond;
    report({
      bench: `image-window.w${window}.loss${loss * 100}`,
      value: Math.round(r.bytesPerSecond),
      unit: "bytes/s",
      bound: Math.round(r.boundBytesPerSecond),
      boundKind: "physics",
      ratio: Math.round(ratio * 1000) / 1000,
      target: loss === 0 ? 0.9 : 0.5,
      window,
      rttMs: RTT_MS,
      loss,
      imageBytes: Math.round(bound * SECONDS),
      seconds: Math.round(r.transferMs / 100) / 10,
      completed: r.completed,
      intact: r.intact,
    });
  }
}
