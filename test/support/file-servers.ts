/**
 * Real file servers that log a user in, on free loopback TCP ports: OpenSSH
 * sshd with an internal-sftp chroot for one user, and vsftpd (plain FTP and
 * explicit TLS with a certificate from a private CA). Both serve the same
 * directory, `root`: root-owned and not writable by others along its whole
 * path, as sshd's ChrootDirectory demands — so under /run, not /tmp.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../transfer/tftp/support.js";
import { spawnGrouped } from "../../agent/core/index.js";
import { createLoginUser, type LoginUser } from "./login-user.js";
import { freeTcpPort, tcpAccepting as accepting } from "./loopback.js";
import { requirePeer } from "./peers.js";
import { type ServerCertificate, writeServerCertificate } from "./server-cert.js";
import { tempDir } from "./temp.js";

/** A directory of `files` (0644) a chroot may start at, and a user whose home it is. */
export interface ServedFiles {
  root: string;
  user: LoginUser;
}

export async function servedFiles(files: Record<string, Uint8Array>): Promise<ServedFiles> {
  const root = tempDir("files", "/run");
  chmodSync(root, 0o755);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(root, name), bytes, { mode: 0o644 });
  return { root, user: await createLoginUser(root) };
}

export interface RunningFileServer {
  port: number;
  /** SIGKILL to the daemon and every session process it forked (sshd's call setsid(), so its group is not enough), resolved once the daemon exited. */
  stop(): Promise<void>;
}

/** What startListening() started and nobody stopped yet: stopFileServers() ends them after a file's tests, even one that timed out. */
const running = new Set<() => Promise<void>>();

export async function stopFileServers(): Promise<void> {
  for (const stop of [...running]) await stop();
}

/** Every descendant of `pid`, from /proc (children before grandchildren). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  for (let i = -1; i < found.length; i++) {
    const parent = i < 0 ? pid : found[i]!;
    for (const [child, ppid] of parents) if (ppid === parent) found.push(child);
  }
  return found;
}

/** How long a daemon may take to listen on a loaded machine, and how often another process may take a free port first. */
const START_MS = 10_000;
const PORT_TRIES = 3;

/** `program` with the config `conf(port)` writes, retried on another port when one was taken meanwhile. */
async function startListening(program: string, args: string[], conf: (port: number) => void | Promise<void>): Promise<RunningFileServer> {
  let failure = "";
  for (let attempt = 0; attempt < PORT_TRIES; attempt++) {
    const port = await freeTcpPort();
    await conf(port);
    const { process: child, stderr, stop } = spawnGrouped(requirePeer(program), args);
    const started = Date.now();
    while (child.exitCode === null && Date.now() - started < START_MS && !(await accepting(port))) await sleep(10);
    const stopAll = async () => {
      running.delete(stopAll);
      for (const pid of descendants(child.pid!)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
      await stop();
    };
    if (child.exitCode === null && (await accepting(port))) {
      running.add(stopAll);
      return { port, stop: stopAll };
    }
    await stop();
    failure = stderr();
    if (!/in use|Address already/i.test(failure)) break;
  }
  throw new Error(`${program} did not start: ${failure}`);
}

export interface RunningSshd extends RunningFileServer {
  /** The server's host key line for a known_hosts file ("[127.0.0.1]:port ssh-ed25519 AAAA…"). */
  knownHostsLine: string;
  /** A private key (OpenSSH format) whose public half sshd accepts for the user. */
  clientKey: string;
}

/** sshd with its own host key, password and key login, and `served.user` chrooted to `served.root` with internal-sftp only. */
export async function startSshd(served: ServedFiles): Promise<RunningSshd> {
  const dir = tempDir("sshd");
  // sshd's privilege separation directory; the openssh-server package's unit makes it at boot.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const keygen = requirePeer("ssh-keygen");
  execFileSync(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  execFileSync(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  const authorized = join(dir, "authorized_keys");
  execFileSync("cp", [join(dir, "client_key.pub"), authorized]);
  // sshd reads authorized_keys as the user; tempDir() is private to root (the private keys stay 0600).
  chmodSync(dir, 0o755);
  chmodSync(authorized, 0o644);
  const config = join(dir, "sshd_config");
  const server = await startListening("/usr/sbin/sshd", ["-D", "-e", "-f", config], (port) =>
    writeFileSync(
      config,
      `Port ${port}
ListenAddress 127.0.0.1
HostKey ${join(dir, "host_key")}
PidFile none
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile ${authorized}
# The key files live under /tmp, which StrictModes would refuse.
StrictModes no
PermitRootLogin no
AllowUsers ${served.user.name}
Subsystem sftp internal-sftp
Match User ${served.user.name}
  ChrootDirectory ${served.root}
  ForceCommand internal-sftp
  AllowTcpForwarding no
  X11Forwarding no
`,
    ),
  );
  const hostKey = execFileSync("cat", [join(dir, "host_key.pub")], { encoding: "utf8" }).trim().split(/\s+/).slice(0, 2).join(" ");
  return { ...server, knownHostsLine: `[127.0.0.1]:${server.port} ${hostKey}`, clientKey: execFileSync("cat", [join(dir, "client_key")], { encoding: "utf8" }) };
}

export type RunningVsftpd = RunningFileServer & ServerCertificate;

/**
 * Passive ports vsftpd may pick from, starting at one that was free: it
 * picks one of the range at random per transfer, so one port another
 * process took since is not every transfer's port.
 */
const PASV_SPREAD = 99;

/** vsftpd: `served.user` logs in to `served.root` (chrooted), passive data on free ports, explicit TLS offered but not required. */
export async function startVsftpd(served: ServedFiles): Promise<RunningVsftpd> {
  const dir = tempDir("vsftpd");
  const certificate = writeServerCertificate(dir, "vap test FTPS CA");
  // vsftpd's empty directory for its unprivileged process; the package makes it.
  mkdirSync("/var/run/vsftpd/empty", { recursive: true, mode: 0o755 });
  const config = join(dir, "vsftpd.conf");
  const server = await startListening("/usr/sbin/vsftpd", [config], async (port) => {
    const pasv = await freeTcpPort();
    writeFileSync(
      config,
      `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=${port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
chroot_local_user=YES
local_root=${served.root}
userlist_enable=NO
pam_service_name=vsftpd
pasv_enable=YES
pasv_min_port=${pasv}
pasv_max_port=${Math.min(pasv + PASV_SPREAD, 65535)}
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=NO
syslog_enable=NO
ssl_enable=YES
rsa_cert_file=${join(dir, "server.pem")}
rsa_private_key_file=${join(dir, "server.key")}
allow_anon_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
`,
      { mode: 0o600 },
    );
  });
  return { ...server, ...certificate };
}
