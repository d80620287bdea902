import { tempDir } from "../support/temp.js";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startVap as vap } from "../support/cli.js";
import { initPki } from "../../agent/pki/index.js";
import { fieldValues, problems, tsharkJson } from "../support/tshark.js";
import { image, OLD, testPki } from "../upgrade/support.js";
import { escaped, freeLoopbackAddress } from "../support/loopback.js";

const dir = tempDir("cli");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vap controller + vap run --config, as an operator would run them", () => {
  it("an AP from a YAML config joins a controller using a vap pki; both write captures tshark decodes", async () => {
    const address = await freeLoopbackAddress();
    const pki = initPki(join(dir, "pki"), { aps: 1, model: "C9120AXI", baseMac: "02:00:00:00:10:01" });
    const ap = pki.aps[0]!;
    const config = join(dir, "ap.yaml");
    writeFileSync(config, ["baseMac: 02:00:00:00:10:01", "class: ap1g7", "controllers:", `  - address: ${address}`, "dtls:", `  cert: ${ap.cert}`, `  key: ${ap.key}`, `  ca: ${pki.caCert}`, ""].join("\n"));
    const controller = vap("controller", "--pki", join(dir, "pki"), "--address", address, "--pcap", join(dir, "controller.pcap"), "--keylog", join(dir, "keys.log"));
    await new Promise((r) => setTimeout(r, 200));
    const run = vap("run", "--config", config, "--pcap", join(dir, "ap.pcap"));
    await run.until("CAPWAP State: Run");
    await controller.until("is in Run");
    expect(run.out).toContain("AP has joined controller vap-lab-wlc");
    expect(controller.out).toMatch(/AP AP0200\.0000\.1001 \(C9120AXI-B, 02:00:00:00:10:01\) joined from 127\.0\.0\.1/);
    run.stop();
    expect(await run.done).toBe(0);
    await controller.until("left: DTLS: DTLS peer closed the session (close_notify)");
    controller.stop();
    expect(await controller.done).toBe(0);

    for (const file of ["ap.pcap", "controller.pcap"]) {
      const packets = tsharkJson(readFileSync(join(dir, file)), { "capwap.draft_8_cisco": "TRUE" });
      expect(packets.flatMap((p) => problems(p, ["Session ID length 4 wrong, must be = 16"]))).toEqual([]);
      const types = packets.flatMap((p) => fieldValues(p.layers.capwap ?? {}, "capwap.control.header.message_type"));
      expect(types.slice(0, 8), file).toEqual(["1", "2", "3", "4", "5", "6", "11", "12"]);
    }
    // The DTLS secrets of the session, in SSLKEYLOGFILE format.
    expect(readFileSync(join(dir, "keys.log"), "utf8")).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/m);
  });

  it("plaintext mode joins a plaintext controller and warns on every start", async () => {
    const address = await freeLoopbackAddress();
    const config = join(dir, "plain.yaml");
    writeFileSync(config, `baseMac: 02:00:00:00:10:02\ncontrollers: [{ address: ${address} }]\ndtls: { mode: plaintext }\n`);
    const controller = vap("controller", "--plaintext", "--address", address, "--profile", "cisco");
    await controller.until("WARNING: lab controller without DTLS");
    const run = vap("run", "--config", config);
    await run.until("CAPWAP State: Run");
    expect(run.out).toContain("WARNING: DTLS is disabled (dtls.mode: plaintext)");
    run.stop();
    controller.stop();
    expect(await run.done).toBe(0);
    expect(await controller.done).toBe(0);
  });

  it("--state puts the AP's flash where the systemd unit's StateDirectory is, whatever the config says", async () => {
    const address = await freeLoopbackAddress();
    const trust = join(dir, "image-ca.pem");
    writeFileSync(trust, testPki().trust);
    const state = join(dir, "var-lib-vap-lab1");
    const factory = await image("ap1g8", OLD);
    expect((await vap("flash", "install", factory.path, "--state", state, "--class", "ap1g8", "--trust", trust).done)).toBe(0);
    const config = join(dir, "state.yaml");
    writeFileSync(config, `baseMac: 02:00:00:00:10:04\nclass: ap1g8\ncontrollers: [{ address: ${address} }]\ndtls: { mode: plaintext }\nimage: { trust: ${trust} }\nstateDir: elsewhere\n`);
    const controller = vap("controller", "--plaintext", "--address", address, "--version", OLD);
    await controller.until("WARNING: lab controller without DTLS");
    const run = vap("run", "--config", config, "--state", state);
    await run.until("CAPWAP State: Run");
    expect(run.out).toContain(`AP image version ${OLD} backup 0.0.0.0, Controller ${OLD}`);
    // The owner file names this process: pid, boot id and start time (platform/flash/owner.ts).
    expect(readFileSync(join(state, "flash", "owner"), "utf8")).toMatch(new RegExp(`^${process.pid} [0-9a-f-]{36}/\\d+\\n$`));
    expect(existsSync(join(dir, "elsewhere"))).toBe(false);
    run.stop();
    controller.stop();
    expect(await run.done).toBe(0);
    expect(await controller.done).toBe(0);
    expect(existsSync(join(state, "flash", "owner"))).toBe(false); // released on the way out
  });

  it("a bad config stops `vap run` with one line naming the file and the field", async () => {
    const config = join(dir, "bad.yaml");
    writeFileSync(config, "baseMac: 02:00:00:00:10:03\ncontrollers: [{ address: wlc.example }]\n");
    const run = vap("run", "--config", config);
    expect(await run.done).toBe(2);
    expect(run.err).toBe(`vap run: ${config}: controllers[0].address: "wlc.example" is not an IP address\n`);
  });
});

