import { tempDir } from "../support/temp.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../agent/core/index.js";
import { EFFICIENT_UPGRADE_DEFAULTS, loadApConfig, parseApConfig, RFC5415_TIMERS } from "../../agent/config/index.js";
import { hardwareClasses } from "../../platform/classes/index.js";

const minimal = { baseMac: "00:11:22:33:44:55", controllers: [{ address: "192.0.2.1" }], dtls: { mode: "plaintext" } };

describe("AP configuration", () => {
  it("fills identity and RFC 5415 timers from defaults", () => {
    const c = parseApConfig(minimal, "ap.yaml", "/etc/vap");
    expect(c.identity).toMatchObject({ name: "AP0011.2233.4455", baseMac: "00:11:22:33:44:55", model: "C9105AXI-B" });
    expect(c.identity.classProfile).toBe(hardwareClasses.ap1g8);
    expect(c.timers).toEqual(RFC5415_TIMERS);
    expect(c.controllers).toEqual([{ address: "192.0.2.1", port: 5246 }]);
    expect(c.stateDir).toBe("/etc/vap/state/AP0011.2233.4455");
    expect(c.profile).toBe("cisco");
  });

  it("takes durations in seconds or with units", () => {
    const c = parseApConfig({ ...minimal, timers: { echoInterval: 2, retransmitInterval: "50ms", silentInterval: "1m", maxRetransmit: 3 } }, "ap.yaml");
    expect(c.timers).toMatchObject({ echoIntervalMs: 2000, retransmitIntervalMs: 50, silentIntervalMs: 60_000, maxRetransmit: 3 });
  });

  it("efficient image upgrade: TFTP port 69 and a 1 s to 10 s back-off by default; 0 and durations taken", () => {
    expect(parseApConfig(minimal, "ap.yaml").efficientUpgrade).toEqual({ tftpPort: 69, retryBackoffMs: { min: 1000, max: 10_000 } });
    expect(EFFICIENT_UPGRADE_DEFAULTS).toEqual({ tftpPort: 69, retryBackoffMs: { min: 1000, max: 10_000 } });
    const c = parseApConfig({ ...minimal, efficientUpgrade: { tftpPort: 0, retryBackoff: { min: "200ms", max: 2 } } }, "ap.yaml");
    expect(c.efficientUpgrade).toEqual({ tftpPort: 0, retryBackoffMs: { min: 200, max: 2000 } });
    expect(parseApConfig({ ...minimal, efficientUpgrade: { retryBackoff: { min: "3s", max: "3s" } } }, "ap.yaml").efficientUpgrade.retryBackoffMs).toEqual({ min: 3000, max: 3000 });
  });

  it("reads YAML and JSON files, resolving paths against the file", () => {
    const dir = tempDir("config");
    writeFileSync(join(dir, "ap.yaml"), "baseMac: 00:11:22:33:44:55\nclass: ap3g3\ncontrollers:\n  - address: 192.0.2.1\n    name: WLC1\ndtls:\n  cert: pki/ap.pem\n  key: pki/ap.key\n  ca: pki/ca.pem\n");
    const c = loadApConfig(join(dir, "ap.yaml"));
    expect(c.dtls).toMatchObject({ mode: "x509", cert: join(dir, "pki/ap.pem"), ca: join(dir, "pki/ca.pem") });
    expect(c.identity.model).toBe("AIR-AP4800-D-K9");
    expect(c.identity.classProfile).toBe(hardwareClasses.ap3g3);
    expect(c.controllers[0]!.name).toBe("WLC1");
    writeFileSync(join(dir, "ap.json"), JSON.stringify(minimal));
    expect(loadApConfig(join(dir, "ap.json")).identity.name).toBe("AP0011.2233.4455");
  });

  const bad: [string, unknown, RegExp][] = [
    ["not a mapping", "hello", /ap\.yaml: expected a mapping/],
    ["missing MAC", { controllers: [{ address: "192.0.2.1" }] }, /ap\.yaml: baseMac: is required/],
    ["bad MAC", { ...minimal, baseMac: "00:11:22" }, /ap\.yaml: baseMac: "00:11:22" is not a MAC address/],
    ["unknown class", { ...minimal, class: "ap9g9" }, /ap\.yaml: class: expected one of ap1g4, .*got "ap9g9"/],
    ["bad controller address", { ...minimal, controllers: [{ address: "wlc" }] }, /ap\.yaml: controllers\[0\]\.address: "wlc" is not an IP address/],
    ["no way to find a controller", { ...minimal, controllers: [] }, /ap\.yaml: controllers: list at least one controller/],
    ["a typo", { ...minimal, timers: { echoIntervall: 3 } }, /ap\.yaml: timers\.echoIntervall: unknown setting/],
    ["bad duration", { ...minimal, timers: { echoInterval: "soon" } }, /ap\.yaml: timers\.echoInterval: expected a duration/],
    ["bad version", { ...minimal, versions: { running: "17.9" } }, /ap\.yaml: versions\.running: "17\.9" is not a version/],
    ["PSK key not hex", { ...minimal, dtls: { mode: "psk", identity: "ap", pskKey: "zz" } }, /ap\.yaml: dtls\.pskKey: expected the key as hex/],
    ["x509 without a cert", { ...minimal, dtls: { key: "k", ca: "c" } }, /ap\.yaml: dtls\.cert: is required/],
    // A YAML number would lose leading zeros (and digits beyond 2^53) as text.
    ["a PSK key YAML reads as a number", { ...minimal, dtls: { mode: "psk", identity: "ap", pskKey: 11223344 } }, /^ap\.yaml: dtls\.pskKey: expected text, got the number 11223344: put it in quotes$/],
    ["a version part above 255", { ...minimal, versions: { running: "300.1.1.1" } }, /ap\.yaml: versions\.running: "300\.1\.1\.1" is not a version like 17\.9\.4\.27 \(four parts, each 0–255\)/],
    ["a serial longer than Board Data carries", { ...minimal, serial: "FOC12345678901234" }, /^ap\.yaml: serial: longer than 16 characters$/],
    ["a model longer than AP Model carries", { ...minimal, model: "C".repeat(31) }, /^ap\.yaml: model: longer than 30 characters$/],
    ["a serial that is not ASCII", { ...minimal, serial: "FOCé" }, /^ap\.yaml: serial: expected printable ASCII/],
    ["an AP name longer than Cisco's 32", { ...minimal, name: "A".repeat(33) }, /^ap\.yaml: name: longer than 32 characters$/],
    ["a zero timer (a busy loop)", { ...minimal, timers: { echoInterval: 0 } }, /^ap\.yaml: timers\.echoInterval: expected a duration from 1ms to 24 days, got 0$/],
    ["a timer beyond what Node can wait", { ...minimal, timers: { echoInterval: "1000h" } }, /^ap\.yaml: timers\.echoInterval: expected a duration from 1ms to 24 days, got "1000h"$/],
    ["a TFTP port out of range", { ...minimal, efficientUpgrade: { tftpPort: 70000 } }, /^ap\.yaml: efficientUpgrade\.tftpPort: expected a whole number from 0 to 65535, got 70000$/],
    ["a back-off whose max is below its min", { ...minimal, efficientUpgrade: { retryBackoff: { min: "5s", max: "1s" } } }, /^ap\.yaml: efficientUpgrade\.retryBackoff\.max: 1000 ms is below min \(5000 ms\)$/],
    ["a typo in the back-off", { ...minimal, efficientUpgrade: { retryBackof: {} } }, /^ap\.yaml: efficientUpgrade\.retryBackof: unknown setting \(known: tftpPort, retryBackoff\)$/],
  ];
  it.each(bad)("rejects %s with one line naming the file and field", (_name, raw, message) => {
    expect(() => parseApConfig(raw, "ap.yaml")).toThrow(ConfigError);
    expect(() => parseApConfig(raw, "ap.yaml")).toThrow(message);
  });

  it("says which file it cannot read or parse", () => {
    expect(() => loadApConfig("/nonexistent/ap.yaml")).toThrow(/^cannot read \/nonexistent\/ap\.yaml \(ENOENT\)$/);
    const dir = tempDir("config");
    writeFileSync(join(dir, "broken.yaml"), "a: [1, 2\n");
    expect(() => loadApConfig(join(dir, "broken.yaml"))).toThrow(/broken\.yaml: not valid YAML\/JSON/);
  });
});
