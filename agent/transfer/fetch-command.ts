/**
 * `vap fetch URL FILE [--ca FILE] [--identity FILE] [--known-hosts FILE]`:
 * download an image by hand, by the source schemes.ts picks for the URL.
 * Credentials in a URL are never printed; a login URL with a user but no
 * password has it asked for on the terminal.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type Command, type CommandIo, parseOptions } from "../command-kit/index.js";
import { ConfigError, describeError } from "../core/index.js";
import { DIGEST_ALGORITHMS, type ExpectedImage, expectingSource, parseDigest } from "./expected.js";
import { fileSink } from "./file-sink.js";
import { CA_SCHEMES, imageSourceFor, LOGIN_SCHEMES, type SchemeOptions, SSH_SCHEMES, SUPPORTED_SCHEMES } from "./schemes.js";
import { type ImageSink, tappedSink } from "./sink.js";
import { redactCredentials } from "./url.js";

/** "a, b and c". */
const listed = (items: readonly string[]) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`);

/** --size, --md5, --sha256 as what the download must produce. */
function expectedImage(values: { size?: string } & Partial<Record<(typeof DIGEST_ALGORITHMS)[number], string>>): ExpectedImage | undefined {
  const given = DIGEST_ALGORITHMS.filter((a) => values[a] !== undefined);
  if (given.length > 1) throw new ConfigError(`give one of ${DIGEST_ALGORITHMS.map((a) => `--${a}`).join(", ")}`);
  const expected: ExpectedImage = {};
  if (values.size !== undefined) {
    if (!/^\d+$/.test(values.size)) throw new ConfigError(`--size ${JSON.stringify(values.size)} is not a number of bytes`);
    expected.size = Number(values.size);
  }
  const algorithm = given[0];
  if (algorithm !== undefined) {
    try {
      expected.digest = parseDigest(algorithm, values[algorithm]!);
    } catch (err) {
      throw new ConfigError(`--${algorithm}: ${describeError(err)}`);
    }
  }
  return Object.keys(expected).length > 0 ? expected : undefined;
}

const FETCH_USAGE = `URL FILE [--ca FILE] [--identity FILE] [--known-hosts FILE] [--size BYTES] [--md5 HEX | --sha256 HEX]
  Downloads URL into FILE (through FILE.part, renamed when complete).
  URL: ${SUPPORTED_SCHEMES.map((s) => `${s}host[:port]/path`).join(", ")}; ${listed(LOGIN_SCHEMES)} take user[:password]@host
  (the password is asked for on a terminal when the URL has none). ftpes:// is FTP with explicit TLS. Progress is shown on a terminal.
  --ca FILE           PEM of the CA(s) trusted for ${listed(CA_SCHEMES)} instead of the system's
  --identity FILE     private key to log in with (${listed(SSH_SCHEMES)})
  --known-hosts FILE  the server's host key must be listed here (${listed(SSH_SCHEMES)}); without it the key is accepted and its fingerprint shown
  --size BYTES        the file must be exactly this long
  --md5 HEX, --sha256 HEX
                      the file must have this digest; otherwise FILE is not written`;

function readFlagFile(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`--${flag} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
  }
}

/**
 * `url` with the password filled in: asked for on the terminal when the URL
 * names a user of a login scheme but no password (and no key was given); a
 * one-line ConfigError when there is no terminal to ask on.
 */
async function withPassword(url: string, scheme: string, hasKey: boolean, io: CommandIo): Promise<string> {
  // "user:@host" gives an empty password; only "user@host" gives none.
  const userinfo = /^[^:/]+:\/\/([^/?#@]*)@/.exec(url)?.[1];
  if (!LOGIN_SCHEMES.includes(scheme) || hasKey || userinfo === undefined || userinfo === "" || userinfo.includes(":")) return url;
  const parsed = new URL(url);
  if (io.askSecret === undefined) {
    throw new ConfigError(`${redactCredentials(url)}: no password in the URL, and stdin is not a terminal to ask for one on`);
  }
  const password = await io.askSecret(`Password for ${decodeURIComponent(parsed.username)}@${parsed.host}: `);
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/** A terminal redraws at most this often (a callback per block would flood it). */
const PROGRESS_EVERY_MS = 100;

/**
 * `sink` as it is, counting the bytes that pass; on a terminal also
 * "12.3 MB of 70.5 MB (17%)" on one rewritten line, the size being what the
 * source announced.
 */
function countingSink(sink: ImageSink, show?: (text: string) => void): ImageSink & { readonly bytes: number } {
  let bytes = 0;
  let total: number | undefined;
  let shown = -Infinity;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const redraw = (show: (text: string) => void) => {
    const now = performance.now();
    if (now - shown < PROGRESS_EVERY_MS && bytes !== total) return;
    shown = now;
    show(`\r${mb(bytes)}${total ? ` of ${mb(total)} (${Math.floor((bytes * 100) / total)}%)` : ""}   `);
  };
  const tapped = tappedSink(sink, {
    begin: (image) => (total = image.size),
    write: (chunk) => {
      bytes += chunk.length;
      // Off a terminal a write is only counted: no clock read per chunk.
      if (show) redraw(show);
    },
  });
  return Object.defineProperty(tapped, "bytes", { get: () => bytes }) as ImageSink & { readonly bytes: number };
}

async function runFetch(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    ca: { type: "string" },
    identity: { type: "string" },
    "known-hosts": { type: "string" },
    size: { type: "string" },
    md5: { type: "string" },
    sha256: { type: "string" },
  });
  if (positionals.length !== 2) throw new ConfigError(`usage: vap fetch ${FETCH_USAGE.split("\n")[0]}`);
  const [given, file] = positionals as [string, string];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(given)?.[0]?.toLowerCase() ?? "";
  const o: SchemeOptions = {};
  for (const [flag, schemes, key] of [
    ["ca", CA_SCHEMES, "ca"],
    ["identity", SSH_SCHEMES, "identity"],
    ["known-hosts", SSH_SCHEMES, "knownHosts"],
  ] as const) {
    const path = values[flag];
    if (path === undefined) continue;
    if (scheme !== "" && !schemes.includes(scheme)) throw new ConfigError(`--${flag} applies to ${listed(schemes)} only`);
    o[key] = readFlagFile(flag, path);
  }
  if (SSH_SCHEMES.includes(scheme) && o.knownHosts === undefined) o.onUncheckedHostKey = (line) => io.stderr(`${line}\n`);
  const expected = expectedImage(values);
  // Before asking for a password: an unsupported URL fails at once.
  imageSourceFor(given, o);
  const url = await withPassword(given, scheme, o.identity !== undefined, io);
  const byScheme = imageSourceFor(url, o);
  const source = expected ? expectingSource(byScheme, expected) : byScheme;
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const sink = countingSink(fileSink(file), tty ? io.stderr : undefined);
  const name = basename(given.split(/[?#]/)[0]!);
  try {
    await source.fetch({ name, url }, sink, { signal: io.signal ?? new AbortController().signal });
  } catch (err) {
    await sink.abort(describeError(err));
    throw err;
  }
  if (tty) io.stderr("\n");
  io.stdout(`fetch: ${redactCredentials(given)} -> ${file}, ${sink.bytes} bytes in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return 0;
}

export const fetchCommand: Command = {
  path: ["fetch"],
  summary: `download a file by URL (${SUPPORTED_SCHEMES.join(", ")})`,
  usage: FETCH_USAGE,
  run: runFetch,
};
