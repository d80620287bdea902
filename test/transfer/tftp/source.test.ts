/** TFTP behind the image-source seam: by name from a server, by URL, and its failures as the seam's reasons. */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageSourceError, startTftpServer, tftpImageSource, type TftpServer } from "../../../agent/transfer/index.js";
import { MemorySink } from "../../support/memory-images.js";
import { tempDir } from "../../support/temp.js";

const image = randomBytes(100_000);
let server: TftpServer;
let base: string;
beforeAll(async () => {
  const dir = tempDir("tftp-source");
  writeFileSync(join(dir, "ap1g8"), image);
  server = await startTftpServer({ root: dir, port: 0 });
  base = `tftp://127.0.0.1:${server.local.port}`;
});
afterAll(() => server?.close());

const signal = () => new AbortController().signal;

describe("tftpImageSource", () => {
  it("fetches the image a request names from its server, into the sink", async () => {
    const sink = new MemorySink();
    await tftpImageSource({ server: base }).fetch({ name: "ap1g8" }, sink, { signal: signal() });
    expect(Buffer.compare(sink.finished!, image)).toBe(0);
  });

  it("a URL in the request wins over the server", async () => {
    const sink = new MemorySink();
    await tftpImageSource({ server: "tftp://127.0.0.1:1/elsewhere" }).fetch({ name: "x", url: `${base}/ap1g8` }, sink, { signal: signal() });
    expect(Buffer.compare(sink.finished!, image)).toBe(0);
  });

  it("a missing file fails with the seam's not-found", async () => {
    const failure = await tftpImageSource({ server: base })
      .fetch({ name: "ap1g5" }, new MemorySink(), { signal: signal() })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImageSourceError);
    expect((failure as ImageSourceError).reason).toBe("not-found");
  });

  it("a cancelled fetch fails with aborted", async () => {
    const cancel = new AbortController();
    cancel.abort();
    const failure = await tftpImageSource({ server: base }).fetch({ name: "ap1g8" }, new MemorySink(), { signal: cancel.signal }).catch((e: unknown) => e);
    expect((failure as ImageSourceError).reason).toBe("aborted");
  });
});
