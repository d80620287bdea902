/**
 * `vap fetch URL FILE [--ca FILE]`: download an image by hand, by the
 * source schemes.ts picks for the URL. Credentials in a URL are never
 * printed.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type Command, type CommandIo, parseOptions } from "../command-kit/index.js";
import { ConfigError, describeError } from "../core/index.js";
import { DIGEST_ALGORITHMS, type ExpectedImage, expectingSource, parseDigest } from "./expected.js";
import { fileSink } from "./file-sink.js";
import { CA_SCHEMES, imageSourceFor, SUPPORTED_SCHEMES } from "./schemes.js";
import type { ImageSink } from "./sink.js";
import { redactCredentials } from "./url.js";

const FETCH_USAGE = `URL FILE [--ca FILE] [--size BYTES] [--md5 HEX | --sha256 HEX]
  Downloads URL into FILE (through FILE.part, renamed when complete).
  URL: ${SUPPORTED_SCHEMES.map((s) => `${s}host[:port]/path`).join(", ")}. Progress is shown on a terminal.
  --ca FILE       PEM of a private CA trusted for ${CA_SCHEMES.join(" and ")} besides the system's
  --size BYTES    the file must be exactly this long
  --md5 HEX, --sha256 HEX
                  the file must have this digest; otherwise FILE is not written`;

/** --size, --md5, --sha256 as what the download must produce. */
function expectedImage(values: { size?: string } & Partial<Record<(typeof DIGEST_ALGORITHMS)[number], string>>): ExpectedImage | undefined {
  const given = DIGEST_ALGORITHMS.filter((a) => values[a] !== undefined);
  if (given.length > 1) throw new ConfigError(`give one of ${DIGEST_ALGORITHMS.map((a) => `--${a}`).join(", ")}`);
  const expected: ExpectedImage = {};
  if (values.size !== undefined) {
    if (!/^\d+$/.test(values.size)) throw new ConfigError(`--size "${values.size}" is not a number of bytes`);
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

function readCa(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`--ca ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
  }
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
  const redraw = () => {
    const now = performance.now();
    if (show === undefined || (now - shown < PROGRESS_EVERY_MS && bytes !== total)) return;
    shown = now;
    show(`\r${mb(bytes)}${total ? ` of ${mb(total)} (${Math.floor((bytes * 100) / total)}%)` : ""}   `);
  };
  return {
    get bytes() {
      return bytes;
    },
    begin(image) {
      total = image.size;
      return sink.begin(image);
    },
    write(chunk) {
      bytes += chunk.length;
      redraw();
      return sink.write(chunk);
    },
    finish: () => sink.finish(),
    abort: (reason) => sink.abort(reason),
  };
}

async function runFetch(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, { ca: { type: "string" }, size: { type: "string" }, md5: { type: "string" }, sha256: { type: "string" } });
  if (positionals.length !== 2) throw new ConfigError(`usage: vap fetch ${FETCH_USAGE.split("\n")[0]}`);
  const [url, file] = positionals as [string, string];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0]?.toLowerCase();
  if (values.ca !== undefined && scheme !== undefined && !CA_SCHEMES.includes(scheme)) throw new ConfigError(`--ca applies to ${CA_SCHEMES.join(" and ")} only`);
  const ca = values.ca === undefined ? undefined : readCa(values.ca);
  const expected = expectedImage(values);
  const byScheme = imageSourceFor(url, ca === undefined ? {} : { ca });
  const source = expected ? expectingSource(byScheme, expected) : byScheme;
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const sink = countingSink(fileSink(file), tty ? io.stderr : undefined);
  const name = basename(url.split(/[?#]/)[0]!);
  try {
    await source.fetch({ name, url }, sink, { signal: io.signal ?? new AbortController().signal });
  } catch (err) {
    await sink.abort(describeError(err));
    throw err;
  }
  if (tty) io.stderr("\n");
  io.stdout(`fetch: ${redactCredentials(url)} -> ${file}, ${sink.bytes} bytes in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return 0;
}

export const fetchCommand: Command = {
  path: ["fetch"],
  summary: `download a file by URL (${SUPPORTED_SCHEMES.join(", ")})`,
  usage: FETCH_USAGE,
  run: runFetch,
};
