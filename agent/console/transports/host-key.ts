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

function createHostKey(path: string): string {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    const { private: key } = ssh2.utils.generateKeyPairSync("ed25519");
    // wx: a second AP process racing on the same state dir fails here rather than overwriting the key the first one serves.
    writeFileSync(path, key, { mode: 0o600, flag: "wx" });
    return key;
  } catch (err) {
    throw new ConfigError(`SSH host key ${path}: cannot create it: ${describeError(err)}`, { cause: err });
  }
}
