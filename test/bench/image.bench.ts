/**
 * PREDOWNLOAD of a realistic ap1g6a image (84,623,360 bytes, the seed's
 * size) by the upgrade engine: the image staged in the AP's /tmp is streamed
 * through the verifier into the standby partition, fsynced and swapped in —
 * against what the same work costs the standard tools in the same run:
 * `sha256sum FILE` + `tar -xf FILE -C DIR` + `sync`.
 * Issue target: ≤ 1.5× that pair. Each side runs three times, interleaved,
 * from a warm page cache with nothing dirty; medians are reported.
 *
 * The verifier runs in a child process of its own, so its peak RSS
 * (getrusage maxrss) is the verify+extract+sync peak and nothing else's.
 * The build is measured too (time and peak RSS): it streams as well.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { silentLog } from "../../agent/core/index.js";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { buildImage, generateImageKeys, loadSigner } from "../../images/index.js";
import { hardwareClasses } from "../../platform/classes/index.js";
import { median, report } from "./report.js";

const CLASS = hardwareClasses.ap1g6a;
const ROUNDS = 3;

const maxRssBytes = () => process.resourceUsage().maxRSS * 1024;

/** Child: boot the AP's flash, stage the image in /tmp, then time PREDOWNLOAD alone; JSON on stdout. */
async function predownload(image: string, trustFile: string, stateDir: string): Promise<void> {
  const engine = await UpgradeEngine.boot({ stateDir, hardwareClass: CLASS, storage: "flash", trust: readFileSync(trustFile, "utf8"), policy: "required", log: silentLog });
  copyFileSync(image, engine.flash.stagedImage);
  execFileSync("sync");
  const baseRss = process.memoryUsage().rss;
  const started = performance.now();
  const result = await engine.predownload();
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, baseRss, maxRss: maxRssBytes(), version: result.version }));
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
}

async function main(): Promise<void> {
  const dir = join(tmpdir(), `vap-image-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const keys = generateImageKeys(join(dir, "keys"));
    const image = join(dir, CLASS.name);
    const rssBeforeBuild = process.memoryUsage().rss;
    let started = performance.now();
    await buildImage({ class: CLASS.name, version: "17.12.1.5", out: image, signer: loadSigner(join(dir, "keys")), size: CLASS.typicalImageBytes });
    const buildMs = performance.now() - started;
    report({ bench: "image.build-ap1g6a", value: Math.round(buildMs), unit: "ms", imageBytes: CLASS.typicalImageBytes, peakRssBytes: maxRssBytes(), rssBeforeBytes: rssBeforeBuild });

    const ours: { ms: number; maxRss: number; baseRss: number }[] = [];
    const peer: number[] = [];
    const self = fileURLToPath(import.meta.url);
    const factory = join(dir, "factory");
    await buildImage({ class: CLASS.name, version: "17.9.4.27", out: factory, signer: loadSigner(join(dir, "keys")) });
    for (let round = 0; round < ROUNDS; round++) {
      const state = join(dir, "ap");
      const extracted = join(dir, "tar-x");
      rmSync(state, { recursive: true, force: true });
      rmSync(extracted, { recursive: true, force: true });
      await UpgradeEngine.provision({ stateDir: state, hardwareClass: CLASS, storage: "flash", trust: readFileSync(keys.caCert, "utf8"), policy: "required", log: silentLog }, factory);
      sh("sync", []);
      const child = spawnSync(process.execPath, [self, "--predownload", image, keys.caCert, state], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      if (child.status !== 0) throw new Error(`predownload child exited with ${child.status ?? child.signal}`);
      ours.push(JSON.parse(child.stdout));

      mkdirSync(extracted);
      sh("sync", []);
      started = performance.now();
      sh("sha256sum", [image]);
      sh("tar", ["-xf", image, "-C", extracted]);
      sh("sync", []);
      peer.push(performance.now() - started);
    }
    const oursMs = median(ours.map((o) => o.ms));
    const peerMs = median(peer);
    const peakRss = Math.max(...ours.map((o) => o.maxRss));
    report({
      bench: "image.predownload-ap1g6a",
      value: Math.round(oursMs),
      unit: "ms (upgrade engine PREDOWNLOAD: stream verify + extract + fsync + swap, median of 3)",
      bound: Math.round(peerMs * 1.5),
      boundKind: "peer:1.5 × (sha256sum + tar -xf + sync)",
      peerMs: Math.round(peerMs),
      ratio: Number((oursMs / peerMs).toFixed(2)),
      withinBound: oursMs <= peerMs * 1.5,
      runsMs: ours.map((o) => Math.round(o.ms)),
      peerRunsMs: peer.map(Math.round),
      imageBytes: CLASS.typicalImageBytes,
    });
    report({
      bench: "image.predownload-ap1g6a.peak-rss",
      value: peakRss,
      unit: "bytes (PREDOWNLOAD process maxrss)",
      bound: CLASS.typicalImageBytes,
      boundKind: "image size (a streaming verifier's growth stays far below it)",
      growthBytes: peakRss - Math.min(...ours.map((o) => o.baseRss)),
      processBaseRssBytes: Math.min(...ours.map((o) => o.baseRss)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--predownload") await predownload(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
