/**
 * Hostile archives, made by hand (tar-stream's packer, patched headers) and
 * by GNU tar (--absolute-names, symlinks, devices, long names): each is
 * refused with its code and a one-line reason naming the member, under both
 * signature policies, and the extraction directory stays empty with nothing
 * written beside it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../agent/core/index.js";
import type { ImageLimits, ImageRejectCode } from "../../images/index.js";
import { requirePeer } from "../support/peers.js";
import { attempt, headerOffsets, packTar, patchHeader, referenceMembers, ROOMY, Sandbox, tempDir, type RawMember } from "./support.js";

let root: string;
let valid: Buffer;
beforeAll(async () => {
  root = tempDir("image-hostile");
  valid = await packTar(referenceMembers());
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The valid reference members with `extra` inserted after info (the payload position). */
const withMember = (...extra: RawMember[]) => {
  const [info, ...rest] = referenceMembers();
  return packTar([info!, ...extra, ...rest]);
};
const reordered = (names: string[]) => {
  const all = referenceMembers();
  return packTar(names.map((n) => all.find((m) => m.name === n) ?? { name: n, body: Buffer.from("x") }));
};
const patched = (archive: Buffer, member: string, field: number, text: string) => {
  const copy = Buffer.from(archive);
  patchHeader(copy, headerOffsets(copy).find((h) => h.name === member)!.at, field, text);
  return copy;
};
/** A GNU tar archive of paths under `dir`, made with extra options. */
const gnuTar = (dir: string, options: string[], paths: string[]) => {
  requirePeer("tar");
  return execFileSync("tar", ["-cf", "-", "-C", dir, ...options, ...paths], { maxBuffer: 1 << 24 });
};

interface Case {
  name: string;
  bytes: (sandbox: Sandbox) => Buffer | Promise<Buffer>;
  code: ImageRejectCode;
  reason: RegExp;
  limits?: ImageLimits;
}

