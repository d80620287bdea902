import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { readCapture, udpDatagramOf } from "../../agent/pcap/index.js";
import { requirePeer } from "./peers.js";

export interface LiveCapture {
  /** The capture exactly as dumpcap wrote it. */
  file: Uint8Array;
  /** Where the payloads went (127.0.0.1) and where they came from. */
  port: number;
  senderPort: number;
}

/**
 * Send `payloads` over loopback UDP while the real dumpcap captures them, and
 * return dumpcap's file. dumpcap writes to a pipe that our own reader follows
 * live: probes go to a second port until one shows up in the capture, so the
 * payloads go out only once capturing has really begun, and capturing stops
 * as soon as each payload has been seen. `args` picks the interface and
 * format, e.g. ["-i", "any", "-y", "LINUX_SLL2"] or ["-i", "lo", "-P"].
 */
export async function captureLoopback(payloads: readonly Uint8Array[], args: string[]): Promise<LiveCapture> {
  const dumpcap = requirePeer("dumpcap");
  const [sink, probeSink, sender] = await Promise.all([bound(), bound(), bound()]);
  const port = sink.address().port;
  const probePort = probeSink.address().port;
  const senderPort = sender.address().port;
  const child = spawn(dumpcap, [...args, "-f", `udp and (dst port ${port} or dst port ${probePort})`, "-w", "-", "-q"], { stdio: ["ignore", "pipe", "pipe"] });
  const closed = once(child, "close");
  const chunks: Buffer[] = [];
  const live = new PassThrough();
  child.stdout.on("data", (c: Buffer) => {
    chunks.push(c);
    if (!live.destroyed) live.write(c);
  });
  child.stdout.on("end", () => live.end());
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const probe = setInterval(() => sender.send("probe", probePort, "127.0.0.1"), 50);
  const deadline = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const missing = new Set(payloads.map((p) => Buffer.from(p).toString("hex")));
  let sent = false;
  try {
    for await (const record of readCapture(live)) {
      const d = udpDatagramOf(record);
      if (!sent && d?.dst.port === probePort) {
        clearInterval(probe);
        sent = true;
        for (const p of payloads) await new Promise<void>((resolve, reject) => sender.send(p, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())));
      }
      if (d?.dst.port === port) missing.delete(Buffer.from(d.payload).toString("hex"));
      if (sent && missing.size === 0) break;
    }
  } finally {
    clearInterval(probe);
    clearTimeout(deadline);
    child.kill("SIGTERM");
    await closed;
    for (const s of [sink, probeSink, sender]) s.close();
  }
  if (missing.size > 0) throw new Error(`dumpcap ${args.join(" ")} missed ${missing.size} of ${payloads.length} datagrams: ${stderr.trim()}`);
  return { file: new Uint8Array(Buffer.concat(chunks)), port, senderPort };
}

async function bound(): Promise<Socket> {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  return s;
}
