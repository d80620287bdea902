/**
 * The EWC image-download profile (SPEC.md, seed 2) end to end: the lab
 * controller starts with an empty bundle, fetches each class's image from
 * a real server on loopback — tftpd-hpa, nginx — once, and relays it to
 * its APs over CAPWAP Image Data; the server's own log counts the fetches.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildImage, imageSizeFor, issueImageSigner, signerFromPem } from "../../images/index.js";
import { imageServerFlag, imageServerLibrary } from "../../lab/controller/index.js";
import { Lab } from "../../lab/lab/index.js";
import { silentLog } from "../../agent/core/index.js";
import { issueCa, validFor } from "../../agent/pki/index.js";
import { startVap, vap } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { BUILT_VAP, readmeCommands } from "../support/readme.js";
import { servedFiles, startSshd, stopFileServers } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { tempDir } from "../support/temp.js";
import { startNginx, type RunningNginx } from "../transfer/http/support.js";
import { freeUdpPort, servedDir, startLoggedTftpdHpa, type LoggedTftpdHpa } from "../transfer/tftp/support.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";
/** Where the seed's operator unzipped the bundle on the server. */
const IMAGE_PATH = "EWC/17_12_1_5";
/** AP timers that rediscover quickly after a failed download (RFC 5415's defaults wait 5 s and more). */
const QUICK_RESTART = { timers: { discoveryInterval: "200ms", maxDiscoveryInterval: "1s", silentInterval: "2s" } };

/** Not the lab's: the server's images are signed by a root the APs are told to trust (--image-trust). */
const imageRoot = issueCa("ecdsa", validFor(2), "image server's signing root");
const signer = (() => {
  const issued = issueImageSigner(imageRoot, { type: "ecdsa", validity: validFor(2) });
  return signerFromPem(issued.cert, issued.key);
})();

/** The seed's layout: the unzipped bundle in a folder of the server's root, readable by the daemon's user. */
function serverRoot(): { root: string; images: string } {
  const root = servedDir({});
  const images = join(root, IMAGE_PATH);
  mkdirSync(images, { recursive: true, mode: 0o755 });
  chmodSync(join(root, "EWC"), 0o755);
  return { root, images };
}

async function putImage(dir: string, name: "ap1g8"): Promise<void> {
  await buildImage({ class: name, version: NEW, out: join(dir, name), signer, size: imageSizeFor("small", name) });
  chmodSync(join(dir, name), 0o644);
}

let lab: Lab | undefined;
let tftpd: LoggedTftpdHpa | undefined;
let nginx: RunningNginx | undefined;
afterEach(async () => {
  await lab?.stop();
  await tftpd?.stop();
  await nginx?.stop();
  lab = tftpd = nginx = undefined;
});

async function startLab(url: string, aps: number, lines: string[], stateDir?: string): Promise<Lab> {
  return Lab.start({
    ...(stateDir ? { stateDir } : {}),
    aps,
    profile: "cisco",
    address: await freeLoopbackAddress(),
    classes: ["ap1g8"],
    apVersion: OLD,
    controllerVersion: NEW,
    imageWindow: 8,
    imageServer: imageServerFlag(url),
    imageTrust: imageRoot.cert,
    apConfig: QUICK_RESTART,
    console: (l) => lines.push(l),
  });
}

