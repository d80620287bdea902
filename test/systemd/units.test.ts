import { tempDir } from "../support/temp.js";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { requirePeer } from "../support/peers.js";

const UNITS = resolve("systemd");
const VAP = resolve("dist/cli/vap.js");
const dir = tempDir("systemd");

/**
 * `systemd-analyze security --offline=yes` exposure (0 = locked down, 10 =
 * exposed) measured with systemd 252 (Debian 12); each unit's comment says the
 * same figure. A unit that loosens its sandbox scores higher and fails here.
 */
const EXPOSURE_BOUND: Record<string, number> = { "vap-fleet.service": 1.1, "vap-ap@.service": 1.8 };

/** The unit as shipped, in a fresh folder under the temp dir (a template through an instance name, as systemd loads it). */
function place(name: string, text: string): string {
  const folder = mkdtempSync(join(dir, "unit-"));
  writeFileSync(join(folder, name), text);
  if (!name.endsWith("@.service")) return join(folder, name);
  const instance = name.replace("@.service", "@lab1.service");
  symlinkSync(name, join(folder, instance));
  return join(folder, instance);
}

/**
 * systemd's own verifier over a unit. It insists that ExecStart's
 * /usr/local/bin/vap exists: the verifier runs in a mount namespace of its
 * own where a tmpfs over /usr/local/bin holds `vap` → this checkout's
 * dist/cli/vap.js, so the unit is checked byte for byte and the host's
 * /usr/local/bin is never touched (the namespace goes with the process).
 */
function verify(name: string, text: string): { status: number | null; stderr: string } {
  const unit = place(name, text);
  const script = 'mount -t tmpfs -o mode=0755 vap-verify /usr/local/bin && ln -s "$1" /usr/local/bin/vap && exec "$2" verify "$3"';
  const r = spawnSync(requirePeer("unshare"), ["--mount", "--propagation", "private", "sh", "-c", script, "sh", VAP, requirePeer("systemd-analyze"), unit], {
    encoding: "utf8",
    env: { ...process.env, SYSTEMD_LOG_LEVEL: "notice" },
  });
  return { status: r.status, stderr: r.stderr };
}

/** The overall exposure `systemd-analyze security --offline=yes` gives a unit file. */
function exposure(name: string, text: string): { score: number; level: string } {
  const out = execFileSync(requirePeer("systemd-analyze"), ["security", "--offline=yes", place(name, text)], { encoding: "utf8" });
  const m = /Overall exposure level for \S+: (\d+\.\d) (\w+)/.exec(out);
  if (!m) throw new Error(`no overall exposure line in systemd-analyze security's output:\n${out}`);
  return { score: Number(m[1]), level: m[2]! };
}

/** The unit without any of its sandboxing: what systemd's defaults give. */
function unhardened(text: string): string {
  return text.replace(/^(DynamicUser|UMask|CapabilityBoundingSet|AmbientCapabilities|NoNewPrivileges|Protect\w+|Private\w+|Restrict\w+|LockPersonality|RemoveIPC|MemoryDenyWriteExecute|SystemCall\w+)=.*\n/gm, "");
}

function setting(text: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1];
}

const units = readdirSync(UNITS).filter((f) => f.endsWith(".service"));
const unit = (name: string): string => readFileSync(join(UNITS, name), "utf8");

describe("systemd units", () => {
  it("ships the lab AP unit and the fleet unit, each with a measured exposure bound", () => {
    expect(units.sort()).toEqual(Object.keys(EXPOSURE_BOUND).sort());
  });

  it.each(units)("%s passes systemd-analyze verify without a warning", (name) => {
    expect(verify(name, unit(name))).toEqual({ status: 0, stderr: "" });
  });

  it("the verifier catches a bad directive (so the check above can fail)", () => {
    const broken = unit("vap-ap@.service").replace("Restart=on-failure", "Restart=sometimes");
    expect(verify("broken-ap@.service", broken).stderr).toMatch(/Failed to parse service restart specifier/);
  });

  it.each(units)("%s: systemd-analyze security --offline=yes rates it OK, at or below its measured exposure", (name) => {
    const { score, level } = exposure(name, unit(name));
    expect(level).toBe("OK");
    expect(score).toBeLessThanOrEqual(EXPOSURE_BOUND[name]!);
    expect(unit(name)).toContain(`overall exposure ${EXPOSURE_BOUND[name]!.toFixed(1)} OK`);
  });

  it.each(units)("%s without its sandbox scores above the bound (so the check above can fail)", (name) => {
    const bare = unhardened(unit(name));
    expect(setting(bare, "ProtectSystem")).toBeUndefined();
    expect(exposure(`bare-${name}`, bare).score).toBeGreaterThan(EXPOSURE_BOUND[name]! + 5);
  });

  it("the fleet runs with no privilege, its CA handed in as credentials, and descriptors for 10,000 APs", () => {
    const fleet = unit("vap-fleet.service");
    expect(setting(fleet, "ExecStart")).toBe("/usr/local/bin/vap fleet --config /etc/vap/fleet.yaml --pki %d");
    expect(fleet).toMatch(/^LoadCredential=ca\.key:\/etc\/vap\/pki\/ca\.key$/m);
    expect(setting(fleet, "DynamicUser")).toBe("yes");
    expect(setting(fleet, "CapabilityBoundingSet")).toBe("");
    expect(setting(fleet, "RestartPreventExitStatus")).toBe("2");
    // One UDP socket per AP, with at least as many again to spare.
    expect(Number(setting(fleet, "LimitNOFILE"))).toBeGreaterThanOrEqual(2 * 10_000);
  });

  it("the AP keeps one capability, to bind TFTP's port 69 and a low SSH port", () => {
    const ap = unit("vap-ap@.service");
    expect(setting(ap, "CapabilityBoundingSet")).toBe("CAP_NET_BIND_SERVICE");
    expect(setting(ap, "AmbientCapabilities")).toBe("CAP_NET_BIND_SERVICE");
    // `vap console` finds the AP's socket through VAP_RUNTIME_DIR, in the unit's RuntimeDirectory (not its PrivateTmp).
    expect(setting(ap, "RuntimeDirectory")).toBe("vap");
    expect(setting(ap, "Environment")).toBe("VAP_RUNTIME_DIR=%t/vap");
  });

  it("does not restart-loop on a bad config: RestartPreventExitStatus is what vap run exits with", async () => {
    const ap = unit("vap-ap@.service");
    expect(ap).toMatch(/^ExecStart=\/usr\/local\/bin\/vap run --config \/etc\/vap\/%i\.yaml --state \/var\/lib\/vap\/%i$/m);
    expect(ap).toMatch(/^StateDirectory=vap\/%i$/m);
    const prevented = Number(setting(ap, "RestartPreventExitStatus"));
    const config = join(dir, "bad.yaml");
    writeFileSync(config, "baseMac: nonsense\ncontrollers: [{ address: 127.0.0.1 }]\n");
    const err: string[] = [];
    const code = await main(["run", "--config", config], { stdout: () => undefined, stderr: (t) => void err.push(t) });
    expect(err.join("")).toMatch(/baseMac/);
    expect(code).toBe(prevented);
  });

  it("the vap it starts is executable as the unit names it", () => {
    expect(execFileSync(VAP, ["--help"], { encoding: "utf8" })).toMatch(/exit status: 0 done, 1 failed, 2 bad command line or config, 70 a bug in vap/);
  });
});
