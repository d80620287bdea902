import { execFileSync } from "node:child_process";

/**
 * Resolve a real peer program (tshark, openssl, tftpd…) or fail the test.
 * There is no skip path: a missing peer is a broken test environment, and
 * `.ci/install-peers` is the fix.
 */
export function requirePeer(program: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`test peer "${program}" is not installed: run \`sudo .ci/install-peers\``);
  }
}