describe("vap lab --image-server: the controller fetches a class once and relays it to every AP of that class", () => {
  it("tftp:// from tftpd-hpa: 4 APs, one RRQ from the controller's address, every AP upgraded", async () => {
    const { root, images } = serverRoot();
    await putImage(images, "ap1g8");
    tftpd = await startLoggedTftpdHpa(root);
    const lines: string[] = [];
    const state = tempDir("lab-ewc");
    lab = await startLab(`tftp://127.0.0.1:${tftpd.port}/${IMAGE_PATH}`, 4, lines, state);
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => `not all upgraded:\n${lines.filter((l) => /image/i.test(l)).join("\n")}`);
    for (const ap of lab.aps) expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD, lastReloadReason: "Image upgrade" });
    // The server saw the controller (127.0.0.1 is where its TFTP client binds), once, for the class file.
    expect(tftpd.requests()).toEqual([{ from: "127.0.0.1", file: `${IMAGE_PATH}/ap1g8` }]);
    const fetched = lines.filter((l) => l.includes(`Fetched image ap1g8 ${NEW} from image server tftp://127.0.0.1:${tftpd!.port}/${IMAGE_PATH}/ap1g8`));
    expect(fetched).toHaveLength(1);
    // Kept in the bundle directory under its class name; the .part is gone.
    const bundle = join(state, "bundle");
    expect(readdirSync(bundle)).toEqual(["ap1g8"]);
    expect(readFileSync(join(bundle, "ap1g8"))).toEqual(readFileSync(join(images, "ap1g8")));
  }, 120_000);

  it("a missing file: each AP's download fails with the reason on both sides, the controller stays up and succeeds once the file is there", async () => {
    const { root, images } = serverRoot();
    tftpd = await startLoggedTftpdHpa(root);
    const lines: string[] = [];
    const url = `tftp://127.0.0.1:${tftpd.port}/${IMAGE_PATH}`;
    lab = await startLab(url, 3, lines);
    const names = () => lab!.aps.map((ap) => ap.wtp.name);
    const refusedFor = (name: string) => lines.some((l) => l.includes(`AP ${name} asked for image "ap1g8", which this controller cannot get: cannot fetch it from image server ${url}/ap1g8: not-found:`));
    const apGaveUp = (name: string) => lines.some((l) => l.startsWith(`${name} `) && l.includes("image download cannot start"));
    await lab.waitFor(() => names().every((n) => refusedFor(n) && apGaveUp(n)), 60_000, () => `not every AP refused:\n${lines.join("\n")}`);
    expect(tftpd.requests().length).toBeGreaterThanOrEqual(1);
    expect(lab.aps.every((ap) => ap.engine!.running === OLD)).toBe(true);

    await putImage(images, "ap1g8");
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => `not all upgraded:\n${lines.filter((l) => /image/i.test(l)).slice(-20).join("\n")}`);
    // Fetches one at a time, each ended before the next began; one succeeded, the last (later APs were served from the bundle).
    const fetchLog = lines.flatMap((l) => (/Fetching image ap1g8|Fetched image ap1g8|Cannot fetch image ap1g8/.exec(l)?.[0] ?? []));
    const attempts = fetchLog.filter((l) => l === "Fetching image ap1g8").length;
    expect(fetchLog).toEqual([...Array.from({ length: attempts - 1 }, () => ["Fetching image ap1g8", "Cannot fetch image ap1g8"]).flat(), "Fetching image ap1g8", "Fetched image ap1g8"]);
    // The server saw exactly those fetches, all from the controller.
    expect(tftpd.requests()).toEqual(Array.from({ length: attempts }, () => ({ from: "127.0.0.1", file: `${IMAGE_PATH}/ap1g8` })));
  }, 180_000);

  it("https:// from nginx, trusting only its private CA (--image-server-ca): fetched once; without that CA, refused", async () => {
    const { images } = serverRoot();
    await putImage(images, "ap1g8");
    nginx = await startNginx({ [`${IMAGE_PATH}/ap1g8`]: readFileSync(join(images, "ap1g8")) });
    const url = `https://127.0.0.1:${nginx.httpsPort}/${IMAGE_PATH}`;
    expect(() => imageServerFlag(`tftp://127.0.0.1/${IMAGE_PATH}`, undefined, nginx!.caPem)).toThrow(/^--image-server: a CA \(--image-server-ca\) applies to http:\/\/, https:\/\/, ftpes:\/\/ only$/);
    const untrusted = imageServerLibrary({ server: imageServerFlag(url), bundleDir: tempDir("ewc-untrusted"), log: silentLog });
    await expect(untrusted.open("ap1g8")).rejects.toThrow(/TLS certificate not accepted/);
    await untrusted.close();
    const lines: string[] = [];
    lab = await Lab.start({
      aps: 2,
      profile: "cisco",
      address: await freeLoopbackAddress(),
      apVersion: OLD,
      controllerVersion: NEW,
      imageServer: imageServerFlag(url, undefined, nginx.caPem),
      imageTrust: imageRoot.cert,
      apConfig: QUICK_RESTART,
      console: (l) => lines.push(l),
    });
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => `not all upgraded:\n${lines.filter((l) => /image/i.test(l)).join("\n")}`);
    expect(nginx.accessLog().split("\n").filter((l) => l.includes(`GET /${IMAGE_PATH}/ap1g8 `))).toHaveLength(1);
  }, 120_000);

  it("http:// from nginx: 3 APs, one GET in nginx's access log", async () => {
    const { images } = serverRoot();
    await putImage(images, "ap1g8");
    nginx = await startNginx({ [`${IMAGE_PATH}/ap1g8`]: readFileSync(join(images, "ap1g8")) });
    const lines: string[] = [];
    lab = await startLab(`http://127.0.0.1:${nginx.httpPort}/${IMAGE_PATH}`, 3, lines);
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => `not all upgraded:\n${lines.filter((l) => /image/i.test(l)).join("\n")}`);
    const gets = nginx.accessLog().split("\n").filter((l) => l.includes(`GET /${IMAGE_PATH}/ap1g8 `));
    expect(gets).toHaveLength(1);
    expect(gets[0]).toMatch(/^127\.0\.0\.1 .* 200 /);
  }, 120_000);
});

