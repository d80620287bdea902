/**
 * Seeded mutation fuzz of what an operator or a controller's configuration
 * types for an image source: every scheme's URL parser, the scheme table,
 * a digest given on the command line, and an OpenSSH known_hosts file. Each
 * must take any text and either accept it or refuse it with its one-line
 * error (ConfigError; TypeError for a digest, which `vap fetch` words as
 * its flag's); any other exception, or an error of more than one line, is a
 * bug. VAP_FUZZ_SCALE multiplies the case counts; a failure names its case.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, seededRandom } from "../../agent/core/index.js";
import {
  imageSourceFor,
  isKnownHostKey,
  parseDigest,
  parseFtpUrl,
  parseHttpUrl,
  parseSftpUrl,
  parseTftpUrl,
  redactCredentials,
} from "../../agent/transfer/index.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const text = new TextEncoder();
const bytes = new TextDecoder("utf-8", { fatal: false });

function fuzzText(target: string, seed: number, valid: string, run: (input: string) => unknown, allowed: readonly (new (...a: never[]) => Error)[]) {
  const cases = fuzzCases(5_000);
  const random = seededRandom(seed);
  const outcomes: Record<string, number> = {};
  for (let n = 0; n < cases; n++) {
    const input = bytes.decode(mutate(text.encode(valid), [], random));
    let kind = "accepted";
    try {
      run(input);
      // Whatever it makes of the text, redaction never throws.
      redactCredentials(input);
    } catch (err) {
      if (!allowed.some((type) => err instanceof type)) throw new Error(`${target} case ${n} (seed ${seed}) ${JSON.stringify(input)}: ${(err as Error)?.stack ?? String(err)}`);
      expect((err as Error).message, `${target} case ${n}`).not.toContain("\n");
      kind = (err as Error).constructor.name;
    }
    outcomes[kind] = (outcomes[kind] ?? 0) + 1;
  }
  console.log(`${target} fuzz: ${cases} cases`, JSON.stringify(outcomes));
  return outcomes;
}

const URLS: readonly [string, string, (url: string) => unknown][] = [
  ["tftp", "tftp://192.0.2.20:6969/EWC/17_12_1_5/ap1g8", parseTftpUrl],
  ["http", "https://admin:s3cret@[2001:db8::7]:8443/images/ap1g8?x=1", parseHttpUrl],
  ["sftp", "sftp://admin:s3cret@192.0.2.20:2222/~/images/ap1g8", parseSftpUrl],
  ["ftp", "ftpes://admin:s3cret@files.example:2121/images/ap1g8", parseFtpUrl],
  ["scheme table", "sftp://admin@192.0.2.20/images", (url) => imageSourceFor(url)],
];

describe("image source URLs", () => {
  it.each(URLS)("%s: any text is a target or one ConfigError line", (target, valid, parse) => {
    const outcomes = fuzzText(target, target.length * 7919, valid, parse, [ConfigError]);
    // The mutations reach both sides.
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.ConfigError).toBeGreaterThan(0);
  }, fuzzTimeout(fuzzCases(5_000), 1));
});

describe("a digest on the command line", () => {
  it.each(["md5", "sha256"] as const)("%s: any text is a digest or one TypeError line", (algorithm) => {
    const valid = algorithm === "md5" ? "0123456789abcdef0123456789ABCDEF" : "ab".repeat(32);
    const outcomes = fuzzText(algorithm, algorithm.length, valid, (t) => parseDigest(algorithm, t), [TypeError]);
    expect(outcomes.TypeError).toBeGreaterThan(0);
  }, fuzzTimeout(fuzzCases(5_000), 1));
});

describe("a known_hosts file", () => {
  it("any text is read without an exception: a key is known or not", () => {
    const key = new Uint8Array(51).fill(7);
    const line = `[192.0.2.20]:2222 ssh-ed25519 ${Buffer.from(key).toString("base64")}\n# comment\n|1|c2FsdA==|aGFzaA== ssh-rsa AAAA\n`;
    const outcomes = fuzzText("known_hosts", 31, line, (t) => isKnownHostKey(t, "192.0.2.20", 2222, key), []);
    expect(outcomes.accepted).toBe(fuzzCases(5_000));
  }, fuzzTimeout(fuzzCases(5_000), 1));
});
