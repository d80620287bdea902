/**
 * Build → verify, and the image against the real tools: GNU tar lists and
 * extracts it, `sha256sum -c file_hashes` passes in the extracted folder,
 * `openssl dgst` verifies final_hash.sig and `openssl verify` the chain.
 * Also: exact sizes, --payload directories, RSA, intermediates, bundles,
 * GNU-tar re-packing, and re-verification of an extracted partition.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCertificate } from "../../agent/capwap/dtls/index.js";
import { generateKey, serialNumber, validFor } from "../../agent/pki/index.js";
import { hardwareClasses } from "../../platform/classes/index.js";
import {
  buildBundle,
  buildImage,
  directorySink,
  ImageRejectedError,
  ImageVerifier,
  imageLimits,
  imageSizeFor,
  issueImageSigner,
  signerFromPem,
  SMALL_IMAGE_BYTES,
  verifyImage,
  verifyImageDirectory,
} from "../../images/index.js";
import { requirePeer } from "../support/peers.js";
import { attempt, FIXED_DATE, fileSize, listTree, packTar, referenceMembers, Sandbox, tempDir, testPki } from "./support.js";

const MEMBERS = ["info", "part.bin", "ramfs_data_cisco.squashfs", "iox.tar.gz", "file_hashes", "final_hash", "final_hash.sig", "signing_cert.pem", "info.ver"];

let dir: string;
let image: string;
beforeAll(async () => {
  dir = tempDir("image-build");
  image = join(dir, "ap1g8");
  await buildImage({ class: "ap1g8", version: "17.12.1.5", out: image, signer: testPki().signer, size: 200_000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sh = (cmd: string, args: string[], cwd?: string) => execFileSync(cmd, args, { encoding: "utf8", ...(cwd ? { cwd } : {}) });

describe("build → verify", () => {
  it("verifies a built image and reports what it found", async () => {
    const sandbox = new Sandbox(dir, "verify-ok");
    const r = await verifyImage(createReadStream(image), { trust: testPki().trust, limits: imageLimits(hardwareClasses.ap1g8), sink: directorySink(sandbox.target), family: "ap1g8" });
    expect(r).toMatchObject({ family: "ap1g8", version: "17.12.1.5", policy: "required", imageBytes: 200_192 });
    expect(r.members.map((m) => m.name)).toEqual(MEMBERS);
    expect(r.signer).toMatchObject({ subject: "O=vap lab, CN=vap image signing", root: "O=vap lab, CN=vap test image root ecdsa" });
    expect(r.info).toEqual([["image_family", "ap1g8"], ["ws_management_version", "17.12.1.5"]]);
    expect(listTree(sandbox.target)).toEqual([...MEMBERS].sort());
    expect(sandbox.problems(true)).toEqual([]);
    for (const m of r.members) expect(createHash("sha256").update(readFileSync(join(sandbox.target, m.name))).digest("hex")).toBe(m.sha256);
    // ACTIVATE/boot: the extracted partition verifies again on its own.
    const again = await verifyImageDirectory(sandbox.target, { trust: testPki().trust, family: "ap1g8" });
    expect(again.finalHash).toBe(r.finalHash);
    expect(again.members).toEqual(r.members);
  });

  it("makes the image exactly the size asked for (rounded up to 512-byte blocks), and the realistic class sizes", async () => {
    expect(readFileSync(image).length).toBe(200_192);
    const small = await buildImage({ class: "ap3g3", version: "17.12.1.5", out: join(dir, "small"), signer: testPki().signer });
    expect(small.bytes).toBe(SMALL_IMAGE_BYTES);
    expect(imageSizeFor("realistic", "ap1g6a")).toBe(84_623_360);
    const realistic = await buildImage({ class: "ap1g4", version: "17.12.1.5", out: join(dir, "realistic"), signer: testPki().signer, size: imageSizeFor("realistic", "ap1g4") });
    expect(fileSize(realistic.path)).toBe(42_024_960);
    rmSync(realistic.path);
    await expect(buildImage({ class: "ap1g4", version: "17.12.1.5", out: join(dir, "tiny"), signer: testPki().signer, size: 4096 })).rejects.toThrow(/too small: at least \d+ bytes/);
    await expect(buildImage({ class: "ap1g4", version: "17.12", out: join(dir, "v"), signer: testPki().signer })).rejects.toThrow(/four-part/);
  });

  it("builds byte-for-byte what the naive reference assembly packs (RSA signatures are deterministic)", async () => {
    const rsa = testPki("rsa");
    const payloadDir = join(dir, "ref-payload");
    mkdirSync(payloadDir);
    const payload: [string, Buffer][] = [
      ["iox.tar.gz", Buffer.from("iox")],
      ["part.bin", Buffer.alloc(3000, 0xa5)],
    ];
    for (const [name, body] of payload) writeFileSync(join(payloadDir, name), body);
    const built = await buildImage({ class: "ap1g8", version: "17.12.1.5", out: join(dir, "ref"), signer: rsa.signer, payload: payloadDir, date: FIXED_DATE });
    const reference = await packTar(referenceMembers({ payload, key: rsa.signer.key, chain: rsa.signer.chain }));
    expect(Buffer.compare(readFileSync(built.path), reference)).toBe(0);
    const r = await attempt(reference, { trust: rsa.trust });
    expect(r.error).toBeUndefined();
    expect(r.result?.members.slice(1, 3).map((m) => m.name)).toEqual(["iox.tar.gz", "part.bin"]);
  });

  it("generates the same payload for the same class and version", async () => {
    const again = await buildImage({ class: "ap1g8", version: "17.12.1.5", out: join(dir, "again"), signer: testPki().signer, size: 200_000 });
    const first = await attempt(readFileSync(image));
    expect(again.members.slice(0, 5)).toEqual(first.result!.members.slice(0, 5));
    const other = await buildImage({ class: "ap1g8", version: "17.12.1.6", out: join(dir, "other"), signer: testPki().signer, size: 200_000 });
    expect(other.members[1]!.sha256).not.toBe(again.members[1]!.sha256);
  });

  it("refuses unusable payload directories", async () => {
    const bad = join(dir, "bad-payload");
    mkdirSync(bad);
    writeFileSync(join(bad, "ok.bin"), "x");
    symlinkSync("/etc/passwd", join(bad, "link"));
    const opts = { class: "ap1g8" as const, version: "17.12.1.5", out: join(dir, "bad"), signer: testPki().signer, payload: bad };
    await expect(buildImage(opts)).rejects.toThrow(/not a regular file/);
    unlinkSync(join(bad, "link"));
    writeFileSync(join(bad, "final_hash"), "x");
    await expect(buildImage(opts)).rejects.toThrow(/image metadata member/);
    unlinkSync(join(bad, "final_hash"));
    mkdirSync(join(bad, "sub"));
    await expect(buildImage(opts)).rejects.toThrow(/not a regular file/);
    rmSync(join(bad, "sub"), { recursive: true });
    await expect(buildImage({ ...opts, size: 100_000 })).rejects.toThrow(/generated payload only/);
    expect(listTree(dir).filter((p) => p.includes(".partial-"))).toEqual([]);
  });

  it("verifies with an RSA signer and through an intermediate CA", async () => {
    const rsa = testPki("rsa");
    const rsaImage = await buildImage({ class: "ap1g5", version: "17.9.4.27", out: join(dir, "rsa"), signer: rsa.signer, size: 64 * 1024 });
    expect((await attempt(readFileSync(rsaImage.path), { trust: rsa.trust })).result?.signer?.root).toContain("rsa");

    const root = testPki().root;
    const intermediate = (() => {
      const pair = generateKey("ecdsa");
      const cert = signCertificate({
        subject: [["CN", "vap image intermediate"]],
        publicKey: pair.publicKey,
        issuer: { key: root.key, cert: root.cert },
        serial: serialNumber(),
        ...validFor(365),
        extensions: [
          ["basicConstraints", "critical,CA:TRUE"],
          ["keyUsage", "critical,keyCertSign"],
          ["subjectKeyIdentifier", "hash"],
          ["authorityKeyIdentifier", "keyid:always"],
        ],
      });
      return { ...pair, cert };
    })();
    const leaf = issueImageSigner(intermediate, { type: "ecdsa", validity: validFor(30), commonName: "vap signer under intermediate" });
    const viaIntermediate = await buildImage({ class: "ap1g5", version: "17.9.4.27", out: join(dir, "inter"), signer: signerFromPem(leaf.cert + intermediate.cert, leaf.key), size: 64 * 1024 });
    const ok = await attempt(readFileSync(viaIntermediate.path));
    expect(ok.result?.signer).toMatchObject({ subject: "O=vap lab, CN=vap signer under intermediate", issuer: "CN=vap image intermediate" });
    const withoutIntermediate = await buildImage({ class: "ap1g5", version: "17.9.4.27", out: join(dir, "inter2"), signer: signerFromPem(leaf.cert, leaf.key), size: 64 * 1024 });
    const refused = await attempt(readFileSync(withoutIntermediate.path));
    expect(refused.error?.code).toBe("IMAGE_CERTIFICATE");
    expect(refused.error?.message).toMatch(/does not chain to a trusted root/);
  });

  it("refuses an image of another class before taking its payload", async () => {
    const sandbox = new Sandbox(dir, "family");
    const opened: string[] = [];
    const sink = directorySink(sandbox.target);
    const r = await verifyImage(createReadStream(image), {
      trust: testPki().trust,
      limits: imageLimits(hardwareClasses.ap1g6a),
      family: "ap1g6a",
      sink: { ...sink, open: (name, size) => (opened.push(name), sink.open(name, size)) },
    }).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(ImageRejectedError);
    expect((r as ImageRejectedError).code).toBe("IMAGE_WRONG_FAMILY");
    expect(opened).toEqual(["info"]);
    expect(sandbox.problems()).toEqual([]);
  });
});

describe("the real tools read what vap writes", () => {
  it("tar -tvf lists the members in order; tar -xf extracts them; sha256sum -c file_hashes passes", () => {
    requirePeer("tar");
    requirePeer("sha256sum");
    const listing = sh("tar", ["-tvf", image]).trim().split("\n");
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(MEMBERS);
    expect(listing.every((l) => l.startsWith("-rw-r--r-- 0/0"))).toBe(true);
    const out = join(dir, "tar-x");
    mkdirSync(out);
    sh("tar", ["-xf", image, "-C", out]);
    expect(listTree(out)).toEqual([...MEMBERS].sort());
    expect(sh("sha256sum", ["-c", "file_hashes"], out)).toBe("info: OK\npart.bin: OK\nramfs_data_cisco.squashfs: OK\niox.tar.gz: OK\n");
    expect(readFileSync(join(out, "info"), "utf8")).toBe("image_family: ap1g8\nws_management_version: 17.12.1.5\ninfo_end:\n");
    expect(readFileSync(join(out, "final_hash"), "utf8")).toBe(
      `${createHash("sha256").update(readFileSync(join(out, "info"))).update(readFileSync(join(out, "file_hashes"))).digest("hex")}\n`,
    );
  });

  it("openssl verifies final_hash.sig with the signing certificate's key, and the certificate against the root", async () => {
    requirePeer("openssl");
    for (const type of ["ecdsa", "rsa"] as const) {
      const pki = testPki(type);
      const out = join(dir, `openssl-${type}`);
      mkdirSync(out);
      const file = join(dir, `openssl-${type}.img`);
      await buildImage({ class: "ap1g7", version: "17.12.1.5", out: file, signer: pki.signer, size: 64 * 1024 });
      sh("tar", ["-xf", file, "-C", out]);
      sh("openssl", ["x509", "-in", "signing_cert.pem", "-pubkey", "-noout", "-out", "pub.pem"], out);
      expect(sh("openssl", ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "final_hash.sig", "final_hash"], out).trim()).toBe("Verified OK");
      writeFileSync(join(out, "root.pem"), pki.trust);
      expect(sh("openssl", ["verify", "-CAfile", "root.pem", "-purpose", "any", "signing_cert.pem"], out).trim()).toBe("signing_cert.pem: OK");
    }
  });

  it("accepts the image re-packed by GNU tar in ustar and gnu formats (10 KiB records of zero padding)", async () => {
    const out = join(dir, "repack");
    mkdirSync(out);
    sh("tar", ["-xf", image, "-C", out]);
    for (const format of ["ustar", "gnu"]) {
      const repacked = join(dir, `repacked-${format}.tar`);
      sh("tar", [`--format=${format}`, "-cf", repacked, "-C", out, ...MEMBERS]);
      const r = await attempt(readFileSync(repacked));
      expect(r.error?.message).toBeUndefined();
      expect(r.result?.imageBytes).toBe(Math.ceil(200_192 / 10240) * 10240);
    }
    // pax format adds extended headers that may rename members: refused, and says why.
    const pax = join(dir, "repacked-pax.tar");
    sh("tar", ["--format=posix", "-cf", pax, "-C", out, ...MEMBERS]);
    const refused = await attempt(readFileSync(pax));
    expect(refused.error?.code).toBe("IMAGE_UNSAFE_MEMBER");
    expect(refused.error?.message).toMatch(/pax extended header/);
  });
});

describe("re-verifying an extracted partition", () => {
  let count = 0;
  const fresh = () => {
    const out = join(dir, `partition-${count++}`, "part1");
    mkdirSync(out, { recursive: true });
    execFileSync("tar", ["-xf", image, "-C", out]);
    return out;
  };
  const code = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e instanceof ImageRejectedError ? e.code : `threw ${String(e)}`));
  const trust = () => testPki().trust;

  it("finds a changed, missing, extra, replaced-by-symlink or unsigned file", async () => {
    let p = fresh();
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("accepted");
    writeFileSync(join(p, "iox.tar.gz"), "changed");
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("IMAGE_TAMPERED");
    p = fresh();
    unlinkSync(join(p, "part.bin"));
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("IMAGE_TAMPERED");
    p = fresh();
    writeFileSync(join(p, "extra"), "x");
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("IMAGE_STRUCTURE");
    p = fresh();
    renameSync(join(p, "part.bin"), join(p, "..", "part.bin"));
    symlinkSync(join(p, "..", "part.bin"), join(p, "part.bin"));
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("IMAGE_UNSAFE_MEMBER");
    p = fresh();
    unlinkSync(join(p, "final_hash.sig"));
    expect(await code(verifyImageDirectory(p, { trust: trust() }))).toBe("IMAGE_SIGNATURE");
    p = fresh();
    expect(await code(verifyImageDirectory(p, { trust: testPki("rsa").trust }))).toBe("IMAGE_CERTIFICATE");
    expect(await code(verifyImageDirectory(p, { policy: "structure-only" }))).toBe("accepted");
    expect(await code(verifyImageDirectory(p, { trust: trust(), family: "ap1g4" }))).toBe("IMAGE_WRONG_FAMILY");
  });

  it("never opens a file outside the partition that a forged file_hashes names", async () => {
    const p = fresh();
    const hashes = readFileSync(join(p, "file_hashes"), "utf8");
    writeFileSync(join(p, "file_hashes"), `${hashes}${"0".repeat(64)}  ../../../etc/shadow\n`);
    const e = await verifyImageDirectory(p, { trust: trust() }).catch((err: unknown) => err);
    expect((e as ImageRejectedError).code).toBe("IMAGE_UNSAFE_MEMBER");
    expect((e as ImageRejectedError).message).toMatch(/parent-directory component/);
  });
});

describe("bundles", () => {
  it("writes one image per class plus version.info, controller_version.info and readme.txt", async () => {
    const out = join(dir, "bundle");
    const b = await buildBundle({ version: "17.9.4.27", out, signer: testPki().signer, size: 40_000, classes: ["ap1g4", "ap1g8", "ap3g3"], controllerVersion: "17.9.4.100" });
    expect(listTree(out)).toEqual(["ap1g4", "ap1g8", "ap3g3", "controller_version.info", "readme.txt", "version.info"]);
    expect(readFileSync(join(out, "version.info"), "utf8")).toBe("17.9.4.27\n");
    expect(readFileSync(join(out, "controller_version.info"), "utf8")).toBe("17.9.4.100\n");
    expect(readFileSync(join(out, "readme.txt"), "utf8")).toMatch(/ap1g8\s+40448 bytes\s+9105AX/);
    for (const i of b.images) {
      const r = await verifyImage(createReadStream(i.path), { trust: testPki().trust, limits: imageLimits(hardwareClasses[i.family]), family: i.family });
      expect(r.version).toBe("17.9.4.27");
    }
  });
});

describe("the push API", () => {
  it("repeats its refusal on later calls and refuses overlapping writes", async () => {
    const bytes = readFileSync(image);
    const v = new ImageVerifier({ trust: testPki().trust, limits: { imageBytes: 1 << 20, extractBytes: 1 << 20 } });
    const first = v.write(bytes.subarray(0, 1024));
    await expect(v.write(bytes.subarray(1024, 2048))).rejects.toThrow(/must not overlap/);
    await first;
    const bad = Buffer.from(bytes.subarray(1024, 600_000));
    bad[5000]! ^= 1;
    await expect(v.write(bad)).rejects.toMatchObject({ code: "IMAGE_TAMPERED" });
    await expect(v.end()).rejects.toMatchObject({ code: "IMAGE_TAMPERED" });
    expect(() => new ImageVerifier({ limits: { imageBytes: 1, extractBytes: 1 } })).toThrow(/needs trusted roots/);
  });

  it("abort() while the sink is still opening a file waits for it, then leaves nothing behind", async () => {
    const sandbox = new Sandbox(dir, "abort");
    const inner = directorySink(sandbox.target);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const v = new ImageVerifier({
      trust: testPki().trust,
      limits: { imageBytes: 1 << 20, extractBytes: 1 << 20 },
      sink: { ...inner, open: async (name, size) => (name === "part.bin" && (await gate), inner.open(name, size)) },
    });
    const writing = v.write(readFileSync(image).subarray(0, 100_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const aborting = v.abort();
    release();
    await aborting;
    await writing.catch(() => {});
    expect(listTree(sandbox.target)).toEqual([]);
    await expect(v.write(new Uint8Array(512))).rejects.toThrow(/aborted/);
  });
});
