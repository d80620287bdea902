import { tempDir } from "../support/temp.js";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CapturedDatagram, type CaptureRecord, readCapture, udpDatagramOf } from "../../agent/pcap/index.js";
import { requirePeer } from "../support/peers.js";

/** Capture bytes as a stream of `chunkSize`-byte chunks (the reader must not care). */
export async function* chunked(bytes: Uint8Array, chunkSize = 65536): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
}

export async function recordsOf(source: string | AsyncIterable<Uint8Array>): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCapture(source)) out.push(r);
  return out;
}

/** Every record as its UDP datagram (undefined where it carries none). */
export async function datagramsOf(source: string | AsyncIterable<Uint8Array>): Promise<(CapturedDatagram | undefined)[]> {
  return (await recordsOf(source)).map(udpDatagramOf);
}

/** What the reader got, and the error that ended it, if any. */
export async function readUntilError(source: AsyncIterable<Uint8Array>): Promise<{ records: CaptureRecord[]; error: unknown }> {
  const records: CaptureRecord[] = [];
  try {
    for await (const r of readCapture(source)) records.push(r);
    return { records, error: undefined };
  } catch (error) {
    return { records, error };
  }
}

/** Run a real Wireshark tool (editcap, text2pcap) from `input` bytes to output bytes. */
export function wiresharkTool(program: string, args: (inFile: string, outFile: string) => string[], input: Uint8Array | string): Uint8Array {
  const exe = requirePeer(program);
  const dir = tempDir(program);
  try {
    const inFile = join(dir, "in");
    const outFile = join(dir, "out");
    writeFileSync(inFile, input);
    execFileSync(exe, args(inFile, outFile), { stdio: ["ignore", "ignore", "pipe"] });
    return new Uint8Array(readFileSync(outFile));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** text2pcap's input: an offset-prefixed hex dump of each packet. */
export function hexdump(packets: Uint8Array[]): string {
  const lines: string[] = [];
  for (const p of packets) {
    for (let i = 0; i < p.length; i += 16) {
      lines.push(`${i.toString(16).padStart(6, "0")} ${Buffer.from(p.subarray(i, i + 16)).toString("hex").replace(/(..)(?!$)/g, "$1 ")}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
