/**
 * The AP's SSH host key: an ed25519 key made the first time the SSH server
 * starts and kept in the state dir (0600, in a 0700 folder), so that it is
 * the same key after every restart and clients' known_hosts stay valid.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
// ssh2 is CommonJS: one object at run time.
import ssh2 from "ssh2";
import { ConfigError, describeError } from "../../core/index.js";
import { SSH_HOST_KEY_FILE } from "./limits.js";

/** Where the host key of an AP whose state dir is `stateDir` lives. */
export const hostKeyPath = (stateDir: string): string => join(stateDir, SSH_HOST_KEY_FILE);

/** The private host key (OpenSSH format) at `path`, made there first if there is none. */
export function loadHostKey(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`SSH host key ${path}: ${describeError(err)}`, { cause: err });
    return createHostKey(path);
  }
  // As sshd: a private key others may read is no secret any more.
  if ((mode & 0o077) !== 0) throw new ConfigError(`SSH host key ${path}: readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  const key = readFileSync(path, "utf8");
  if (ssh2.utils.parseKey(key) instanceof Error) throw new ConfigError(`SSH host key ${path}: not a private key ssh2 can read`);
  return key;
}

/**
 * ssh2's generateKeyPairSync("ed25519") writes a public key that starts
 * with a zero byte as 31 bytes (it strips the zero as from an integer):
 * about 1 key in 230 is one ssh2.Server then refuses ("Malformed OpenSSH
 * private key"; a CI run failed so). Such a key is thrown away and another
 * made; 8 in a row would be a 1-in-10^18 event, so the bound only stops a
 * broken library from looping.
 */
const HOST_KEY_ATTEMPTS = 8;

function wellFormedEd25519Key(): string {
  for (let i = 0; i < HOST_KEY_ATTEMPTS; i++) {
    const { private: key } = ssh2.utils.generateKeyPairSync("ed25519");
    if (!(ssh2.utils.parseKey(key) instanceof Error)) return key;
  }
  throw new Error(`ssh2 made ${HOST_KEY_ATTEMPTS} ed25519 keys it cannot read back`);
}

function createHostKey(path: string): string {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    const key = wellFormedEd25519Key();
    // wx: a second AP process racing on the same state dir fails here rather than overwriting the key the first one serves.
    writeFileSync(path, key, { mode: 0o600, flag: "wx" });
    return key;
  } catch (err) {
    throw new ConfigError(`SSH host key ${path}: cannot create it: ${describeError(err)}`, { cause: err });
  }
}
