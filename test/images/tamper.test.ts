/**
 * Tampering: every single byte of a built image, flipped (XOR 0x01 and XOR
 * 0xff, separately), makes the verifier refuse — headers, data, padding and
 * the end-of-archive blocks alike. Then, for each member, a flip in its data
 * and one in its header, extracted into a sandbox: refused, and nothing
 * left in the target or written beside it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../agent/core/index.js";
import { buildImage, type ImageRejectCode } from "../../images/index.js";
import { attempt, headerOffsets, patchHeader, Sandbox, tempDir, testPki } from "./support.js";

let dir: string;
let image: Buffer;
beforeAll(async () => {
  dir = tempDir("image-tamper");
  const payload = join(dir, "payload");
  mkdirSync(payload);
  writeFileSync(join(payload, "part.bin"), Buffer.alloc(1500, 0x5a));
  writeFileSync(join(payload, "iox.tar.gz"), "iox payload");
  const built = await buildImage({ class: "ap1g8", version: "17.12.1.5", out: join(dir, "ap1g8"), signer: testPki().signer, payload });
  image = readFileSync(built.path);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Which part of the archive byte `i` is in: "<member> header|data|padding" or "end-of-archive". */
function region(i: number): string {
  for (const h of headerOffsets(image)) {
    if (i < h.at + 512) return `${h.name} header`;
    if (i < h.dataAt + h.size) return `${h.name} data`;
    if (i < h.dataAt + Math.ceil(h.size / 512) * 512) return `${h.name} padding`;
  }
  return "end-of-archive";
}

describe("tampering", () => {
  it("the untouched image verifies", async () => {
    expect((await attempt(image)).error).toBeUndefined();
  });

  it("refuses the image whichever single byte is flipped (every byte, two masks)", async () => {
    const random = seededRandom(0x7a3b);
    const codes = new Map<string, Map<ImageRejectCode, number>>();
    const accepted: string[] = [];
    let cases = 0;
    for (const mask of [0x01, 0xff]) {
      for (let i = 0; i < image.length; i++) {
        image[i]! ^= mask;
        // Chunk sizes vary so that flips land on both sides of chunk boundaries.
        const r = await attempt(image, { chunk: () => 1 + random.int(3000) });
        image[i]! ^= mask;
        cases++;
        const where = region(i);
        if (!r.error) {
          accepted.push(`${where} byte ${i} ^ ${mask}`);
          continue;
        }
        expect(r.error.message).not.toContain("\n");
        const perRegion = codes.get(where.replace(/^.* (header|data|padding)$/, "member $1")) ?? new Map();
        perRegion.set(r.error.code, (perRegion.get(r.error.code) ?? 0) + 1);
        codes.set(where.replace(/^.* (header|data|padding)$/, "member $1"), perRegion);
      }
    }
    expect(accepted).toEqual([]);
    expect(cases).toBe(2 * image.length);
    // The counts for the record (vitest prints console output with the test).
    console.log(`tamper sweep: ${cases} single-byte flips of a ${image.length}-byte image, all refused:`, JSON.stringify(Object.fromEntries([...codes].map(([k, v]) => [k, Object.fromEntries(v)]))));
  }, 120_000);

  it("for each member, a flipped data byte and a flipped header byte are refused and leave nothing behind", async () => {
    const members = headerOffsets(image);
    expect(members.map((m) => m.name)).toEqual(["info", "iox.tar.gz", "part.bin", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]);
    const seen: string[] = [];
    for (const m of members) {
      // Middle of the data; in the header, a byte of the name field (the checksum catches it) and one of the size field.
      for (const [what, at] of [
        ["data", m.dataAt + (m.size >> 1)],
        ["header name", m.at + 1],
        ["header size", m.at + 124 + 10],
      ] as const) {
        const sandbox = new Sandbox(dir, `member-${m.name}-${what.replace(" ", "-")}`);
        const bad = Buffer.from(image);
        bad[at]! ^= 0x01;
        const r = await attempt(bad, { sandbox });
        expect(r.error, `${m.name} ${what}`).toBeDefined();
        expect(sandbox.problems(), `${m.name} ${what}`).toEqual([]);
        seen.push(`${m.name} ${what}: ${r.error!.code}`);
      }
    }
    expect(seen).toEqual([
      "info data: IMAGE_STRUCTURE",
      "info header name: IMAGE_STRUCTURE",
      "info header size: IMAGE_STRUCTURE",
      "iox.tar.gz data: IMAGE_TAMPERED",
      "iox.tar.gz header name: IMAGE_STRUCTURE",
      "iox.tar.gz header size: IMAGE_STRUCTURE",
      "part.bin data: IMAGE_TAMPERED",
      "part.bin header name: IMAGE_STRUCTURE",
      "part.bin header size: IMAGE_STRUCTURE",
      "file_hashes data: IMAGE_TAMPERED",
      "file_hashes header name: IMAGE_STRUCTURE",
      "file_hashes header size: IMAGE_STRUCTURE",
      "final_hash data: IMAGE_TAMPERED",
      "final_hash header name: IMAGE_STRUCTURE",
      "final_hash header size: IMAGE_STRUCTURE",
      "final_hash.sig data: IMAGE_SIGNATURE",
      "final_hash.sig header name: IMAGE_STRUCTURE",
      "final_hash.sig header size: IMAGE_STRUCTURE",
      "signing_cert.pem data: IMAGE_CERTIFICATE",
      "signing_cert.pem header name: IMAGE_STRUCTURE",
      "signing_cert.pem header size: IMAGE_STRUCTURE",
      "info.ver data: IMAGE_TAMPERED",
      "info.ver header name: IMAGE_STRUCTURE",
      "info.ver header size: IMAGE_STRUCTURE",
    ]);
  });

  it("refuses a forged header whose checksum was fixed up: the renamed or resized member no longer matches", async () => {
    const members = headerOffsets(image);
    const part = members.find((m) => m.name === "part.bin")!;
    const renamed = Buffer.from(image);
    patchHeader(renamed, part.at, 0, "part.bim");
    expect((await attempt(renamed)).error?.message).toBe('member "part.bim": not listed at line 3 of file_hashes');
    const resized = Buffer.from(image);
    patchHeader(resized, part.at, 124, (part.size - 1).toString(8).padStart(11, "0"));
    expect((await attempt(resized)).error?.code).toMatch(/IMAGE_(STRUCTURE|TAMPERED)/);
  });
});
