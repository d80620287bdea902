/**
 * efficient.site-upgrade: one branch site of 30 APs (ap1g8, ap1g7, ap1g4,
 * ten each, realistic image sizes, sink storage) behind one WAN link of
 * 100 ms RTT and 10 Mbit/s (the WAN proxy), the lab controller staging a
 * new version, every CAPWAP download at window 20 unless said otherwise:
 * - efficient: `ap image predownload site-tag site-1 start` — three
 *   primaries fetch across the WAN, 27 subordinates from them by TFTP on
 *   loopback. Measured whole: the time from the command to the last AP's
 *   Complete, and the bytes the WAN carried toward the site meanwhile.
 * - every AP over CAPWAP at window 1 and at window 20: the 30 predownloads
 *   from the controller at once would take 25 to 85 minutes, so each runs
 *   for SAMPLE_MS once all have started and is projected: the image bytes
 *   the controller's records show moved per second in that span, and the
 *   WAN bytes per image byte, scaled to the 30 images.
 * One line per method, side by side; the efficient line also says how many
 * times faster and lighter on the WAN it is than each CAPWAP window.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { Lab, type LabOptions } from "../../lab/lab/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { report } from "./report.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";
const APS = 30;
const CLASSES = ["ap1g8", "ap1g7", "ap1g4"] as const;
const RTT_MS = 100;
const RATE_BPS = 10_000_000;
const SAMPLE_MS = 30_000;

const round1 = (x: number) => Math.round(x * 10) / 10;
const quiet = () => {};

async function siteLab(window: number, efficient: boolean): Promise<Lab> {
  const options: LabOptions = {
    aps: APS,
    profile: "cisco",
    address: await freeLoopbackAddress(),
    classes: CLASSES,
    apVersion: OLD,
    controllerVersion: OLD,
    bundleVersion: NEW,
    imageSize: "realistic",
    storage: "sink",
    imageWindow: window,
    console: null,
    sites: { count: 1, efficient },
    wan: { address: await freeLoopbackAddress(), impairment: { delayMs: RTT_MS / 2, rateBps: RATE_BPS }, seed: 13 },
  };
  const lab = await Lab.start(options);
  await lab.waitFor((l) => l.allInRun(), 120_000, () => "not all in Run");
  return lab;
}

/** The 30 images' bytes, as the lab's bundle holds them. */
const siteImageBytes = (lab: Lab) => lab.aps.reduce((sum, _ap, i) => sum + statSync(join(lab.dir, "bundle", CLASSES[i % CLASSES.length]!)).size, 0);
const wanToSite = (lab: Lab) => lab.siteWanBytes()[0]!.toAps;

const efficient = await (async () => {
  const lab = await siteLab(20, true);
  try {
    const wanBefore = wanToSite(lab);
    const started = performance.now();
    const records = await lab.predownloadBySite(quiet);
    const seconds = (performance.now() - started) / 1000;
    const failed = records.filter((r) => r.download?.state !== "complete");
    if (failed.length > 0) throw new Error(`efficient: ${failed.length} predownloads failed`);
    const methods = lab.rows().reduce<Record<string, number>>((m, r) => ({ ...m, [r.method ?? "-"]: (m[r.method ?? "-"] ?? 0) + 1 }), {});
    return { seconds, wanBytes: wanToSite(lab) - wanBefore, imageBytes: siteImageBytes(lab), methods };
  } finally {
    await lab.stop();
  }
})();

const capwap: Record<number, { seconds: number; wanBytes: number }> = {};
for (const window of [1, 20]) {
  const lab = await siteLab(window, false);
  try {
    const ordered = lab.controller.predownload("all", NEW, APS);
    await lab.waitFor((l) => l.controller.aps().every((a) => a.download?.state === "downloading" && a.download.bytes > 0), 60_000, () => "not every AP downloading");
    const moved = () => lab.controller.aps().reduce((sum, a) => sum + (a.download?.bytes ?? 0), 0);
    const [bytes0, wan0, t0] = [moved(), wanToSite(lab), performance.now()];
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const [bytes1, wan1, t1] = [moved(), wanToSite(lab), performance.now()];
    const imageBytesPerSecond = (bytes1 - bytes0) / ((t1 - t0) / 1000);
    const wanPerImageByte = (wan1 - wan0) / (bytes1 - bytes0);
    const imageBytes = siteImageBytes(lab);
    capwap[window] = { seconds: imageBytes / imageBytesPerSecond, wanBytes: imageBytes * wanPerImageByte };
    report({
      bench: "efficient.site-upgrade",
      value: round1(capwap[window]!.seconds),
      unit: `s for ${APS} APs to predownload over CAPWAP (projected from ${SAMPLE_MS / 1000} s of all ${APS} at once; ${RTT_MS} ms RTT, ${RATE_BPS / 1e6} Mbit/s WAN, realistic images, sink storage)`,
      method: "capwap",
      window,
      wanBytes: Math.round(capwap[window]!.wanBytes),
      imageBytes,
      imageBytesPerSecond: Math.round(imageBytesPerSecond),
      wanBytesPerImageByte: Math.round(wanPerImageByte * 1000) / 1000,
    });
    void ordered.catch(() => {});
  } finally {
    await lab.stop();
  }
}

report({
  bench: "efficient.site-upgrade",
  value: round1(efficient.seconds),
  unit: `s for ${APS} APs to predownload with efficient upgrade (3 primaries over CAPWAP window 20, 27 subordinates by TFTP from them; measured; ${RTT_MS} ms RTT, ${RATE_BPS / 1e6} Mbit/s WAN, realistic images, sink storage)`,
  method: "efficient",
  wanBytes: efficient.wanBytes,
  imageBytes: efficient.imageBytes,
  methods: efficient.methods,
  timesFasterThanCapwapW1: round1(capwap[1]!.seconds / efficient.seconds),
  timesFasterThanCapwapW20: round1(capwap[20]!.seconds / efficient.seconds),
  wanBytesVsCapwapW20: round1(capwap[20]!.wanBytes / efficient.wanBytes),
});
