/**
 * One AP process: its configuration turned into a running WTP on real UDP
 * sockets, with DTLS credentials from files, optional packet capture and
 * DTLS key log. `vap run` and the fleet build on this.
 */
import { resolve4 } from "node:dns/promises";
import type { ApConfig } from "../config/index.js";
import { systemClock, systemRandom, type Log } from "../core/index.js";
import { bindUdp, localAddressToward } from "../net/index.js";
import { type DtlsContext, keylogFileSink } from "../capwap/dtls/index.js";
import { Wtp, type WtpOptions } from "../capwap/wtp/index.js";
import { CaptureFile } from "../pcap/index.js";
import { apDtlsContext } from "./credentials.js";

export interface ApRuntimeOptions {
  log: Log;
  /** Write the plaintext CAPWAP exchange here (pcap). */
  pcap?: string;
  /** Append DTLS secrets here (SSLKEYLOGFILE format). */
  keylog?: string;
  /** Extra WTP options (image stage, reboot handling, versions). */
  wtp?: Partial<WtpOptions>;
  /** DTLS client context to use instead of the configured credential files (the lab mints its own). */
  dtls?: DtlsContext;
}

export interface RunningAp {
  readonly wtp: Wtp;
  readonly capture: CaptureFile | undefined;
  stop(): Promise<void>;
}

export async function startAp(config: ApConfig, options: ApRuntimeOptions): Promise<RunningAp> {
  const capture = options.pcap ? CaptureFile.open(options.pcap) : undefined;
  const dtls = options.dtls ?? apDtlsContext(config.dtls, options.keylog ? keylogFileSink(options.keylog) : undefined);
  const bindAddress = config.discovery.bindAddress;
  const wtp = new Wtp({
    config,
    ...(dtls ? { dtls } : {}),
    clock: systemClock,
    random: systemRandom,
    log: options.log,
    network: {
      bind: () => bindUdp({ address: bindAddress, broadcast: config.discovery.broadcast }),
      resolve: (name) => resolve4(name),
      localAddressToward,
    },
    ...(capture ? { capture: capture.record } : {}),
    ...options.wtp,
  });
  await wtp.start();
  return {
    wtp,
    capture,
    async stop() {
      await wtp.stop();
      await capture?.close();
    },
  };
}
