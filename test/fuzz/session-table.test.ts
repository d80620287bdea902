/**
 * Random input sequences through the lab controller's per-AP session table
 * (lab/controller/session-machine.ts), with a model of its shell
 * (ap-session.ts): the idle timer, the DTLS handshake, operators' requests
 * on the wire, a running image transfer. Inputs come as the shell delivers
 * them (the idle deadline only while armed, an operator's request settled
 * by its answer or its last retransmission), mixed with what an AP may send
 * at any time: every request, out of place and repeated, keep-alives, DTLS
 * closing, joins refused and admitted. Invariants after every step: no
 * exception; outside Closed something is due (the idle timer is armed, or
 * the handshake's outcome); every operator's request is settled exactly once
 * and none is left waiting once the session closed; one idle timer at a
 * time; a transfer's window within 1..MAX_IMAGE_WINDOW.
 */
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import type { Message } from "../../agent/capwap/profiles/index.js";
import { MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import type { Random } from "../../agent/core/index.js";
import { openingState, type SessionContext, type SessionEffect, type SessionInput, type SessionState, type Ticket, transition } from "../../lab/controller/session-machine.js";
import { fuzzCases, fuzzTimeout } from "./mutate.js";
import { fuzzSequences } from "./sequences.js";

const context: SessionContext = { key: "10.0.1.2:5246", address: "10.0.1.2", idleTimeoutMs: 3_600, vendorId: 4232704 };

interface Model {
  idleArmed: boolean;
  dtlsOpening: boolean;
  transferRunning: boolean;
  /** Operators' requests on the wire (the shell's #awaiting). */
  awaiting: Ticket[];
  /** Every ticket handed to the table, with how often it was settled. */
  tickets: Map<Ticket, number>;
  /** A broken invariant, seen while carrying out effects. */
  broken?: string;
}

function ticket(model: Model): Ticket {
  const t: Ticket = { resolve: () => settle(model, t), reject: () => settle(model, t) };
  model.tickets.set(t, 0);
  return t;
}

function settle(model: Model, t: Ticket): void {
  const times = model.tickets.get(t)! + 1;
  model.tickets.set(t, times);
  if (times > 1) model.broken = "an operator's request settled twice";
}

/** What ap-session.ts does with each effect, as far as something stays due. */
function carryOut(model: Model, effects: readonly SessionEffect[]): void {
  for (const e of effects) {
    if (e.kind === "arm-idle") {
      if (model.idleArmed) model.broken = "a second idle timer armed beside the first";
      if (!(e.ms > 0)) model.broken = `idle timer armed for ${e.ms} ms`;
      model.idleArmed = true;
    } else if (e.kind === "cancel-idle") model.idleArmed = false;
    else if (e.kind === "send-request") model.awaiting.push(e.ticket);
    else if (e.kind === "refuse") e.ticket.reject(new Error(e.reason));
    else if (e.kind === "start-transfer") {
      if (!(e.window >= 1 && e.window <= MAX_IMAGE_WINDOW)) model.broken = `transfer window ${e.window}`;
      model.transferRunning = true;
    } else if (e.kind === "close") {
      // The shell refuses what is still on the wire; the handshake ends with DTLS.
      for (const t of model.awaiting.splice(0)) t.reject(new Error("left"));
      model.dtlsOpening = false;
    }
  }
}

const request = (random: Random, type: number): Message => ({ type, seq: random.int(256), elements: [] });
const REQUESTS = Object.values(MessageType).filter((t) => t % 2 === 1) as number[];
const COMMANDS = ["predownload", "reset", "configuration-update", "request"] as const;

function nextInput(random: Random, model: Model): SessionInput {
  for (;;) {
    // Mostly the AP's way through a session, now and then a disruption: sequences get to Run and stay a while.
    const roll = random.int(100);
    if (roll < 20) {
      const admitted = random.next() < 0.8;
      return {
        kind: "join-request",
        request: request(random, MessageType.JoinRequest),
        wtp: { name: `AP${random.int(3)}`, model: "C9120AXI-B", baseMac: "00:11:22:33:44:55", softwareVersion: "17.9.4.27", ...(random.next() < 0.95 ? { sessionId: Uint8Array.of(random.int(256)) } : {}) },
        radios: [{ radioId: 1, radioType: 2 }],
        admission: admitted ? ResultCode.Success : ResultCode.JoinFailureResourceDepletion,
        offeredWindow: [0, 1, 8, MAX_IMAGE_WINDOW, 1000, -3][random.int(6)]!,
        ...(random.next() < 0.3 ? { oobPort: 8443 } : {}),
      };
    }
    if (roll < 30) return { kind: "configuration-status-request", request: request(random, MessageType.ConfigurationStatusRequest) };
    if (roll < 42) return { kind: "keep-alive" };
    if (roll < 48) return { kind: "echo-request", request: request(random, MessageType.EchoRequest) };
    if (roll < 52) return { kind: "change-state-event-request", request: request(random, MessageType.ChangeStateEventRequest) };
    if (roll < 56) return { kind: "wtp-event-request", request: request(random, MessageType.WtpEventRequest), ...(random.next() < 0.5 ? { predownload: random.int(5) } : {}) };
    if (roll < 62) {
      const withImage = random.next() < 0.8;
      return {
        kind: "image-data-request",
        request: request(random, MessageType.ImageDataRequest),
        ...(withImage ? { image: "ap1g8" } : {}),
        initiate: random.next() < 0.85,
        oobRequest: random.next() < 0.2,
        ...(random.next() < 0.5 ? { acceptedWindow: [0, 1, 4, 200][random.int(4)]! } : {}),
        ...(random.next() < 0.2 ? { fallback: "HTTP 403" } : {}),
      };
    }
    if (roll < 64) return { kind: "data-transfer-request", request: request(random, MessageType.DataTransferRequest) };
    if (roll < 66) return { kind: "unknown-request", request: request(random, REQUESTS[random.int(REQUESTS.length)]!) };
    if (roll < 74) {
      const kind = COMMANDS[random.int(COMMANDS.length)]!;
      const command = kind === "configuration-update" ? { kind, elements: [] } : kind === "request" ? { kind, type: MessageType.ClearConfigurationRequest, elements: [] } : { kind, version: "17.12.1.5" };
      return { kind: "command", command, ticket: ticket(model) };
    }
    if (roll < 82) {
      // The AP's answer to an operator's request, or its last retransmission.
      if (model.awaiting.length === 0) continue;
      const t = model.awaiting.splice(random.int(model.awaiting.length), 1)[0]!;
      if (random.next() < 0.7) {
        t.resolve({ type: MessageType.ConfigurationUpdateResponse, seq: 0, elements: [] });
        continue;
      }
      return { kind: "request-unanswered", type: MessageType.ConfigurationUpdateRequest, ticket: t };
    }
    if (roll < 87) {
      if (!model.transferRunning) continue;
      model.transferRunning = false;
      return { kind: "transfer-ended", predownload: random.next() < 0.5, ...(random.next() < 0.3 ? { error: "no acknowledgement" } : {}) };
    }
    if (roll < 92) {
      if (!model.idleArmed) continue;
      model.idleArmed = false;
      // Mostly heard from since the timer was armed: it moves on.
      return { kind: "idle-deadline", silentMs: random.next() < 0.95 ? random.int(context.idleTimeoutMs) : context.idleTimeoutMs + random.int(1000) };
    }
    if (roll < 99) {
      if (!model.dtlsOpening) continue;
      model.dtlsOpening = false;
      return random.next() < 0.9 ? { kind: "dtls-connected", certificateSubject: "CN=ap" } : { kind: "dtls-closed", error: "handshake failed" };
    }
    return [{ kind: "dtls-closed" } as const, { kind: "replaced" } as const, { kind: "shutdown" } as const][random.int(3)]!;
  }
}

describe("lab controller session table under random input sequences", () => {
  it("never throws, is never stuck outside Closed and settles every operator's request once", () => {
    const cases = fuzzCases(400);
    let tickets = 0;
    const states = fuzzSequences<SessionInput>(5000, cases, 120, (random) => {
      const dtls = random.next() < 0.8;
      let state: SessionState = openingState(dtls);
      const model: Model = { idleArmed: true, dtlsOpening: dtls, transferRunning: false, awaiting: [], tickets: new Map() };
      return {
        state: () => state.phase,
        stuck: () => {
          if (model.broken) return model.broken;
          const unsettled = [...model.tickets].filter(([t, n]) => n === 0 && !model.awaiting.includes(t)).length;
          if (unsettled > 0) return `${unsettled} operator's request(s) neither settled nor on the wire`;
          if (state.phase === "Closed") return model.awaiting.length > 0 ? "requests left waiting after the session closed" : undefined;
          return model.idleArmed || model.dtlsOpening ? undefined : "nothing due: no idle timer, no handshake";
        },
        next: (r) => nextInput(r, model),
        step: (input) => {
          const next = transition(state, input, context);
          state = next.state;
          carryOut(model, next.effects);
          tickets += input.kind === "command" ? 1 : 0;
        },
        describe: (input) => input.kind,
      };
    });
    console.log(`session table fuzz: ${cases} sequences of 120 inputs, ${tickets} operator's requests; steps per phase`, JSON.stringify(Object.fromEntries(states)));
    expect([...states.keys()].sort()).toEqual(["Closed", "Configure", "DTLS Setup", "Data Check", "Join", "Run"]);
    expect(tickets).toBeGreaterThan(cases);
  }, fuzzTimeout(fuzzCases(400), 5));
});