describe("vap lab --image-server sftp://: the seed's SFTP image-download profile", () => {
  afterEach(async () => {
    await stopFileServers();
    await removeLoginUsers();
  });

  it("sftp:// from sshd (internal-sftp, chroot, password): 3 APs upgraded from one fetch", async () => {
    const served = await servedFiles({});
    const images = join(served.root, IMAGE_PATH);
    mkdirSync(images, { recursive: true, mode: 0o755 });
    chmodSync(join(served.root, "EWC"), 0o755);
    await putImage(images, "ap1g8");
    const sshd = await startSshd(served);
    const lines: string[] = [];
    const state = tempDir("lab-ewc-sftp");
    const url = `sftp://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${sshd.port}/${IMAGE_PATH}`;
    lab = await startLab(url, 3, lines, state);
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => `not all upgraded:\n${lines.filter((l) => /image/i.test(l)).join("\n")}`);
    const fetched = lines.filter((l) => l.includes(`Fetched image ap1g8 ${NEW} from image server sftp://*****@127.0.0.1:${sshd.port}/${IMAGE_PATH}/ap1g8`));
    expect(fetched).toHaveLength(1);
    expect(lines.join("\n")).not.toContain(served.user.password);
    expect(readFileSync(join(state, "bundle", "ap1g8"))).toEqual(readFileSync(join(images, "ap1g8")));
  }, 120_000);
});

describe("vap controller --image-server", () => {
  it("says at start where the classes its bundle lacks come from, credentials hidden, and stops on Ctrl-C", async () => {
    const bundle = tempDir("ewc-bundle");
    const controller = startVap("controller", "--plaintext", "--address", await freeLoopbackAddress(), "--bundle", bundle, "--image-server", "http://admin:s3cret@127.0.0.1:1/EWC");
    await controller.until("Image-download profile");
    expect(controller.out).toContain(`Serving images from ${bundle}: no class images;`);
    expect(controller.out).toContain(`Image-download profile: classes missing from ${bundle} are fetched from image server http://*****@127.0.0.1:1/EWC\n`);
    controller.stop();
    expect(await controller.done).toBe(0);
    expect(controller.out + controller.err).not.toContain("s3cret");
  });
});

describe("README's \"Let the controller fetch images from a server\"", () => {
  it("typed in order from an empty folder: the lab's APs upgrade from images the controller fetched from vap tftp serve", async () => {
    const lines = readmeCommands("Let the controller fetch images from a server");
    expect(lines.some((l) => l.includes("--image-server"))).toBe(true);
    const port = String(await freeUdpPort());
    const address = await freeLoopbackAddress();
    // Only the port and the controller's address change, so parallel runs never collide; the server gets a moment to bind and never outlives the script.
    const script = ["set -e", "trap 'kill $(jobs -p) 2>/dev/null' EXIT", "trap 'exit 143' TERM", ...lines.map((l) => l.replaceAll("6969", port).replaceAll("npx vap", BUILT_VAP).replace(/&$/, "& sleep 1").replace("--until upgraded", `--until upgraded --address ${address}`))].join("\n");
    const out = execFileSync("bash", ["-c", script], { cwd: tempDir("ewc-readme"), encoding: "utf8", timeout: 120_000 });
    expect(out).toMatch(new RegExp(`Fetched image ap1g8 17\\.12\\.1\\.5 from image server tftp://127\\.0\\.0\\.1:${port}/ap1g8: 1048576 bytes`));
    expect(out.match(/TFTP: RRQ ap1g8 from 127\.0\.0\.1:/g)).toHaveLength(1);
    expect(out).toContain("All 3 AP(s) upgraded to 17.12.1.5 and in Run.");
  }, 150_000);
});

