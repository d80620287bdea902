import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { CapwapImageStage } from "../../agent/transfer/index.js";
import { impairedLink } from "../support/impairment.js";
import { memoryLibrary, MemorySink } from "../support/memory-images.js";
import { SimLab } from "../support/sim-lab.js";

const IMAGE = Uint8Array.from(randomBytes(100_003)); // not a multiple of either block size
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

interface ImageLabOptions {
  profile: "cisco" | "rfc5415";
  window: number;
  aps?: number;
  controller?: NonNullable<ConstructorParameters<typeof SimLab>[0]>["controller"];
}

function imageLab(options: ImageLabOptions) {
  const lines: string[] = [];
  const sinks: MemorySink[] = [];
  lab = new SimLab({
    profile: options.profile,
    aps: options.aps ?? 1,
    lines,
    controller: { images: memoryLibrary({ ap1g8: IMAGE }), softwareVersion: "17.12.1.5", imageWindow: () => options.window, ...options.controller },
    wtp: (i, sim) => ({
      imageStage: new CapwapImageStage({
        imageName: "ap1g8",
        sink: () => (sinks[i] = new MemorySink()),
        clock: sim.clock,
        startTimeoutMs: 3_000,
        inactivityMs: 3_000,
      }),
    }),
  });
  return { lab, lines, sinks };
}

describe("CAPWAP Image Data with a sliding window (simulated network, real DTLS)", () => {
  for (const profile of ["cisco", "rfc5415"] as const) {
    for (const window of [1, 4, 8, 20]) {
      it(`${profile}, window ${window}: byte-exact through 3% loss, reordering and duplication`, async () => {
        const { lab, lines, sinks } = imageLab({ profile, window });
        lab.network.filter = impairedLink({ seed: window, loss: 0.03, reorder: 0.05, duplicate: 0.02 });
        await lab.start();
        expect(await lab.runUntil(() => sinks[0]?.finished !== undefined && lab.allInRun(), 300_000, 5)).toBe(true);
        expect(md5(sinks[0]!.finished!)).toBe(md5(IMAGE));
        expect(lab.controller.aps()[0]!.download).toMatchObject({ name: "ap1g8", state: "complete", size: IMAGE.length, window });
        const blockSize = profile === "cisco" ? 1377 : 1024;
        const expected = [
          "AP image version 17.9.4.27 backup 0.0.0.0, Controller 17.12.1.5",
          "Version does not match.",
          "Image Data Request sent to 10.0.0.1, fileName [ap1g8]",
          `${IMAGE.length} bytes, ${Math.ceil(IMAGE.length / blockSize)} msgs, ${IMAGE.length % blockSize} last`,
          "Last block stored",
          "Image transfer completed from WLC",
        ];
        for (const l of expected) expect(lines.some((x) => x.includes(l)), l).toBe(true);
      });
    }
  }
});
