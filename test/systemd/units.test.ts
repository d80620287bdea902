import { tempDir } from "../support/temp.js";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { requirePeer } from "../support/peers.js";

const UNITS = resolve("systemd");
const VAP = resolve("dist/cli/vap.js");
const dir = tempDir("systemd");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** systemd's own verifier over a unit, with ExecStart pointed at this checkout's vap (the unit expects /usr/local/bin/vap). */
function verify(name: string, text: string): { status: number | null; stderr: string } {
  writeFileSync(join(dir, name), text.replaceAll("/usr/local/bin/vap", VAP));
  const target = name.endsWith("@.service") ? name.replace("@.service", "@lab1.service") : name;
  if (target !== name) symlinkSync(name, join(dir, target));
  const r = spawnSync(requirePeer("systemd-analyze"), ["verify", join(dir, target)], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_LEVEL: "notice" } });
  return { status: r.status, stderr: r.stderr };
}

const units = readdirSync(UNITS).filter((f) => f.endsWith(".service"));

describe("systemd units", () => {
  it("ships the lab AP unit", () => {
    expect(units).toContain("vap-ap@.service");
  });

  it.each(units)("%s passes systemd-analyze verify without a warning", (unit) => {
    expect(verify(unit, readFileSync(join(UNITS, unit), "utf8"))).toEqual({ status: 0, stderr: "" });
  });

  it("the verifier catches a bad directive (so the check above can fail)", () => {
    const broken = readFileSync(join(UNITS, "vap-ap@.service"), "utf8").replace("Restart=on-failure", "Restart=sometimes");
    expect(verify("broken-ap@.service", broken).stderr).toMatch(/Failed to parse service restart specifier/);
  });

  it("does not restart-loop on a bad config: RestartPreventExitStatus is what vap run exits with", async () => {
    const unit = readFileSync(join(UNITS, "vap-ap@.service"), "utf8");
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/vap run --config \/etc\/vap\/%i\.yaml --state \/var\/lib\/vap\/%i$/m);
    expect(unit).toMatch(/^StateDirectory=vap\/%i$/m);
    const prevented = Number(/^RestartPreventExitStatus=(\d+)$/m.exec(unit)?.[1]);
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
