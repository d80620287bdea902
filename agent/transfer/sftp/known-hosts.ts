/**
 * Host keys, the OpenSSH way: a server's key as its fingerprint
 * ("SHA256:…", as ssh-keygen -l prints it), and whether a known_hosts file
 * lists it for the host — plain and hashed (`|1|salt|hash`) names, `*` and
 * `?` patterns, `[host]:port` for a port other than 22, `!negation`. Marker
 * lines (@cert-authority, @revoked) never vouch for a key.
 */
import { createHash, createHmac } from "node:crypto";

/** `SHA256:base64` of an SSH public key blob, without padding, and the key's type from the blob ("ssh-ed25519"). */
export function hostKeyFingerprint(key: Uint8Array): { type: string; fingerprint: string } {
  const blob = Buffer.from(key);
  const typeLength = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = typeLength > 0 && typeLength <= blob.length - 4 ? blob.subarray(4, 4 + typeLength).toString("latin1") : "unknown";
  return { type, fingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}` };
}

/** How known_hosts names a server: `host`, or `[host]:port` off port 22. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  const hashed = /^\|1\|([^|]+)\|(.+)$/.exec(pattern);
  if (hashed) return createHmac("sha1", Buffer.from(hashed[1]!, "base64")).update(name).digest("base64") === hashed[2];
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return regex.test(name);
}

/** Whether a line's comma-separated host patterns name the server (a matching `!pattern` says no). */
function hostMatches(patterns: string, name: string): boolean {
  let matched = false;
  for (const pattern of patterns.split(",")) {
    if (pattern.startsWith("!")) {
      if (patternMatches(pattern.slice(1), name)) return false;
    } else if (patternMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Whether `knownHosts` (the text of a known_hosts file) lists `key` for host:port. */
export function isKnownHostKey(knownHosts: string, host: string, port: number, key: Uint8Array): boolean {
  const name = knownHostsName(host, port);
  const wanted = Buffer.from(key).toString("base64");
  return knownHosts.split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith("#") || fields[0]!.startsWith("@")) return false;
    return fields[2] === wanted && hostMatches(fields[0]!, name);
  });
}
