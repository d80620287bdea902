/**
 * Fixtures for the upgrade tests: a signing PKI, built images at the old
 * and new version, an engine on a fresh state directory, and a fingerprint
 * of a partition so tests can prove it was not touched.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLog, type Log } from "../../agent/core/index.js";
import { UpgradeEngine, type StorageMode, type UpgradeEngineOptions } from "../../agent/upgrade/index.js";
import { buildImage, issueImageSigner, signerFromPem, type BuiltImage } from "../../images/index.js";
import { hardwareClasses, type ClassName, type HardwareClass } from "../../platform/classes/index.js";
import { validFor } from "../../agent/pki/index.js";
import { tempDir, testPki } from "../images/support.js";

export { tempDir, testPki };

export const OLD = "17.9.4.27";
export const NEW = "17.12.1.5";

const built = new Map<string, BuiltImage>();
const imageDir = tempDir("upgrade-images");

/** A signed image of `cls` at `version`, built once per process. */
export async function image(cls: ClassName, version: string, size = 96 * 1024): Promise<BuiltImage> {
  const key = `${cls}-${version}-${size}`;
  let b = built.get(key);
  if (!b) {
    b = await buildImage({ class: cls, version, out: join(imageDir, key), signer: testPki().signer, size });
    built.set(key, b);
  }
  return b;
}

/** An image signed by a certificate that expired yesterday. */
export async function expiredImage(cls: ClassName, version: string): Promise<BuiltImage> {
  const { root } = testPki();
  const yesterday = new Date(Date.now() - 2 * 86_400_000);
  const signing = issueImageSigner(root, { type: "ecdsa", validity: { notBefore: new Date(yesterday.getTime() - 86_400_000), notAfter: yesterday } });
  return buildImage({ class: cls, version, out: join(imageDir, `expired-${cls}-${version}`), signer: signerFromPem(signing.cert, signing.key) });
}

export interface EngineSetup {
  options: UpgradeEngineOptions;
  lines: string[];
  boot(): Promise<UpgradeEngine>;
}

export function engineSetup(o: { cls?: ClassName; storage?: StorageMode; stateDir?: string; hardwareClass?: Partial<HardwareClass> } = {}): EngineSetup {
  const lines: string[] = [];
  const log: Log = createLog({ console: (l) => lines.push(l.replace(/^\[\*[^\]]+\] /, "")) });
  const options: UpgradeEngineOptions = {
    stateDir: o.stateDir ?? tempDir("ap-state"),
    hardwareClass: { ...hardwareClasses[o.cls ?? "ap1g8"], ...o.hardwareClass },
    storage: o.storage ?? "flash",
    trust: testPki().trust,
    policy: "required",
    log,
  };
  return { options, lines, boot: () => UpgradeEngine.boot(options) };
}

/** SHA-256 over a directory's file names and contents: equal means untouched. */
export function fingerprint(dir: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(dir).sort()) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest("hex");
}

export { validFor };

/** Stream `bytes` into a download sink of `engine` as CAPWAP blocks would come (PRECHECK, begin, 1377-byte writes); finish() or abort() is the caller's. */
export async function feed(engine: UpgradeEngine, mode: "join" | "predownload" | "cli", bytes: Uint8Array, options: Parameters<UpgradeEngine["downloadSink"]>[1] = {}) {
  const sink = engine.downloadSink(mode, options);
  await sink.precheck!();
  await sink.begin({ name: "ap1g8", size: bytes.length });
  for (let i = 0; i < bytes.length; i += 1377) await sink.write(bytes.subarray(i, i + 1377));
  return sink;
}
