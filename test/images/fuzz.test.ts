/**
 * Seeded mutation fuzz of the streaming verifier with a real directory sink.
 * Invariants for every case: only ImageRejectedError escapes (a TypeError,
 * RangeError or a sink UsageError would be a bug), nothing appears beside
 * the extraction directory, a refused image leaves it empty, and an
 * accepted one is exactly the original's members (a mutation that changes
 * nothing that matters, e.g. typeflag "0" → NUL with the checksum fixed).
 * VAP_FUZZ_SCALE multiplies the case count; a failure names its case number.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom, type Random } from "../../agent/core/index.js";
import type { ImageRejectCode } from "../../images/index.js";
import { fuzzCases, fuzzTimeout, mutate } from "../fuzz/mutate.js";
import { attempt, headerOffsets, packTar, patchHeader, referenceMembers, Sandbox, tempDir } from "./support.js";

const CASES = fuzzCases(2_000);
const HOSTILE_NAMES = ["../escaped", "/tmp/escaped", "a/b", "", "info", "info.ver", "file_hashes", "x\\y", ".", "part.bin"];
const TYPEFLAGS = "0125x6gLKS\0";

let root: string;
let base: Buffer;
let original: string;
beforeAll(async () => {
  root = tempDir("image-fuzz");
  base = await packTar(referenceMembers());
  original = JSON.stringify((await attempt(base)).result!.members);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Byte ranges [start, end) of each member (header, data, padding). */
function segments(archive: Uint8Array): [number, number][] {
  return headerOffsets(archive).map((h) => [h.at, h.dataAt + Math.ceil(h.size / 512) * 512]);
}

/** Tar-aware mutations: forged header fields (checksum fixed up), moved, doubled or dropped members. */
function mutateTar(valid: Buffer, random: Random): Buffer {
  const out = Buffer.from(valid);
  const segs = segments(out);
  const [at] = segs[random.int(segs.length)]!;
  switch (random.int(6)) {
    case 0:
      patchHeader(out, at, 124, random.int(2 ** 33).toString(8).padStart(11, "0"));
      return out;
    case 1:
      patchHeader(out, at, 156, TYPEFLAGS[random.int(TYPEFLAGS.length)]!);
      return out;
    case 2: {
      const name = HOSTILE_NAMES[random.int(HOSTILE_NAMES.length)]!;
      patchHeader(out, at, 0, name.padEnd(100, "\0"));
      return out;
    }
    case 3: {
      const [a, b] = [random.int(segs.length), random.int(segs.length)];
      const parts = segs.map(([s, e]) => out.subarray(s, e));
      [parts[a], parts[b]] = [parts[b]!, parts[a]!];
      return Buffer.concat([...parts, out.subarray(segs.at(-1)![1])]);
    }
    case 4: {
      const [s, e] = segs[random.int(segs.length)]!;
      return Buffer.concat([out.subarray(0, e), out.subarray(s, e), out.subarray(e)]);
    }
    default: {
      const [s, e] = segs[random.int(segs.length)]!;
      return Buffer.concat([out.subarray(0, s), out.subarray(e)]);
    }
  }
}

describe("fuzz", () => {
  it(`${CASES} mutated images: typed refusals only, nothing outside the target`, async () => {
    const random = seededRandom(0x1ae6e);
    const sandbox = new Sandbox(root, "fuzz");
    const codes = new Map<ImageRejectCode | "accepted", number>();
    for (let n = 0; n < CASES; n++) {
      let bytes = random.int(2) === 0 ? Buffer.from(mutate(base, [], random)) : mutateTar(base, random);
      if (random.int(4) === 0) bytes = mutateTar(bytes.length >= 512 && headerOffsets(bytes).length > 0 ? bytes : base, random);
      let r;
      try {
        r = await attempt(bytes, { sandbox, chunk: () => 1 + random.int(2048) });
      } catch (err) {
        throw new Error(`case ${n}: ${String((err as Error)?.stack ?? err)}`);
      }
      const code = r.error?.code ?? "accepted";
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const problems = sandbox.problems(r.error === undefined);
      if (problems.length > 0) throw new Error(`case ${n} (${code}): ${problems.join("; ")}`);
      if (r.error) {
        expect(r.error.message).not.toContain("\n");
      } else {
        if (JSON.stringify(r.result!.members) !== original) throw new Error(`case ${n}: accepted different content`);
        sandbox.reset();
      }
    }
    console.log(`image fuzz: ${CASES} cases`, JSON.stringify(Object.fromEntries(codes)));
    // The mutations must reach both ends: images that still verify, and each kind of refusal.
    expect(codes.get("accepted") ?? 0).toBeGreaterThan(CASES / 50);
    for (const code of ["IMAGE_STRUCTURE", "IMAGE_UNSAFE_MEMBER", "IMAGE_TOO_LARGE", "IMAGE_TRUNCATED", "IMAGE_TAMPERED", "IMAGE_SIGNATURE", "IMAGE_CERTIFICATE"] as const) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(CASES / 200);
    }
  }, fuzzTimeout(CASES, 5));
});