describe("vap lab", () => {
  it("the README's main command: --until upgraded exits 0 once every AP runs the controller's version", async () => {
    const address = await freeLoopbackAddress();
    const lab = vap("lab", "--until", "upgraded", "--address", address);
    expect(await lab.done).toBe(0);
    for (const line of ["Version does not match.", "upgrade.sh: Script called with args:[PREDOWNLOAD]", "activate part1, set BOOT to part1", "Last reload reason: Image upgrade"]) {
      expect(lab.out).toContain(line);
    }
    expect(lab.out).toMatch(/^AP0200\.0000\.0001\s+C9105AXI-B\s+ap1g8\s+Run\s+vap-lab-wlc\s+17\.12\.1\.5\s+1\s+0\s+\S+ s\s+CAPWAP$/m);
    expect(lab.out).toContain("All 1 AP(s) upgraded to 17.12.1.5 and in Run.");
  });

  it("--until run exits 0 with the summary table once every AP is in Run", async () => {
    const address = await freeLoopbackAddress();
    const lab = vap("lab", "--aps", "3", "--until", "run", "--address", address, "--controller-version", "17.9.4.27", "--pcap", join(dir, "lab.pcap"));
    expect(await lab.done).toBe(0);
    expect(lab.out).toMatch(/AP0200\.0000\.0003 \[\*\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\.\d{4}\] CAPWAP State: Run/);
    expect(lab.out).toMatch(new RegExp(`\\[\\*\\d\\d/\\d\\d/\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{4}\\] Lab: 3 AP\\(s\\) at 17\\.9\\.4\\.27, profile cisco; controller vap-lab-wlc 17\\.9\\.4\\.27 on ${escaped(address)}, window 8\\n`));
    expect(lab.out).toMatch(/AP Name\s+Model\s+Class\s+State\s+Controller\s+Version\s+Reloads\s+Restarts\s+Start to Run\s+Method\n/);
    // No AP needed an image: no method.
    expect(lab.out.match(/^AP0200\.0000\.000\d\s+C9105AXI-B\s+ap1g8\s+Run\s+vap-lab-wlc\s.*\s-$/gm)).toHaveLength(3);
    expect(lab.out).toContain("All 3 AP(s) in Run.");
    expect(existsSync(join(dir, "lab.pcap"))).toBe(true);
  });

  it("--until run exits 1 with the reason when the timeout passes first: --timeout counts from the start", async () => {
    const address = await freeLoopbackAddress();
    const lab = vap("lab", "--aps", "2", "--until", "run", "--address", address, "--timeout", "0s", "--quiet");
    expect(await lab.done).toBe(1);
    expect(lab.err).toBe("vap lab: timed out after 0 s: 2 AP(s) never started (the run ended first); 0 AP(s) not in Run\n");
  });

  it("a lab of hundreds still powering APs on at --timeout stops doing so and ends, exit 1, naming what never started", async () => {
    const address = await freeLoopbackAddress();
    const started = Date.now();
    const lab = vap("lab", "--aps", "400", "--until", "run", "--address", address, "--timeout", "2s", "--quiet", "--controller-version", "17.9.4.27");
    expect(await lab.done).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const m = /^vap lab: timed out after 2 s: (\d+) AP\(s\) never started \(the run ended first\); (\d+) AP\(s\) not in Run/.exec(lab.err);
    expect(m, lab.err).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThan(400);
  });

  it("refuses bad flags with one line", async () => {
    const lab = vap("lab", "--aps", "zero");
    expect(await lab.done).toBe(2);
    expect(lab.err).toBe('vap lab: --aps: expected a whole number from 1 to 10000, got "zero"\n');
  });
});
