/**
 * Random input sequences through the WTP's transition table, with a model of
 * what its shell would hold: armed timers, requests awaiting an answer, a
 * running download, an opening DTLS session. Inputs come as the shell would
 * deliver them (a timer's expiry only while it is armed, an answer only to a
 * request sent), mixed with what a peer may send at any time: messages of
 * every type, duplicated and out of place, DTLS closing, sources failing.
 * Invariants after every step: no exception, and no state the WTP could not
 * leave — outside Idle something is always due (a timer, an answer or its
 * retransmission timeout, the download's outcome, the DTLS handshake's).
 */
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { type Element, type Message, profiles } from "../../agent/capwap/profiles/index.js";
import { initialMachine, type Machine, type MachineSettings, transition, type WtpInput, type WtpTimer } from "../../agent/capwap/wtp/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import type { Random } from "../../agent/core/index.js";
import { fuzzCases, fuzzTimeout } from "./mutate.js";
import { fuzzSequences } from "./sequences.js";

const config = parseApConfig({ baseMac: "00:11:22:33:44:55", profile: "cisco", controllers: [{ address: "10.0.0.1" }], dtls: { mode: "psk", identity: "ap", pskKey: "00112233445566778899aabbccddeeff" } }, "fuzz.yaml");
const settings: MachineSettings = { config, profile: profiles.cisco, canResolve: false, sources: ["capwap"] };
const AC = { address: "10.0.0.1", port: 5246 };

/** Elements that steer the table: result codes, versions, orders, timers, windows. */
function elements(random: Random): Element[] {
  const pool: Element[] = [
    { kind: "ResultCode", resultCode: [ResultCode.Success, ResultCode.JoinFailureResourceDepletion, ResultCode.FailureMissingMandatoryElement][random.int(3)]! },
    { kind: "AcName", name: "wlc" },
    { kind: "ImageIdentifier", vendorId: 0, identifier: ["17.12.1.5", "17.9.4.27", ""][random.int(3)]! },
    { kind: "PredownloadOrder", version: "17.13.1.1" },
    { kind: "CapwapTimers", discovery: random.int(10), echoRequest: random.int(60) },
    { kind: "ImageWindow", window: random.int(70) },
    { kind: "WtpName", name: "renamed" },
  ] as Element[];
  return pool.filter(() => random.next() < 0.3);
}

const MESSAGE_TYPES = Object.values(MessageType) as number[];

function message(random: Random, type = MESSAGE_TYPES[random.int(MESSAGE_TYPES.length)]!): Message {
  return { type, seq: random.int(256), elements: elements(random) };
}

interface ShellModel {
  timers: Set<WtpTimer>;
  /** Request types sent and not yet answered or timed out. */
  pending: number[];
  downloading: boolean;
  dtlsOpening: boolean;
  /** The sequence number of the last Discovery Request round. */
  discoverySeq: number;
  /** The shell answers readVersions at once with a versions input. */
  versionsAsked: boolean;
}

function applyEffects(model: ShellModel, effects: ReturnType<typeof transition>["effects"]): void {
  for (const e of effects) {
    if (e.kind === "arm" || e.kind === "armRandom") model.timers.add(e.timer);
    else if (e.kind === "cancel") model.timers.delete(e.timer);
    else if (e.kind === "cancelAllTimers") model.timers.clear();
    else if (e.kind === "request") model.pending.push(e.type);
    else if (e.kind === "closeSession") Object.assign(model, { pending: [], dtlsOpening: false });
    else if (e.kind === "openSession") model.dtlsOpening = true;
    else if (e.kind === "startSource") model.downloading = true;
    else if (e.kind === "abortSource") model.downloading = false;
    else if (e.kind === "readVersions") model.versionsAsked = true;
    else if (e.kind === "discover") model.discoverySeq = e.seq;
  }
}

