import { createReadStream, mkdirSync } from "node:fs";
import { choiceFlag, classFlag, classListFlag, type Command, integerFlag, noPositionals, onePositional, parseOptions } from "../agent/command-kit/index.js";
import { ConfigError, readOperatorFile } from "../agent/core/index.js";
import { classNames, hardwareClasses } from "../platform/classes/index.js";
import { buildBundle, buildImage, imageSizeFlag, imageSizeFor, type ImageSize } from "./build.js";
import { inspectImage, type ImageInspection } from "./inspect.js";
import { generateImageKeys, loadSigner } from "./keys.js";
import { directorySink } from "./sink.js";
import type { SignaturePolicy } from "./trust.js";
import { fileSource, imageLimits, verifyImage, type ImageLimits } from "./verify.js";

const USAGE = {
  keygen: `DIR [--rsa] [--days 1825] [--start DATE] [--force]
  Writes an image-signing root CA (DIR/image-ca.pem, DIR/image-ca.key) and a
  signing certificate it issues (DIR/image-signing.pem, DIR/image-signing.key,
  extended key usage codeSigning). Keys are mode 0600; ECDSA P-256 unless
  --rsa (RSA-2048). --days is the signing certificate's validity from --start
  (default now); the root lasts 20 years or longer than the signer.`,
  build: `--class C --version V --keys DIR [--out FILE] [--payload DIR | --size realistic|small|BYTES] [--date DATE]
  Writes a signed image of class C (ap1g4 … ap3g3) and version V (17.12.1.5)
  to FILE (default: ./C, the name the AP asks for), signed with DIR's
  image-signing.pem/.key. The payload is a directory's regular files, or
  generated: part.bin (deterministic pseudo-random bytes) sized so the image
  is exactly BYTES long, plus ramfs_data_cisco.squashfs and iox.tar.gz;
  realistic = the class's real image size, small (default) = 1 MiB.`,
  bundle: `--version V --out DIR --keys DIR [--size realistic|small|BYTES] [--classes ap1g4,ap1g8,…] [--controller-version V] [--date DATE]
  Writes a bundle folder as TFTP/SFTP servers host it: one image per class
  named by class, version.info, controller_version.info and readme.txt.`,
  verify: `FILE --trust CA.pem [--policy required|structure-only] [--class C] [--extract DIR]
  Verifies structure, every file hash, final_hash, the signature and the
  certificate chain to a root in CA.pem, and prints one line; a refusal is
  one line naming the member, exit status 1. structure-only skips the
  signature and chain (said so on the output line). --class applies that
  class's /tmp and partition limits and insists on its family (default: the
  largest limits of any class). --extract writes the members into DIR (created
  if missing), removing them again if the image is refused.`,
  inspect: `FILE
  Lists the members (type, size, SHA-256), info, final_hash and the signing
  certificates without judging them: no trust needed, lenient tar reading.`,
} as const;

const FORMAT = `Image format (SPEC.md §5): a POSIX ustar archive whose members are, in order,
  info              "image_family: C", "ws_management_version: V", "info_end:" lines
  <payload>         regular files (part.bin, ramfs_data_cisco.squashfs, iox.tar.gz …)
  file_hashes       sha256sum lines ("<hex>  <name>") for info and each payload file
  final_hash        hex SHA-256 of the info bytes followed by the file_hashes bytes, "\\n"
  final_hash.sig    signature of final_hash's bytes, SHA-256, DER ECDSA or PKCS#1 v1.5 RSA
                    (openssl dgst -sha256 -verify PUB -signature final_hash.sig final_hash)
  signing_cert.pem  the signing certificate and any intermediates, PEM
  info.ver          a copy of info
then two zero blocks. The verifier refuses links, devices, directories,
pax/GNU records, absolute, nested or ".." names, duplicates, members out of
order, sizes beyond the /tmp or partition limit, truncation and trailing
garbage — each with a one-line reason.`;

