import { describe, expect, it } from "vitest";
import { imageOverWan } from "../support/wan-image.js";

describe("CAPWAP image download through the WAN impairment proxy (real UDP and DTLS)", () => {
  for (const profile of ["cisco", "rfc5415"] as const) {
    for (const [window, loss] of [
      [1, 0.01],
      [4, 0.03],
      [8, 0.05],
      [20, 0.05],
    ] as const) {
      it(`${profile}, window ${window}: byte-exact through ${loss * 100}% loss, 2% reordering, 1% duplication`, async () => {
        const result = await imageOverWan({
          profile,
          window,
          imageBytes: 80_000 + window * 1000,
          impairment: { delayMs: 3, jitterMs: 1, loss, reorder: 0.02, duplicate: 0.01 },
          seed: window * 7 + (profile === "cisco" ? 1 : 2),
          timeoutMs: 60_000,
        });
        expect(result.completed).toBe(true);
        expect(result.intact).toBe(true);
      }, 90_000);
    }
  }
});
