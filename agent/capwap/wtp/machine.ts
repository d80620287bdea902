/**
 * The WTP session (RFC 5415 §2.3) as a pure transition function:
 * (state, input) → (state, effects). No I/O, no clock, no timers here: a
 * timer's expiry, a decoded message, DTLS news, an image source's outcome and
 * an operator's command are all inputs; sending, arming timers, opening DTLS,
 * starting a source and logging are effects the shell (wtp.ts) executes in
 * order. The types live in machine-types.ts, the table in table.ts.
 *
 * Entering a state cancels every timer, announces the state and runs the
 * state's entry (table.ts ENTRY), which may lead straight on to another state.
 */
import type { WtpState } from "./machine-types.js";
import type { InputKey, InputOf, MachineSettings, Row, Step, WtpContext, WtpEffect, WtpInput } from "./machine-types.js";
import { ENTRY, TABLE, unhandled } from "./table.js";

export interface Machine {
  readonly state: WtpState;
  readonly context: WtpContext;
}

/** The machine before start: nothing discovered, nothing joined. */
export function initialMachine(settings: MachineSettings): Machine {
  return {
    state: "Idle",
    context: {
      controlPort: 0,
      name: settings.config.identity.name,
      echoIntervalMs: settings.config.timers.echoIntervalMs,
      discovery: { seq: 0, round: 0, targets: 0, candidates: [] },
      reboot: { reason: "Reset Request from controller" },
      rebootCount: 0,
      sulkAfterTeardown: false,
      rediscoverAtOnce: false,
    },
  };
}

export function inputKey(input: WtpInput): InputKey {
  return input.type === "timer" ? input.timer : input.type;
}

/** The one place deciding the next state. */
export function transition(settings: MachineSettings, from: Machine, input: WtpInput): Machine & { effects: WtpEffect[] } {
  const key = inputKey(input);
  const row = TABLE[from.state][key] as Row<InputKey> | undefined;
  const step: Step = row ? row(settings, from.context, input as InputOf<InputKey>, from.state) : unhandled(from.context, input, from.state);
  const effects = [...step.effects];
  let state = from.state;
  let context = step.context;
  let next = step.to;
  while (next !== undefined && next !== state) {
    const previous = state;
    state = next;
    effects.push({ kind: "cancelAllTimers" });
    // Idle is where stop() leaves the WTP: nothing is announced.
    if (state !== "Idle") effects.push({ kind: "entered", state, previous });
    const entered = ENTRY[state]?.(settings, context);
    next = entered?.to;
    if (entered) {
      context = entered.context;
      effects.push(...entered.effects);
    }
  }
  return { state, context, effects };
}

/** Every (state, input) pair the table handles: what the table tests must cover. */
export function tableRows(): { state: WtpState; input: InputKey }[] {
  return Object.entries(TABLE).flatMap(([state, rows]) => Object.keys(rows).map((input) => ({ state: state as WtpState, input: input as InputKey })));
}