function required(value: string | undefined, flag: string, command: keyof typeof USAGE): string {
  if (value === undefined) throw new ConfigError(`--${flag} is required; usage: vap image ${command} ${USAGE[command].split("\n")[0]}`);
  return value;
}

function date(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new ConfigError(`--${flag} "${value}" is not a date (e.g. 2024-01-30T21:41:35Z)`);
  return d;
}

const imageSize = (value: string | undefined): ImageSize | undefined => (value === undefined ? undefined : imageSizeFlag("size", value));

/** Names from an archive may hold anything; print them so they stay on one line. */
function printable(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) ? name : JSON.stringify(name);
}

const keygen: Command = {
  path: ["image", "keygen"],
  summary: "create an image-signing root CA and signing certificate",
  usage: USAGE.keygen,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, { rsa: { type: "boolean" }, days: { type: "string" }, start: { type: "string" }, force: { type: "boolean" } });
    const dir = onePositional(positionals, `image keygen ${USAGE.keygen}`);
    const start = date(values.start, "start");
    const files = generateImageKeys(dir, {
      keyType: values.rsa ? "rsa" : "ecdsa",
      force: values.force ?? false,
      ...(values.days !== undefined ? { days: integerFlag("days", values.days, 1) } : {}),
      ...(start ? { start } : {}),
    });
    io.stdout([files.caCert, files.caKey, files.signingCert, files.signingKey].map((f) => `wrote ${f}\n`).join(""));
    return 0;
  },
};

const build: Command = {
  path: ["image", "build"],
  summary: "build a signed class image",
  usage: USAGE.build,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, {
      class: { type: "string" },
      version: { type: "string" },
      keys: { type: "string" },
      out: { type: "string" },
      payload: { type: "string" },
      size: { type: "string" },
      date: { type: "string" },
    });
    noPositionals(positionals);
    const c = classFlag("class", required(values.class, "class", "build"));
    const size = imageSize(values.size);
    const when = date(values.date, "date");
    const built = await buildImage({
      class: c,
      version: required(values.version, "version", "build"),
      out: values.out ?? c,
      signer: loadSigner(required(values.keys, "keys", "build")),
      ...(values.payload !== undefined ? { payload: values.payload } : {}),
      ...(size !== undefined ? { size: imageSizeFor(size, c) } : {}),
      ...(when ? { date: when } : {}),
    });
    io.stdout(`wrote ${built.path}: ${built.family} ${built.version}, ${built.bytes} bytes, ${built.members.length} members, final_hash ${built.finalHash}\n`);
    return 0;
  },
};

const bundle: Command = {
  path: ["image", "bundle"],
  summary: "build a bundle folder: one image per class + version files",
  usage: USAGE.bundle,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, {
      version: { type: "string" },
      out: { type: "string" },
      keys: { type: "string" },
      size: { type: "string" },
      classes: { type: "string" },
      "controller-version": { type: "string" },
      date: { type: "string" },
    });
    noPositionals(positionals);
    const size = imageSize(values.size);
    const when = date(values.date, "date");
    const result = await buildBundle({
      version: required(values.version, "version", "bundle"),
      out: required(values.out, "out", "bundle"),
      signer: loadSigner(required(values.keys, "keys", "bundle")),
      ...(size !== undefined ? { size } : {}),
      ...(values.classes !== undefined ? { classes: classListFlag("classes", values.classes) } : {}),
      ...(values["controller-version"] !== undefined ? { controllerVersion: values["controller-version"] } : {}),
      ...(when ? { date: when } : {}),
    });
    const lines = [...result.images.map((i) => `wrote ${i.path}: ${i.family} ${i.version}, ${i.bytes} bytes`), ...result.files.map((f) => `wrote ${f}`)];
    io.stdout(lines.map((l) => `${l}\n`).join(""));
    return 0;
  },
};

/** Without --class: what the roomiest class allows, so any class's image fits. */
function largestLimits(): ImageLimits {
  const all = classNames.map((c) => imageLimits(hardwareClasses[c]));
  return { imageBytes: Math.max(...all.map((l) => l.imageBytes)), extractBytes: Math.max(...all.map((l) => l.extractBytes)) };
}