const cases: Case[] = [
  { name: "absolute path", bytes: (s) => withMember({ name: join(s.parent, "escaped"), body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "\/.*\/escaped": absolute path$/ },
  {
    name: "absolute path by GNU tar --absolute-names",
    bytes: (s) => {
      const victim = join(s.parent, "gnu-absolute");
      writeFileSync(victim, "planted");
      const tarred = gnuTar(s.parent, ["--absolute-names"], [victim]);
      rmSync(victim);
      return tarred;
    },
    code: "IMAGE_UNSAFE_MEMBER",
    reason: /absolute path$/,
  },
  { name: "parent directory", bytes: () => withMember({ name: "../escaped", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "\.\.\/escaped": parent-directory component$/ },
  { name: "parent directory, nested", bytes: () => withMember({ name: "a/../../escaped", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /parent-directory component$/ },
  { name: "nested path", bytes: () => withMember({ name: "sub/file", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /nested path/ },
  { name: "nested path in the ustar prefix field", bytes: () => withMember({ name: `${"d".repeat(60)}/${"f".repeat(60)}`, body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /nested path/ },
  { name: "backslash", bytes: () => withMember({ name: "..\\escaped", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /backslash/ },
  { name: "empty name", bytes: () => withMember({ name: "", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "": empty name$/ },
  { name: "dot name", bytes: () => withMember({ name: ".", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /outside/ },
  { name: "newline in name", bytes: () => withMember({ name: "evil\nname", body: Buffer.from("x") }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "evil\\nname": name outside/ },
  { name: "symlink", bytes: () => withMember({ name: "part.lnk", header: { type: "symlink", linkname: "/etc/passwd" } }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "part.lnk": symbolic link to "\/etc\/passwd"$/ },
  {
    name: "symlink by GNU tar",
    bytes: (s) => {
      const d = join(s.parent, "..", `${s.parent.split("/").at(-1)}-src`);
      mkdirSync(d, { recursive: true });
      symlinkSync("../../outside", join(d, "link"));
      return gnuTar(d, [], ["link"]);
    },
    code: "IMAGE_UNSAFE_MEMBER",
    reason: /^member "link": symbolic link to "\.\.\/\.\.\/outside"$/,
  },
  { name: "hard link", bytes: () => withMember({ name: "part.hard", header: { type: "link", linkname: "info" } }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "part.hard": hard link to "info"$/ },
  { name: "character device", bytes: () => withMember({ name: "null", header: { type: "character-device", devmajor: 1, devminor: 3 } }), code: "IMAGE_UNSAFE_MEMBER", reason: /character device node/ },
  { name: "character device by GNU tar (/dev/null)", bytes: () => gnuTar("/", [], ["dev/null"]), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "dev\/null": character device node$/ },
  { name: "block device", bytes: () => withMember({ name: "sda", header: { type: "block-device", devmajor: 8, devminor: 0 } }), code: "IMAGE_UNSAFE_MEMBER", reason: /block device node/ },
  { name: "directory", bytes: () => withMember({ name: "dir", header: { type: "directory" } }), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "dir": directory$/ },
  { name: "FIFO", bytes: () => withMember({ name: "pipe", header: { type: "fifo" } }), code: "IMAGE_UNSAFE_MEMBER", reason: /FIFO/ },
  { name: "pax header renaming the next member", bytes: () => withMember({ name: "harmless", body: Buffer.from("x"), header: { pax: { path: "../escaped" } } }), code: "IMAGE_UNSAFE_MEMBER", reason: /pax extended header/ },
  { name: "pax global header", bytes: async () => patched(await withMember({ name: "global", body: Buffer.from("path=x\n") }), "global", 156, "g"), code: "IMAGE_UNSAFE_MEMBER", reason: /pax global header/ },
  {
    name: "GNU long-name record",
    bytes: (s) => {
      const d = join(s.parent, "..", `${s.parent.split("/").at(-1)}-src`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "l".repeat(150)), "x");
      return gnuTar(d, ["--format=gnu"], ["l".repeat(150)]);
    },
    code: "IMAGE_UNSAFE_MEMBER",
    reason: /GNU long-name record/,
  },
  { name: "unknown member type (sparse)", bytes: async () => patched(await withMember({ name: "sparse", body: Buffer.from("x") }), "sparse", 156, "S"), code: "IMAGE_UNSAFE_MEMBER", reason: /unsupported tar member type "S"/ },
  { name: "duplicate payload name", bytes: () => reordered(["info", "part.bin", "part.bin", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "part.bin": duplicate member$/ },
  { name: "duplicate info", bytes: () => reordered(["info", "part.bin", "info", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_UNSAFE_MEMBER", reason: /^member "info": duplicate member$/ },
  { name: "member beyond the partition limit", bytes: () => Promise.resolve(valid), limits: { imageBytes: 1 << 20, extractBytes: 2000 }, code: "IMAGE_TOO_LARGE", reason: /^member "part.bin": 3000 bytes exceed the partition limit \(1937 of 2000 bytes left\)$/ },
  { name: "members together beyond the partition limit", bytes: () => Promise.resolve(valid), limits: { imageBytes: 1 << 20, extractBytes: 4000 }, code: "IMAGE_TOO_LARGE", reason: /^member "[^"]+": \d+ bytes exceed the partition limit \(\d+ of 4000 bytes left\)$/ },
  { name: "image beyond the /tmp limit", bytes: () => Promise.resolve(valid), limits: { imageBytes: 6 * 512, extractBytes: 1 << 20 }, code: "IMAGE_TOO_LARGE", reason: /^member "part.bin": 3000 bytes end at byte 4608, beyond the 3072-byte image limit$/ },
  { name: "end-of-archive blocks beyond the /tmp limit", bytes: () => Promise.resolve(valid), limits: { imageBytes: 0, extractBytes: 1 << 20 }, code: "IMAGE_TOO_LARGE", reason: /image limit/ },
  { name: "a header claiming 8 GiB on a short stream", bytes: () => Promise.resolve(patched(valid, "part.bin", 124, "77777777777 ")), code: "IMAGE_TOO_LARGE", reason: /^member "part.bin": 8589934591 bytes end at byte/ },
  { name: "metadata member over its cap", bytes: async () => { const m = referenceMembers(); m[3] = { name: "file_hashes", body: Buffer.alloc(2 << 20, 0x41) }; return packTar(m); }, code: "IMAGE_TOO_LARGE", reason: /^member "file_hashes": 2097152 bytes, more than the 1048576 allowed$/ },
  { name: "info missing", bytes: () => reordered(["part.bin", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_STRUCTURE", reason: /^member "part.bin": is the first member; info must be$/ },
  { name: "info not first", bytes: () => reordered(["part.bin", "info", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_STRUCTURE", reason: /is the first member; info must be/ },
  { name: "info.ver not last", bytes: () => reordered(["info", "part.bin", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver", "late.bin"]), code: "IMAGE_STRUCTURE", reason: /^member "late.bin": follows info.ver, which must be last$/ },
  { name: "info.ver among the payload", bytes: () => reordered(["info", "part.bin", "info.ver", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem"]), code: "IMAGE_STRUCTURE", reason: /^member "info.ver": comes before file_hashes$/ },
  { name: "info.ver missing", bytes: () => reordered(["info", "part.bin", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem"]), code: "IMAGE_STRUCTURE", reason: /^member "info.ver": missing$/ },
  { name: "final_hash missing", bytes: () => reordered(["info", "part.bin", "iox.tar.gz", "file_hashes", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_STRUCTURE", reason: /^member "final_hash": missing$/ },
  { name: "no payload", bytes: () => reordered(["info", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"]), code: "IMAGE_STRUCTURE", reason: /comes before any payload member/ },
  { name: "empty archive", bytes: () => Promise.resolve(Buffer.alloc(1024)), code: "IMAGE_STRUCTURE", reason: /^member "info": missing: the archive has no members$/ },
  { name: "garbage after the end-of-archive blocks", bytes: () => Promise.resolve(Buffer.concat([valid, Buffer.alloc(512, 0x47)])), code: "IMAGE_STRUCTURE", reason: /^image: data at byte \d+, after the end-of-archive blocks$/ },
  { name: "a few garbage bytes after the end", bytes: () => Promise.resolve(Buffer.concat([valid, Buffer.from("garbage")])), code: "IMAGE_STRUCTURE", reason: /after the end-of-archive blocks$/ },
  { name: "a lone zero block between members", bytes: () => { const cut = headerOffsets(valid)[2]!.at; return Promise.resolve(Buffer.concat([valid.subarray(0, cut), Buffer.alloc(512), valid.subarray(cut)])); }, code: "IMAGE_STRUCTURE", reason: /lone zero block at byte \d+ is followed by data/ },
  { name: "not a tar archive (gzip)", bytes: () => Promise.resolve(Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(2044, 7)])), code: "IMAGE_STRUCTURE", reason: /^image: tar header at byte 0: not a ustar header$/ },
  { name: "v7 header without the ustar magic", bytes: () => Promise.resolve(patched(valid, "info", 257, "\0\0\0\0\0\0\0\0")), code: "IMAGE_STRUCTURE", reason: /not a ustar header/ },
  { name: "bad header checksum", bytes: () => { const b = Buffer.from(valid); b[headerOffsets(b)[1]!.at + 100]! ^= 4; return Promise.resolve(b); }, code: "IMAGE_STRUCTURE", reason: /^image: tar header at byte 1024: checksum mismatch$/ },
  { name: "base-256 size field", bytes: () => Promise.resolve(patched(valid, "part.bin", 124, "\x80\0\0\0\0\0\0\0\0\0\x0b\xb8")), code: "IMAGE_STRUCTURE", reason: /size field is not octal/ },
  { name: "non-zero padding", bytes: () => { const b = Buffer.from(valid); const p = headerOffsets(b)[1]!; b[p.dataAt + p.size + 3] = 1; return Promise.resolve(b); }, code: "IMAGE_STRUCTURE", reason: /^member "part.bin": non-zero padding byte at \d+$/ },
  { name: "regular file with a link name", bytes: () => Promise.resolve(patched(valid, "part.bin", 157, "info")), code: "IMAGE_STRUCTURE", reason: /^member "part.bin": regular file with a link name$/ },
];

describe("hostile archives", () => {
  for (const c of cases) {
    it(`refuses: ${c.name}`, async () => {
      for (const policy of ["required", "structure-only"] as const) {
        const sandbox = new Sandbox(root, `${c.name.replace(/\W+/g, "-")}-${policy}`);
        const bytes = await c.bytes(sandbox);
        const r = await attempt(bytes, { sandbox, policy, limits: c.limits ?? ROOMY });
        expect(r.error, policy).toBeDefined();
        expect({ code: r.error!.code, message: r.error!.message }).toMatchObject({ code: c.code, message: expect.stringMatching(c.reason) });
        expect(r.error!.message).not.toContain("\n");
        expect(sandbox.problems()).toEqual([]);
      }
      expect(existsSync(join(root, "..", "escaped"))).toBe(false);
    });
  }

  it("refuses a member beyond the limit before the sink sees any of it", async () => {
    const opened: string[] = [];
    const err = await attempt(valid, {
      limits: { imageBytes: 1 << 20, extractBytes: 2000 },
      sink: { open: async (name) => (opened.push(name), { write: async () => {}, close: async () => {} }), commit: async () => {}, discard: async () => {} },
    });
    expect(err.error?.code).toBe("IMAGE_TOO_LARGE");
    expect(opened).toEqual(["info"]);
  });

  it("refuses the archive truncated at every block boundary and at seeded offsets in between", async () => {
    const random = seededRandom(0x71c8);
    const offsets = new Set<number>();
    for (let at = 0; at < valid.length; at += 512) offsets.add(at);
    for (let i = 0; i < 200; i++) offsets.add(random.int(valid.length));
    const sandbox = new Sandbox(root, "truncated");
    const reasons = new Set<string>();
    for (const at of offsets) {
      const r = await attempt(valid.subarray(0, at), { sandbox, chunk: 700 });
      expect(r.error?.code, `truncated at ${at}`).toBe("IMAGE_TRUNCATED");
      expect(sandbox.problems()).toEqual([]);
      reasons.add(r.error!.message.replace(/\d+/g, "N").replace(/"[^"]*"/g, "X"));
    }
    expect([...reasons].sort()).toEqual([
      "image: archive ends after member X without end-of-archive blocks",
      "image: archive ends after the first of its two end-of-archive blocks",
      "image: archive ends inside a N-byte block at byte N",
      "image: empty",
      "member X: archive ends after N of its N bytes",
      "member X: archive ends inside the padding after it",
    ]);
    expect(offsets.size).toBeGreaterThan(40);
  });

  it("accepts whole zero blocks after the end (tar record padding), not partial ones", async () => {
    expect((await attempt(Buffer.concat([valid, Buffer.alloc(10240 - (valid.length % 10240))]))).error).toBeUndefined();
    expect((await attempt(Buffer.concat([valid, Buffer.alloc(100)]))).error?.code).toBe("IMAGE_TRUNCATED");
  });

  it("reads the same bytes the same way in 1-byte chunks", async () => {
    expect((await attempt(valid, { chunk: 1 })).result?.members.length).toBe(8);
    const bad = Buffer.from(valid);
    bad[headerOffsets(bad)[1]!.dataAt + 1]! ^= 1;
    expect((await attempt(bad, { chunk: 1 })).error?.code).toBe("IMAGE_TAMPERED");
  });

  it("the valid reference archive is accepted (the cases above differ from it only in what they test)", async () => {
    const r = await attempt(valid, { sandbox: new Sandbox(root, "valid") });
    expect(r.error).toBeUndefined();
    expect(readFileSync(join(root, "valid", "target", "iox.tar.gz"), "utf8")).toBe("iox");
  });
});
