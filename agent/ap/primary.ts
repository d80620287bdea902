/**
 * A primary AP's part in an efficient image upgrade (SPEC.md §3): the image
 * it predownloads is kept, byte for byte as it streams into the upgrade
 * engine, in a directory holding only that file (named after its class),
 * and once the engine accepted it, served read-only over TFTP to the site's
 * subordinates, at most PRIMARY_MAX_TRANSFERS at a time, until the AP
 * reloads, stops or gets a new order.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Log } from "../core/index.js";
import { type Endpoint, endpointKey } from "../net/index.js";
import { fileSink, type ImageSink, PRIMARY_MAX_TRANSFERS, startTftpServer, teeSink, type TftpServer } from "../transfer/index.js";

export interface PrimaryServerOptions {
  /** Where the kept image lives: served as it is, so nothing else goes there. */
  dir: string;
  /** The class name subordinates ask for ("ap1g8"). */
  imageName: string;
  /** The AP config's efficientUpgrade.tftpPort (0: the kernel chooses). */
  port: number;
  log: Log;
}

/** What tests and the lab read of a primary's server: where it listens, and the transfers it ran at once, now and at most. */
export interface PrimaryServerStatus {
  readonly local: Endpoint;
  /** The directory it serves: the kept image, named after its class, alone. */
  readonly root: string;
  readonly activeTransfers: number;
  readonly peakTransfers: number;
}

export class PrimaryImageServer {
  readonly #o: PrimaryServerOptions;
  #server: TftpServer | undefined;
  /** Bumped by every close: a server that finishes starting after one is closed at once, not left serving a superseded image. */
  #generation = 0;

  constructor(options: PrimaryServerOptions) {
    this.#o = options;
  }

  /** A primary's download: into the engine's `sink`, and kept to serve (only once the engine accepted it). */
  keeping(sink: ImageSink): ImageSink {
    mkdirSync(this.#o.dir, { recursive: true });
    return teeSink(sink, fileSink(join(this.#o.dir, this.#o.imageName)));
  }

  /** Serve the kept image on `address` (any server before it closed first); resolves with where. */
  async serve(address: string): Promise<Endpoint> {
    await this.close();
    const generation = this.#generation;
    const { dir, port, log, imageName } = this.#o;
    const server = await startTftpServer({ root: dir, address, port, maxTransfers: PRIMARY_MAX_TRANSFERS, log });
    if (generation !== this.#generation) {
      await server.close();
      throw new Error("superseded before the server started");
    }
    this.#server = server;
    log.info(`Efficient image upgrade: serving ${imageName} to subordinate APs over TFTP on ${endpointKey(server.local)} (at most ${PRIMARY_MAX_TRANSFERS} at a time)`);
    return server.local;
  }

  async close(): Promise<void> {
    this.#generation++;
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  get status(): PrimaryServerStatus | undefined {
    const server = this.#server;
    return server && { local: server.local, root: this.#o.dir, activeTransfers: server.activeTransfers, peakTransfers: server.peakTransfers };
  }
}