describe("--image-server on the command line: checked once, one line, exit 2", () => {
  const supported = String.raw`\(supported: tftp://, [^\n]*\)`;
  it.each([
    [["controller", "--image-server", "bogus://x"], new RegExp(String.raw`^vap controller: --image-server: cannot fetch "bogus://x": bogus:// is not supported ${supported}\n$`)],
    [["lab", "--image-server", "bogus://x"], new RegExp(String.raw`^vap lab: --image-server: cannot fetch "bogus://x": bogus:// is not supported ${supported}\n$`)],
    [["controller", "--image-server", "image-server/ap"], new RegExp(String.raw`^vap controller: --image-server: cannot fetch "image-server/ap": not a URL ${supported}\n$`)],
    [["controller", "--image-server", "http://admin:s3cret@/images"], /^vap controller: --image-server: "http:\/\/\*\*\*\*\*@\/images" names no server \(expected e\.g\. tftp:\/\/host\[:port\]\/dir\)\n$/],
    [["controller", "--plaintext", "--image-server", "tftp://127.0.0.1/images"], /^vap controller: --image-server needs --bundle DIR, where the images it fetches are kept\n$/],
    [["lab", "--image-trust", "root.pem"], /^vap lab: --image-trust applies with --image-server only\n$/],
    [["lab", "--image-server-ca", "ca.pem"], /^vap lab: --image-server-ca applies with --image-server only\n$/],
    [["controller", "--image-server", "tftp://127.0.0.1/images", "--image-server-ca", "/nonexistent/ca.pem"], /^vap controller: --image-server-ca: cannot read \/nonexistent\/ca\.pem \(ENOENT\)\n$/],
  ])("vap %j", async (argv, err) => {
    const r = await vap(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(err);
    expect(r.err).not.toContain("s3cret");
  });
});

describe("imageServerLibrary: the controller's side, against real servers", () => {

  it("five requests for a class at once: one RRQ, one file, every request served the same image", async () => {
    const { root, images } = serverRoot();
    await putImage(images, "ap1g8");
    tftpd = await startLoggedTftpdHpa(root);
    const bundleDir = tempDir("ewc-bundle");
    const library = imageServerLibrary({ server: imageServerFlag(`tftp://127.0.0.1:${tftpd.port}/${IMAGE_PATH}`), bundleDir, log: silentLog });
    try {
      const files = await Promise.all(Array.from({ length: 5 }, () => library.open("ap1g8")));
      expect(new Set(files.map((f) => Buffer.from(f!.md5).toString("hex"))).size).toBe(1);
      expect(files[0]!.size).toBe(readFileSync(join(images, "ap1g8")).length);
      files.forEach((f) => f!.close());
      // Not a hardware class: never asked of the server.
      expect(await library.open("C9800-AP-iosxe-wlc.bin")).toBeUndefined();
    } finally {
      await library.close();
    }
    expect(tftpd.requests()).toHaveLength(1);
    expect(readdirSync(bundleDir)).toEqual(["ap1g8"]);
  }, 60_000);

  it("a file that is not a whole image of the class asked for (an ap1g7 image named ap1g8) is refused and leaves nothing in the bundle", async () => {
    const { root, images } = serverRoot();
    await buildImage({ class: "ap1g7", version: NEW, out: join(images, "ap1g8"), signer, size: imageSizeFor("small", "ap1g7") });
    chmodSync(join(images, "ap1g8"), 0o644);
    tftpd = await startLoggedTftpdHpa(root);
    const bundleDir = tempDir("ewc-bundle");
    const library = imageServerLibrary({ server: imageServerFlag(`tftp://127.0.0.1:${tftpd.port}/${IMAGE_PATH}`), bundleDir, log: silentLog });
    try {
      await expect(library.open("ap1g8")).rejects.toThrow(/^cannot fetch it from image server tftp:\/\/127\.0\.0\.1:\d+\/EWC\/17_12_1_5\/ap1g8: sink: .*image_family/);
    } finally {
      await library.close();
    }
    expect(readdirSync(bundleDir)).toEqual([]);
  }, 60_000);

  it("close() ends a fetch in flight (nginx sending at 64 KiB/s): the waiting request fails, the .part is removed", async () => {
    const { images } = serverRoot();
    await putImage(images, "ap1g8");
    nginx = await startNginx({ "slow/ap1g8": readFileSync(join(images, "ap1g8")) });
    const bundleDir = tempDir("ewc-bundle");
    const library = imageServerLibrary({ server: imageServerFlag(`http://127.0.0.1:${nginx.httpPort}/slow`), bundleDir, log: silentLog });
    const opened = library.open("ap1g8");
    const started = Date.now();
    while (!readdirSync(bundleDir).includes("ap1g8.part") && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(bundleDir)).toEqual(["ap1g8.part"]);
    await library.close();
    await expect(opened).rejects.toThrow(/aborted/);
    expect(readdirSync(bundleDir)).toEqual([]);
  }, 60_000);
});
