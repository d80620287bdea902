import { afterEach, describe, expect, it } from "vitest";
import { DtlsContext } from "../../agent/capwap/dtls/index.js";
import { controlHeader, encodeControlPacket, MessageType, ResultCode, Writer, writeHeader } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, findElement } from "../../agent/capwap/profiles/index.js";
import { KEEP_ALIVE } from "../../lab/controller/index.js";
import { issueCa, issueLeaf, validFor } from "../../agent/pki/index.js";
import { AC_ADDRESS, FAST_TIMERS, SimLab } from "../support/sim-lab.js";

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

const states = (lines: string[]) => lines.filter((l) => l.includes("CAPWAP State:")).map((l) => l.replace(/^.*CAPWAP State: /, ""));

describe("faults: the AP recovers, logs why, and never loops tightly", () => {
  it("the first two responses of every kind are lost: retransmission recovers without a restart", async () => {
    const dropped: string[] = [];
    lab = new SimLab({
      aps: 3,
      faults: {
        dropResponse: (type, nth) => {
          const drop = nth <= 2;
          if (drop) dropped.push(`${type}#${nth}`);
          return drop;
        },
      },
    });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 20_000)).toBe(true);
    await lab.run(5_000); // two echoes lost and recovered too
    for (const w of lab.wtps) {
      expect(w.state).toBe("Run");
      expect(w.stats.restarts).toBe(0);
    }
    const kinds = new Set(dropped.map((d) => Number(d.split("#")[0])));
    for (const t of [MessageType.DiscoveryRequest, MessageType.JoinRequest, MessageType.ConfigurationStatusRequest, MessageType.ChangeStateEventRequest, MessageType.EchoRequest, KEEP_ALIVE]) {
      expect(kinds.has(t), `responses to type ${t} were dropped`).toBe(true);
    }
  });

  it("echo responses stop coming: Max retransmission → DTLS Teardown → rediscovery → rejoin", async () => {
    let dropEchoes = false;
    const lines: string[] = [];
    lab = new SimLab({ lines, faults: { dropResponse: (type) => dropEchoes && type === MessageType.EchoRequest } });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun())).toBe(true);
    dropEchoes = true;
    expect(await lab.runUntil(() => lab!.wtps[0]!.state !== "Run", 10_000)).toBe(true);
    dropEchoes = false;
    expect(await lab.runUntil(() => lab!.allInRun(), 20_000)).toBe(true);
    expect(lines.some((l) => l.includes("Going to restart CAPWAP (reason : Max retransmission count exceeded for Echo Request)..."))).toBe(true);
    expect(states(lines).slice(-8)).toEqual(["DTLS Teardown", "Discovery", "DTLS Setup", "Join", "Image Data", "Configure", "Data Check", "Run"]);
  });

  it("the controller restarts while 10 APs are in Run: they notice, tear down, rediscover and rejoin", async () => {
    const lines: string[] = [];
    lab = new SimLab({ aps: 10, lines });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 20_000)).toBe(true);
    await lab.restartController(5_000);
    for (const w of lab.wtps) expect(w.state).not.toBe("Run");
    expect(await lab.runUntil(() => lab!.allInRun(), 30_000)).toBe(true);
    expect(lab.controller.aps()).toHaveLength(10);
    for (const w of lab.wtps) {
      expect(w.stats.joins).toBe(2);
      expect(w.restartReason).toMatch(/Max retransmission count exceeded|DataChannelDeadInterval expired|DTLS/);
    }
  });

  it("a controller refusing joins gets Sulking back-off, not a tight loop", async () => {
    const lines: string[] = [];
    let joins = 0;
    lab = new SimLab({
      lines,
      faults: {
        admit: () => {
          joins++;
          return ResultCode.JoinFailureResourceDepletion;
        },
      },
    });
    await lab.start();
    await lab.run(20_000);
    // SilentInterval is 2 s in the test timers: at most one join per ~2 s, and it keeps trying.
    expect(joins).toBeGreaterThanOrEqual(4);
    expect(joins).toBeLessThanOrEqual(11);
    expect(lines.some((l) => l.includes("AC rejected join request with result code: 4 (Join Failure (Resource Depletion))"))).toBe(true);
    expect(states(lines)).toContain("Sulking");
    expect(lab.wtps[0]!.state).not.toBe("Run");
  });

  describe("a message the AP cannot encode (whatever let its config through) restarts CAPWAP, sulking between attempts", () => {
    /** The restarts logged, and how often the AP entered `state`, over 20 s with a 2 s SilentInterval. */
    async function attempts(lines: string[], state: string) {
      await lab!.start();
      await lab!.run(20_000); // nothing may escape into the network's timers: run() would throw
      const restarts = lines.filter((l) => l.includes("Going to restart CAPWAP (reason : internal error: "));
      const entries = states(lines).filter((s) => s === state).length;
      expect(entries).toBeGreaterThanOrEqual(4);
      expect(entries).toBeLessThanOrEqual(11);
      expect(restarts.length).toBeGreaterThanOrEqual(entries - 1);
      expect(states(lines)).toContain("Sulking");
      return restarts;
    }

    it("in Configure: a Cisco WTP Board Data serial over its 16 bytes (the entry action, not a handler)", async () => {
      const lines: string[] = [];
      lab = new SimLab({ lines });
      lab.configs[0]!.identity.serial = "FCW2345L0ZZ-TOO-LONG";
      const restarts = await attempts(lines, "Configure");
      expect(restarts[0]).toMatch(/longer than its 16-byte field\)\.\.\.$/);
      const after = states(lines).slice(states(lines).indexOf("Configure"));
      expect(after.slice(0, 4)).toEqual(["Configure", "DTLS Teardown", "Sulking", "Discovery"]);
      expect(lab.wtps[0]!.stats.joins).toBeGreaterThanOrEqual(4);
    });

    it("in Discovery: a WTP Board Data value over 65535 bytes", async () => {
      const lines: string[] = [];
      lab = new SimLab({ lines, profile: "rfc5415" });
      lab.configs[0]!.identity.serial = "S".repeat(70_000);
      await attempts(lines, "Discovery");
      expect(lab.wtps[0]!.stats.joins).toBe(0);
    });

    it("in a DNS answer's callback (a promise, outside any state transition)", async () => {
      const lines: string[] = [];
      lab = new SimLab({
        lines,
        profile: "rfc5415",
        apConfig: () => ({ controllers: [], discovery: { dnsDomain: "lab.example" }, timers: FAST_TIMERS }),
        wtp: () => ({ network: { bind: () => lab!.network.bind("10.0.9.9"), resolve: async () => ["10.0.0.1"] } }),
      });
      lab.configs[0]!.identity.serial = "S".repeat(70_000);
      await lab.start();
      await lab.run(10_000);
      expect(lines.filter((l) => l.includes("Going to restart CAPWAP (reason : internal error: ")).length).toBeGreaterThanOrEqual(2);
      expect(states(lines)).toContain("Sulking");
    });
  });

  it("a controller whose certificate the AP does not trust is refused, logged, and retried later", async () => {
    const lines: string[] = [];
    const rogueCa = issueCa("ecdsa", validFor(30), "rogue CA");
    const rogue = issueLeaf(rogueCa, { commonName: "rogue-wlc", role: "controller", type: "ecdsa", validity: validFor(30) });
    lab = new SimLab({ lines, controller: { dtls: new DtlsContext({ role: "server", cert: rogue.cert + rogueCa.cert, key: rogue.key, verifyPeer: false }) } });
    await lab.start();
    await lab.run(15_000);
    const refusals = lines.filter((l) => l.includes("Going to restart CAPWAP (reason : DTLS"));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(refusals[0]).toMatch(/certificate verify failed|unable to get local issuer certificate/i);
    expect(states(lines)).not.toContain("Join");
    expect(lab.controller.aps().filter((a) => a.phase === "Run")).toEqual([]);
  });

  it("malformed and unexpected messages in every state are discarded with a log line; the session survives", async () => {
    const lines: string[] = [];
    const garbage = Uint8Array.of(0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0xff, 0xff, 0);
    const unexpected = encodeControlPacket({ type: MessageType.EchoResponse, seq: 1, elements: [] }, ciscoProfile.elements);
    const wrongVersion = (() => {
      const w = new Writer();
      writeHeader(w, controlHeader());
      const b = w.finish().slice();
      b[0] = 0x30;
      return b;
    })();
    // Fire the bad packets at the AP the moment it enters each state.
    lab = new SimLab({
      lines,
      wtp: () => ({
        onStateChange: () => {
          const to = lab!.wtps[0]!.controlEndpoint!;
          for (const p of [garbage, unexpected, wrongVersion]) attacker.send(p, to);
        },
      }),
    });
    const attacker = lab.network.bind("10.0.0.66", 5246);
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 20_000)).toBe(true);
    expect(states(lines)).toEqual(["Discovery", "DTLS Setup", "Join", "Image Data", "Configure", "Data Check", "Run"]);
    for (const state of ["Discovery", "DTLS Setup", "Join", "Configure", "Data Check"]) {
      expect(lines.some((l) => l.includes(`Discarding msg CAPWAP_ECHO_RESPONSE(type 14) in CAPWAP state: ${state}`)), state).toBe(true);
    }
    expect(lines.some((l) => l.includes("Msg Element Length") && l.includes("Discarding packet from 10.0.0.66"))).toBe(true);
    expect(lines.some((l) => l.includes("unsupported CAPWAP version 3"))).toBe(true);

    // Inside the DTLS session, in Run: a malformed payload, and a request type nobody knows.
    const name = lab.wtps[0]!.name;
    lab.controller.inject(name, garbage);
    const reply = lab.controller.request(name, 0x63);
    await lab.run(500);
    const response = await reply;
    expect(findElement(response.elements, "ResultCode")?.resultCode).toBe(ResultCode.MessageUnexpectedUnrecognizedRequest);
    await lab.run(5_000);
    expect(lab.wtps[0]!.state).toBe("Run");
    expect(lab.wtps[0]!.stats.restarts).toBe(0);
    expect(lines.filter((l) => l.includes(`Discarding packet from ${AC_ADDRESS}: malformed packet`)).length).toBeGreaterThanOrEqual(1);
  });
});
