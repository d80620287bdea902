/**
 * Seeded mutation fuzz of the parsers that read operator files: the AP's
 * YAML config, trusted-root PEM files, and images given to `vap image
 * inspect`. Each must take any bytes and either accept them or refuse with
 * its one-line error type (ConfigError, ImageRejectedError): any other
 * exception (TypeError, RangeError, an OpenSSL error escaping unwrapped) is
 * a bug. VAP_FUZZ_SCALE multiplies the case counts; a failure names its case.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadApConfig } from "../../agent/config/index.js";
import { ConfigError, seededRandom } from "../../agent/core/index.js";
import { ImageRejectedError, inspectImage } from "../../images/index.js";
import { parseTrustRoots } from "../../images/trust.js";
import { packTar, referenceMembers, testPki } from "../images/support.js";
import { tempDir } from "../support/temp.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const dir = tempDir("fuzz-files");

/** Outcomes by kind; an unexpected error fails the test with its case number. */
async function fuzz(target: string, cases: number, seed: number, valid: Uint8Array, run: (input: Uint8Array) => unknown, allowed: readonly (new (...a: never[]) => Error)[]) {
  const random = seededRandom(seed);
  const outcomes: Record<string, number> = {};
  for (let n = 0; n < cases; n++) {
    const input = mutate(valid, [], random);
    let kind = "accepted";
    try {
      await run(input);
    } catch (err) {
      if (!allowed.some((type) => err instanceof type)) throw new Error(`case ${n} (seed ${seed}): ${(err as Error)?.stack ?? String(err)}`);
      kind = (err as Error).constructor.name;
    }
    outcomes[kind] = (outcomes[kind] ?? 0) + 1;
  }
  console.log(`${target} fuzz: ${cases} cases`, JSON.stringify(outcomes));
  return outcomes;
}

const CONFIG = `baseMac: 02:00:00:00:00:01
class: ap1g7
profile: cisco
controllers:
  - address: 127.0.0.2
    name: WLC1
discovery: { broadcast: false }
dtls: { mode: psk, identity: ap1, pskKey: "00112233445566778899aabbccddeeff" }
stateDir: state/ap1
timers:
  echoInterval: 30s
  retransmitInterval: 3s
maxImageWindow: 20
`;

describe("operator files under mutation", () => {
  it("the AP config: a config or one ConfigError", async () => {
    const cases = fuzzCases(2_000);
    const file = join(dir, "ap.yaml");
    expect(() => loadApConfig((writeFileSync(file, CONFIG), file))).not.toThrow();
    const outcomes = await fuzz("config", cases, 11, new TextEncoder().encode(CONFIG), (input) => {
      writeFileSync(file, input);
      return loadApConfig(file);
    }, [ConfigError]);
    expect(outcomes.ConfigError).toBeGreaterThan(cases / 10);
    expect(outcomes.accepted).toBeGreaterThan(0);
  }, fuzzTimeout(fuzzCases(2_000), 1));

  it("trusted roots: CA certificates or one ConfigError", async () => {
    const cases = fuzzCases(2_000);
    const pem = new TextEncoder().encode(testPki().root.cert);
    expect(parseTrustRoots(testPki().root.cert)).toHaveLength(1);
    const outcomes = await fuzz("trust roots", cases, 12, pem, (input) => parseTrustRoots(new TextDecoder().decode(input)), [ConfigError]);
    expect(outcomes.ConfigError).toBeGreaterThan(cases / 10);
  }, fuzzTimeout(fuzzCases(2_000), 1));

  it("vap image inspect: an inspection or one ImageRejectedError", async () => {
    const cases = fuzzCases(1_000);
    const image = await packTar(referenceMembers());
    await expect(inspectImage([image])).resolves.toBeDefined();
    const outcomes = await fuzz("image inspect", cases, 13, image, (input) => inspectImage([input]), [ImageRejectedError]);
    expect(outcomes.ImageRejectedError).toBeGreaterThan(cases / 10);
  }, fuzzTimeout(fuzzCases(1_000), 5));
});
