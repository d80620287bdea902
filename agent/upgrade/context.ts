/** What every step of the engine works with: its options, its flash and the image-signing roots, parsed once. */
import type { X509Certificate } from "node:crypto";
import { Flash, type FlashStore } from "../../platform/flash/index.js";
import { imageLimits, rootsFor } from "../../images/index.js";
import { ConfigError, describeError, UsageError } from "../core/index.js";
import type { UpgradeEngineOptions } from "./types.js";

export interface Context {
  options: UpgradeEngineOptions;
  flash: FlashStore;
  roots: readonly X509Certificate[];
}

export function context(options: UpgradeEngineOptions): Context {
  if (options.flash && !(options.flash instanceof Flash) && options.storage !== "sink") throw new UsageError("a volatile flash holds sink-mode records only: give it storage sink");
  return { options, flash: options.flash ?? new Flash(options.stateDir, options.hardwareClass.tmpKiB), roots: trustRoots(options) };
}

/** How an image for this AP is verified: its class's limits and family, the policy, the roots. */
export function verifyOptions({ options, roots }: Context) {
  return { limits: imageLimits(options.hardwareClass), policy: options.policy, trust: roots, family: options.hardwareClass.name };
}

/** A trust file that holds no usable root is the operator's mistake, not a broken partition: say so before looking at the flash. */
function trustRoots(options: UpgradeEngineOptions): readonly X509Certificate[] {
  try {
    return rootsFor(options.policy, options.trust);
  } catch (err) {
    throw new ConfigError(`image-signing trust: ${describeError(err)}`, { cause: err });
  }
}
