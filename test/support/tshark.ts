import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requirePeer } from "./peers.js";
import { tempDir } from "./temp.js";

/** One packet as tshark's `-T json --no-duplicate-keys` shows it: `layers` by protocol. */
export interface TsharkPacket {
  layers: Record<string, unknown>;
}

/**
 * Run the real tshark on capture bytes and return its JSON view. Preferences
 * (`-o name:value`) select e.g. Cisco's draft-8 WTP Descriptor decoding.
 */
export function tsharkJson(capture: Uint8Array, prefs: Record<string, string> = {}): TsharkPacket[] {
  const tshark = requirePeer("tshark");
  const dir = tempDir("tshark");
  try {
    const file = join(dir, "capture.pcap");
    writeFileSync(file, capture);
    const args = ["-r", file, "-T", "json", "--no-duplicate-keys", "-o", "capwap.reassemble:TRUE"];
    for (const [k, v] of Object.entries(prefs)) args.push("-o", `${k}:${v}`);
    const out = execFileSync(tshark, args, {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
      // Absolute times (AC Timestamp, AP Time Sync) render in the local zone.
      env: { ...process.env, TZ: "UTC" },
    });
    return (JSON.parse(out) as { _source: { layers: Record<string, unknown> } }[]).map((p) => ({ layers: p._source.layers }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every value of `field` anywhere under `node` (tshark nests fields in subtrees). */
export function findAll(node: unknown, field: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) {
    for (const n of node) findAll(n, field, out);
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === field) {
        if (Array.isArray(v)) out.push(...v);
        else out.push(v);
      }
      findAll(v, field, out);
    }
  }
  return out;
}

/** All string values of `field` (leaf values), flattened. */
export function fieldValues(node: unknown, field: string): string[] {
  return findAll(node, field).filter((v): v is string => typeof v === "string");
}

/**
 * Expert infos at warning/error severity, exceptions (a top-level
 * `_ws.malformed` layer) and reassembly errors. `allowed` lists expert
 * messages that are expected (e.g. tshark's complaint about Cisco's 4-byte
 * Session ID); a Malformed-group expert also leaves a nested `_ws.malformed`
 * marker, which is only tolerated next to an allowed expert.
 */
export function problems(packet: TsharkPacket, allowed: readonly string[] = []): string[] {
  const out: string[] = [];
  if ("_ws.malformed" in packet.layers) out.push("malformed packet (exception)");
  let allowedMalformed = 0;
  for (const expert of findAll(packet.layers, "_ws.expert")) {
    for (const e of (Array.isArray(expert) ? expert : [expert]) as Record<string, string>[]) {
      const severity = e["_ws.expert.severity"];
      const message = e["_ws.expert.message"] ?? JSON.stringify(e);
      // 6291456 = PI_WARN, 8388608 = PI_ERROR (epan/proto.h)
      if (severity !== "6291456" && severity !== "8388608") continue;
      if (allowed.includes(message)) allowedMalformed++;
      else out.push(message);
    }
  }
  const nested = findAll(packet.layers, "_ws.malformed").length - ("_ws.malformed" in packet.layers ? 2 : 0);
  if (nested > allowedMalformed) out.push("malformed element");
  for (const field of ["capwap.fragment.error", "capwap.fragment.overlap", "capwap.fragment.overlap.conflicts", "capwap.fragment.multiple_tails", "capwap.fragment.too_long_fragment"]) {
    if (findAll(packet.layers, field).length > 0) out.push(field);
  }
  return out;
}
