/**
 * `vap image …` through the CLI entry point (in process): keygen, build,
 * bundle, verify (success, structure-only, one-line refusals with exit 1),
 * inspect, and the help texts.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packTar, referenceMembers, tempDir } from "./support.js";
import { vap } from "../support/cli.js";

let dir: string;
beforeAll(() => {
  dir = tempDir("image-cli");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vap image", () => {
  it("documents the commands and the format in --help", async () => {
    const help = await vap("image", "--help");
    expect(help.code).toBe(0);
    for (const word of ["keygen DIR", "build --class C --version V", "bundle --version V --out DIR", "verify FILE --trust CA.pem", "inspect FILE", "final_hash.sig", "info.ver"]) expect(help.out).toContain(word);
    expect((await vap("image", "build", "--help")).out).toMatch(/^usage: vap image build --class C/);
    expect(await vap("image")).toMatchObject({ code: 2, err: expect.stringMatching(/^vap image: usage: vap image <keygen\|build\|bundle\|verify\|inspect>/) });
    expect(await vap("image", "frobnicate")).toMatchObject({ code: 2, err: 'vap image: unknown image command "frobnicate"; see vap image --help\n' });
    expect((await vap("--help")).out).toContain("vap image verify");
  });

  it("keygen, build, verify, inspect, bundle", async () => {
    const keys = join(dir, "keys");
    expect((await vap("image", "keygen", keys)).out).toBe(["image-ca.pem", "image-ca.key", "image-signing.pem", "image-signing.key"].map((f) => `wrote ${join(keys, f)}\n`).join(""));
    expect(await vap("image", "keygen", keys)).toMatchObject({ code: 2, err: expect.stringMatching(/already holds image keys/) });

    const image = join(dir, "ap1g8");
    const built = await vap("image", "build", "--class", "ap1g8", "--version", "17.12.1.5", "--keys", keys, "--out", image, "--size", "65536");
    expect(built).toMatchObject({ code: 0, out: expect.stringMatching(/^wrote .*ap1g8: ap1g8 17\.12\.1\.5, 65536 bytes, 9 members, final_hash [0-9a-f]{64}\n$/) });

    const trust = join(keys, "image-ca.pem");
    expect(await vap("image", "verify", image, "--trust", trust, "--class", "ap1g8")).toEqual({
      code: 0,
      out: `${image}: verified ap1g8 17.12.1.5, 9 members, 65536 bytes, signed by O=vap lab, CN=vap image signing (root O=vap lab, CN=vap image-signing CA)\n`,
      err: "",
    });
    expect((await vap("image", "verify", image, "--policy", "structure-only")).out).toMatch(/structure and hashes verified .*policy structure-only: signature and certificate chain NOT checked\n$/);
    expect(await vap("image", "verify", image, "--trust", trust, "--class", "ap1g4")).toMatchObject({ code: 1, err: 'vap image verify: member "info": image_family ap1g8, this AP runs ap1g4\n' });
    expect(await vap("image", "verify", image)).toMatchObject({ code: 2, err: expect.stringMatching(/--trust is required/) });

    const extracted = join(dir, "extracted");
    expect((await vap("image", "verify", image, "--trust", trust, "--extract", extracted)).code).toBe(0);
    expect(readdirSync(extracted).sort()).toEqual(["file_hashes", "final_hash", "final_hash.sig", "info", "info.ver", "iox.tar.gz", "part.bin", "ramfs_data_cisco.squashfs", "signing_cert.pem"]);

    const tampered = join(dir, "tampered");
    const bytes = readFileSync(image);
    bytes[3000]! ^= 1;
    writeFileSync(tampered, bytes);
    const refused = await vap("image", "verify", tampered, "--trust", trust, "--extract", join(dir, "tampered-out"));
    expect(refused).toEqual({ code: 1, out: "", err: 'vap image verify: member "part.bin": SHA-256 differs from file_hashes\n' });
    expect(readdirSync(join(dir, "tampered-out"))).toEqual([]);

    const inspect = await vap("image", "inspect", image);
    expect(inspect.code).toBe(0);
    expect(inspect.out).toMatch(/^.*ap1g8: 65536 bytes, 9 members\n  info +63  [0-9a-f]{64}\n  part\.bin +44544  [0-9a-f]{64}\n/);
    expect(inspect.out).toContain("info: image_family: ap1g8, ws_management_version: 17.12.1.5\n");
    expect(inspect.out).toMatch(/\nsigner: O=vap lab, CN=vap image signing; issuer O=vap lab, CN=vap image-signing CA; valid .* to .*; ec prime256v1; sha256 [0-9A-F:]{95}\n$/);

    const bundle = join(dir, "bundle");
    const b = await vap("image", "bundle", "--version", "17.9.4.27", "--out", bundle, "--keys", keys, "--classes", "ap1g4,ap1g8", "--size", "32768");
    expect(b.code).toBe(0);
    expect(readdirSync(bundle).sort()).toEqual(["ap1g4", "ap1g8", "controller_version.info", "readme.txt", "version.info"]);
    expect(await vap("image", "bundle", "--version", "17.9.4.27", "--out", bundle, "--keys", keys, "--classes", "ap9z9")).toMatchObject({ code: 2, err: expect.stringMatching(/"ap9z9" is not a hardware class/) });
  });

  it("inspect shows what verify refuses, without judging it", async () => {
    const [info, ...rest] = referenceMembers();
    const hostile = join(dir, "hostile.tar");
    writeFileSync(hostile, await packTar([info!, { name: "evil", header: { type: "symlink", linkname: "/etc/passwd" } }, ...rest]));
    const inspect = await vap("image", "inspect", hostile);
    expect(inspect.code).toBe(0);
    expect(inspect.out).toMatch(/\n  evil +0  symlink -> \/etc\/passwd\n/);
    const verify = await vap("image", "verify", hostile, "--policy", "structure-only");
    expect(verify).toMatchObject({ code: 1, err: 'vap image verify: member "evil": symbolic link to "/etc/passwd"\n' });
    writeFileSync(join(dir, "garbage"), Buffer.alloc(1024, 0x41));
    expect(await vap("image", "inspect", join(dir, "garbage"))).toMatchObject({ code: 1, err: expect.stringMatching(/^vap image inspect: image: unreadable as tar after 0 members: /) });
  });

  it("a file the command line names that is not there: one line, exit 2", async () => {
    const absent = join(dir, "absent");
    expect(await vap("image", "verify", absent, "--trust", absent)).toEqual({ code: 2, out: "", err: `vap image verify: --trust: cannot read ${absent} (ENOENT)\n` });
    expect(await vap("image", "inspect", absent)).toEqual({ code: 2, out: "", err: `vap image inspect: ENOENT: no such file or directory, open '${absent}'\n` });
  });

  it("build refuses a payload directory holding a symlink", async () => {
    const keys = join(dir, "keys2");
    await vap("image", "keygen", keys);
    const payload = join(dir, "payload");
    mkdirSync(payload);
    writeFileSync(join(payload, "part.bin"), "x");
    symlinkSync("/etc/passwd", join(payload, "passwd"));
    const r = await vap("image", "build", "--class", "ap1g8", "--version", "17.12.1.5", "--keys", keys, "--out", join(dir, "p"), "--payload", payload);
    expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^vap image build: payload .*passwd is not a regular file/) });
  });
});
