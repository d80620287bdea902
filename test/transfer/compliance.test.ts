/**
 * One compliance suite every image source passes, each against its real
 * server on loopback (compliance/servers.ts): the same files, the same
 * failures, the same typed reasons, through the seam the upgrade engine
 * and `vap fetch` use, into a file sink that must never leave a partial
 * file behind.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageSourceFailure } from "../../agent/capwap/wtp/index.js";
import { expectingSource, fileSink, type ImageSink, type ImageSource, ImageSourceError } from "../../agent/transfer/index.js";
import { type RunningSource, SOURCE_SERVERS } from "./compliance/servers.js";
import { content, sha256 } from "./tftp/support.js";
import { stopFileServers } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { tempDir } from "../support/temp.js";

const FILES = {
  small: content(1000),
  exact512: content(512 * 8),
  exact1468: content(1468 * 16),
  empty: new Uint8Array(),
  /** Past block 65535 at 512-byte blocks: TFTP's rollover. */
  large: content(512 * 65_536 + 100),
};
type Name = keyof typeof FILES;

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
/** What a dead server may look like to a client: gone (network), silent (timeout) or cut short (integrity). */
const DEAD_SERVER: readonly ImageSourceFailure[] = ["network", "timeout", "integrity"];

async function fetchInto(source: ImageSource, url: string, sink: ImageSink) {
  return source.fetch({ name: url.split("/").pop()!, url }, sink, { signal: new AbortController().signal });
}

async function failureOf(fetching: Promise<unknown>): Promise<ImageSourceError> {
  const err = await fetching.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ImageSourceError)) throw new Error(`expected an ImageSourceError, got ${String(err)}`);
  return err;
}

afterAll(async () => {
  await stopFileServers();
  await removeLoginUsers();
});

describe.each(SOURCE_SERVERS)("$name", (row) => {
  let server: RunningSource;
  let out: string;
  beforeAll(async () => {
    server = await row.start(FILES);
    out = tempDir("compliance");
  }, 60_000);
  afterAll(() => server?.stop());

  /** Nothing but the complete files is ever left in `out`. */
  const leftovers = () => readdirSync(out).filter((f) => f.endsWith(".part"));

  it.each(["small", "exact512", "exact1468", "empty"] as Name[])("fetches %s byte-exact", async (name) => {
    const file = join(out, name);
    await fetchInto(server.source(), server.url(name), fileSink(file));
    expect(sha256(readFileSync(file))).toBe(sha256(FILES[name]));
    expect(leftovers()).toEqual([]);
  });

  it("fetches a file past block 65535, checked against its size and SHA-256", async () => {
    const file = join(out, "large");
    const expected = { size: FILES.large.length, digest: { algorithm: "sha256" as const, hex: sha256(FILES.large) } };
    await fetchInto(expectingSource(server.source({ large: true }), expected), server.url("large"), fileSink(file));
    expect(sha256(readFileSync(file))).toBe(expected.digest.hex);
  }, 120_000);

  it("a missing file is not-found, and no file is written", async () => {
    const file = join(out, "missing");
    const err = await failureOf(fetchInto(server.source(), server.url("no-such-image"), fileSink(file)));
    expect(err.reason).toBe("not-found");
    expect([existsSync(file), leftovers()]).toEqual([false, []]);
  });

  it("the right MD5 passes; a wrong one is an integrity failure, and no file is written", async () => {
    const good = join(out, "md5-good");
    await fetchInto(expectingSource(server.source(), { digest: { algorithm: "md5", hex: md5(FILES.small) } }), server.url("small"), fileSink(good));
    expect(existsSync(good)).toBe(true);
    const bad = join(out, "md5-bad");
    const wrong = "0".repeat(32);
    const err = await failureOf(fetchInto(expectingSource(server.source(), { digest: { algorithm: "md5", hex: wrong } }), server.url("small"), fileSink(bad)));
    expect([err.reason, err.message]).toEqual(["integrity", `small: MD5 mismatch: expected ${wrong}, got ${md5(FILES.small)}`]);
    expect([existsSync(bad), leftovers()]).toEqual([false, []]);
  });

  // TFTP has no passwords: the case exists for the servers that log in.
  if (row.asksPassword) {
    it("a wrong password is an auth failure that never shows the password", async () => {
      const file = join(out, "auth");
      const err = await failureOf(fetchInto(server.source(), server.wrongPassword!("small"), fileSink(file)));
      expect(err.reason).toBe("auth");
      expect(err.message).not.toMatch(/wrong-secret/);
      expect(existsSync(file)).toBe(false);
    });
  }

  it("the server killed mid-transfer: a typed failure, and no file is written", async () => {
    const dying = await row.start({ large: FILES.large });
    const file = join(out, "killed");
    const sink = fileSink(file);
    let received = 0;
    let killed: Promise<void> | undefined;
    const killing: ImageSink = {
      begin: (image) => sink.begin(image),
      write(chunk) {
        received += chunk.length;
        if (received >= 1 << 20) killed ??= dying.stop();
        return sink.write(chunk);
      },
      finish: () => sink.finish(),
      abort: (reason) => sink.abort(reason),
    };
    try {
      const err = await failureOf(fetchInto(dying.source(), dying.url("large"), killing));
      expect(DEAD_SERVER).toContain(err.reason);
      expect(received).toBeLessThan(FILES.large.length);
      expect([existsSync(file), leftovers()]).toEqual([false, []]);
    } finally {
      await (killed ?? dying.stop());
    }
  }, 60_000);
});