const verify: Command = {
  path: ["image", "verify"],
  summary: "verify an image's structure, hashes, signature and chain",
  usage: USAGE.verify,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, { trust: { type: "string" }, policy: { type: "string" }, class: { type: "string" }, extract: { type: "string" } });
    const file = onePositional(positionals, `image verify ${USAGE.verify}`);
    const policy: SignaturePolicy = choiceFlag("policy", values.policy ?? "required", ["required", "structure-only"]);
    let trust: string | undefined;
    if (policy === "required") {
      const path = required(values.trust, "trust", "verify");
      trust = readOperatorFile(path, "--trust");
    }
    const c = values.class !== undefined ? classFlag("class", values.class) : undefined;
    if (values.extract !== undefined) mkdirSync(values.extract, { recursive: true });
    const result = await verifyImage(fileSource(file), {
      policy,
      limits: c ? imageLimits(hardwareClasses[c]) : largestLimits(),
      ...(trust !== undefined ? { trust } : {}),
      ...(c ? { family: c } : {}),
      ...(values.extract !== undefined ? { sink: directorySink(values.extract) } : {}),
    });
    const what = `${result.family} ${result.version}, ${result.members.length} members, ${result.imageBytes} bytes`;
    io.stdout(
      result.signer
        ? `${file}: verified ${what}, signed by ${result.signer.subject} (root ${result.signer.root})\n`
        : `${file}: structure and hashes verified (${what}); policy structure-only: signature and certificate chain NOT checked\n`,
    );
    return 0;
  },
};

function renderInspection(file: string, r: ImageInspection): string {
  const lines = [`${file}: ${r.bytes} bytes, ${r.members.length} members`];
  for (const m of r.members) {
    const what = m.sha256 ?? m.type;
    lines.push(`  ${printable(m.name).padEnd(28)} ${String(m.size).padStart(10)}  ${what}${m.linkname ? ` -> ${printable(m.linkname)}` : ""}${m.pax ? " (pax header)" : ""}`);
  }
  if (r.info) lines.push("error" in r.info ? `info: ${r.info.error}` : `info: ${r.info.fields.map(([k, v]) => `${k}: ${v}`).join(", ")}`);
  if (r.finalHash !== undefined) lines.push(`final_hash: ${printable(r.finalHash)}`);
  if (r.certificates) {
    if ("error" in r.certificates) lines.push(`signing certificates: ${r.certificates.error}`);
    else
      r.certificates.forEach((c, i) =>
        lines.push(`${i === 0 ? "signer" : "intermediate"}: ${c.subject}; issuer ${c.issuer}; valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}; ${c.key}; sha256 ${c.fingerprint256}`),
      );
  }
  return lines.map((l) => `${l}\n`).join("");
}

const inspect: Command = {
  path: ["image", "inspect"],
  summary: "list an image's members, info and signer (no trust needed)",
  usage: USAGE.inspect,
  async run(argv, io) {
    const { positionals } = parseOptions(argv, {});
    const file = onePositional(positionals, `image inspect ${USAGE.inspect}`);
    io.stdout(renderInspection(file, await inspectImage(createReadStream(file, { highWaterMark: 1024 * 1024 }))));
    return 0;
  },
};

/** `vap image` alone, or `vap image --help`: the subcommands and the format. */
const group: Command = {
  path: ["image"],
  summary: "signed firmware images (`vap image --help`: commands and format)",
  usage: `<keygen|build|bundle|verify|inspect> …\n\n${Object.entries(USAGE).map(([name, text]) => `${name} ${text}`).join("\n\n")}\n\n${FORMAT}`,
  async run(argv) {
    throw new ConfigError(argv.length === 0 ? "usage: vap image <keygen|build|bundle|verify|inspect> …; see vap image --help" : `unknown image command "${argv[0]}"; see vap image --help`);
  },
};

export const imageCommands: readonly Command[] = [group, keygen, build, bundle, verify, inspect];
