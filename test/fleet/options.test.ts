import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fleetOptions } from "../../agent/fleet/index.js";
import { classPattern, fleetIdentity } from "../../agent/fleet/identity.js";
import { shardFlag, sourceAddressesFlag } from "../../agent/fleet/options.js";
import { ConfigError } from "../../agent/core/index.js";
import { tempDir } from "../support/temp.js";

const dir = tempDir("fleet-options");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { controller: "127.0.0.1", aps: "10", pki: "pki" };

describe("vap fleet's settings", () => {
  it("takes the contract's defaults: ap1g8, cisco, 100 APs/s, sink storage, one worker per core up to the APs", () => {
    const o = fleetOptions(base, { cores: 2 });
    expect(o).toMatchObject({ controllers: ["127.0.0.1"], aps: 10, classes: [{ name: "ap1g8", weight: 1 }], profile: "cisco", rampPerSecond: 100, storage: "sink", workers: 2, shard: 0, version: "17.9.4.27", json: false });
    expect(fleetOptions({ ...base, aps: "1" }, { cores: 8 }).workers).toBe(1);
    expect(o.metrics).toEqual({ address: "127.0.0.1", port: 9464, given: false });
    expect(fleetOptions({ ...base, metrics: "off" }).metrics).toBeUndefined();
  });

  it("reads a YAML config whose keys are the flag names; a flag wins over it", () => {
    const file = join(dir, "fleet.yaml");
    writeFileSync(file, ["controller: [10.0.0.5, 10.0.0.6]", "aps: 500", "pki: /etc/vap/pki", "classes: ap1g8:3,ap1g4:1", "ramp: 6000/m", "metrics: ':9464'", "until: run", "json: true", ""].join("\n"));
    const o = fleetOptions({ config: file, aps: "20" }, { cores: 1 });
    expect(o).toMatchObject({ controllers: ["10.0.0.5", "10.0.0.6"], aps: 20, pki: "/etc/vap/pki", rampPerSecond: 100, metrics: { address: "0.0.0.0", port: 9464, given: true }, until: "run", json: true });
    expect(classPattern(o.classes)).toEqual(["ap1g8", "ap1g8", "ap1g8", "ap1g4"]);
  });

  it.each([
    [{ ...base, aps: "0" }, /--aps/],
    [{ controller: "127.0.0.1", aps: "1" }, /--pki is required/],
    [{ ...base, classes: "ap9g9" }, /ap9g9/],
    [{ ...base, ramp: "fast" }, /--ramp: expected APs per second/],
    [{ ...base, "mac-prefix": "03:00:00" }, /multicast/],
    [{ ...base, storage: "flash", state: "s" }, /--storage flash needs --state DIR .* and --factory DIR/],
    [{ ...base, version: "17.9" }, /--version/],
    [{ ...base, metrics: "nine" }, /--metrics/],
    [{ ...base, timeout: "soon" }, /--timeout: expected a duration/],
    [{ ...base, shard: "99999999" }, /--shard/],
  ])("refuses %o with one ConfigError line", (flags, message) => {
    const refuse = () => fleetOptions(flags as Record<string, string>, { cores: 1 });
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(message);
  });

  it("refuses an unknown key in the config file, naming it", () => {
    const file = join(dir, "typo.yaml");
    writeFileSync(file, "controler: 10.0.0.5\n");
    expect(() => fleetOptions({ ...base, config: file })).toThrow(/unknown key "controler"/);
  });

  it("--shard auto takes a StatefulSet pod's ordinal from its host name, and refuses a host name without one", () => {
    expect(shardFlag("auto", "vap-fleet-3")).toBe(3);
    expect(shardFlag("7", "whatever")).toBe(7);
    expect(() => shardFlag("auto", "laptop")).toThrow(/does not end in -<ordinal>/);
  });

  it("gives every AP of every shard its own base MAC and a class from the mix", () => {
    const pattern = classPattern([{ name: "ap1g8", weight: 1 }, { name: "ap1g7", weight: 1 }]);
    const prefix = { macPrefix: [0x02, 0x10, 0x00] };
    const macs = new Set<string>();
    for (const shard of [0, 1, 2]) for (let i = 0; i < 500; i++) macs.add(fleetIdentity(shard * 500 + i, prefix, pattern).mac);
    expect(macs.size).toBe(1500);
    expect(fleetIdentity(0, prefix, pattern)).toMatchObject({ mac: "02:10:00:00:00:01", model: "C9105AXI-B", classProfile: { name: "ap1g8" } });
    expect(fleetIdentity(500, prefix, pattern).mac).toBe("02:10:00:00:01:f5");
    expect(fleetIdentity(1, prefix, pattern).classProfile.name).toBe("ap1g7");
  });

  it("--source-addresses: the first host addresses of a prefix, or an interface's", () => {
    expect(sourceAddressesFlag("127.1.0.0/16", 3)).toEqual(["127.1.0.1", "127.1.0.2", "127.1.0.3"]);
    expect(sourceAddressesFlag("127.2.0.0/30", 10)).toEqual(["127.2.0.1", "127.2.0.2"]);
    expect(sourceAddressesFlag("lo", 10)).toContain("127.0.0.1");
    expect(() => sourceAddressesFlag("no-such-if0", 1)).toThrow(/neither an IPv4 prefix/);
  });
});