/** An input the shell could deliver now, or a peer could send at any time. */
function nextInput(random: Random, model: ShellModel): WtpInput {
  if (model.versionsAsked) {
    model.versionsAsked = false;
    return { type: "versions", running: "17.9.4.27", backup: "0.0.0.0" };
  }
  const timers = [...model.timers];
  for (;;) {
    const roll = random.int(40);
    // A third of the time what is due, rarely a disruption: sequences get deep into the session.
    switch (roll < 12 ? roll : roll < 30 ? 2 + (roll % 4) : roll < 39 ? 6 + (roll % 5) : 11) {
      case 0:
      case 1:
        if (timers.length === 0) continue;
        return { type: "timer", timer: timers[random.int(timers.length)]! };
      case 2:
      case 3: {
        if (model.pending.length === 0) continue;
        const request = model.pending.splice(random.int(model.pending.length), 1)[0]!;
        if (random.next() < 0.05) return { type: "requestTimeout", request };
        // Mostly a well-formed success, as a controller answers.
        const answer = message(random, request + 1);
        if (random.next() < 0.8) answer.elements = [{ kind: "ResultCode", resultCode: ResultCode.Success }, { kind: "AcName", name: "wlc" }, ...answer.elements.filter((e) => e.kind !== "ResultCode")];
        return { type: "response", request, message: answer };
      }
      case 4:
        if (!model.dtlsOpening) continue;
        model.dtlsOpening = false;
        return random.next() < 0.9 ? { type: "dtlsConnected", peer: { version: "DTLSv1.2", cipher: "x" } } : { type: "dtlsClosed", reason: "handshake failed" };
      case 5: {
        if (!model.downloading) continue;
        const r = random.int(3);
        // "started" leaves the download running; its outcome is still due.
        if (r !== 2) model.downloading = false;
        return r === 0 ? { type: "sourceFinished", result: { reboot: random.next() < 0.5 } } : r === 1 ? { type: "sourceFailed", reason: "timeout", message: "no image data" } : { type: "sourceStarted" };
      }
      case 6: {
        const response = message(random, MessageType.DiscoveryResponse);
        if (random.next() < 0.8) response.seq = model.discoverySeq;
        return { type: "discoveryResponse", from: random.next() < 0.8 ? AC : { address: "10.6.6.6", port: 5246 }, message: response };
      }
      case 7:
        return { type: "request", message: message(random) };
      case 8:
        return { type: "response", request: MESSAGE_TYPES[random.int(MESSAGE_TYPES.length)]!, message: message(random) };
      case 9:
        return { type: "keepAlive" };
      case 10:
        return random.next() < 0.5 ? { type: "versions", running: "17.9.4.27", backup: "0.0.0.0" } : { type: "internalError", error: "boom" };
      default:
        return [{ type: "dtlsClosed", reason: "peer closed" } as const, { type: "dtlsPeerClosed" } as const, { type: "restart", reason: "operator" } as const, { type: "sourceFailed", reason: "network", message: "late" } as const][random.int(4)]!;
    }
  }
}

describe("WTP table under random input sequences", () => {
  it("never throws and is never stuck outside Idle", () => {
    const cases = fuzzCases(300);
    const states = fuzzSequences<WtpInput>(1000, cases, 200, () => {
      const model: ShellModel = { timers: new Set(), pending: [], downloading: false, dtlsOpening: false, versionsAsked: false, discoverySeq: 0 };
      let machine: Machine = initialMachine(settings);
      let effects: ReturnType<typeof transition>["effects"] = [];
      const take = (input: WtpInput) => {
        const step = transition(settings, machine, input);
        machine = step;
        effects = step.effects;
        applyEffects(model, effects);
      };
      take({ type: "start", controlPort: 40000 });
      return {
        state: () => machine.state,
        stuck: () => {
          const due = model.timers.size > 0 || model.pending.length > 0 || model.downloading || model.dtlsOpening || model.versionsAsked;
          return machine.state === "Idle" || due ? undefined : `nothing due, last effects ${JSON.stringify(effects)}`;
        },
        next: (random) => nextInput(random, model),
        step: take,
        describe: (input) => (input.type === "timer" ? input.timer : input.type),
      };
    });
    console.log(`wtp table fuzz: ${cases} sequences of 200 inputs; steps per state`, JSON.stringify(Object.fromEntries(states)));
    // The sequences reach every state the WTP has.
    expect([...states.keys()].sort()).toEqual(["Configure", "DataCheck", "Discovery", "DtlsSetup", "DtlsTeardown", "ImageData", "Join", "Reset", "Run", "Sulking"]);
  }, fuzzTimeout(fuzzCases(300), 20));
});
