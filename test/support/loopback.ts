import { createSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import { connect, createServer } from "node:net";

import { CAPWAP_PORTS } from "../../agent/capwap/codec/index.js";

/** The CAPWAP control and data ports a controller binds. */
export { CAPWAP_PORTS };

function bindable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * A loopback address (127.0.0.0/8) on which `ports` are free now, picked at
 * random so that two test runs on one host, or two tests in one run, do not
 * collide on the fixed CAPWAP ports a controller binds.
 */
export async function freeLoopbackAddress(ports: readonly number[] = CAPWAP_PORTS): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    let free = true;
    for (const port of ports) free &&= await bindable(address, port);
    if (free) return address;
  }
  throw new Error(`no loopback address with ports ${ports.join(", ")} free after 50 tries`);
}

/** An address as a regular expression matches it literally (dots escaped). */
export function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A TCP port on 127.0.0.1 the kernel says is free now (bound, read, released). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export function tcpAccepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A UDP port on 127.0.0.1 the kernel says is free now (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
