/** The small builders every row of the WTP's table is written with: its effects, and the step staying or moving on. */
import type { LogFields } from "../../core/index.js";
import type { Element, Message } from "../profiles/index.js";
import type { Step, WtpContext, WtpEffect, WtpState, WtpTimer } from "./machine-types.js";

export const info = (text: string, fields?: LogFields): WtpEffect => ({ kind: "log", level: "info", text, ...(fields ? { fields } : {}) });
export const warn = (text: string): WtpEffect => ({ kind: "log", level: "warn", text });
export const arm = (timer: WtpTimer, ms: number): WtpEffect => ({ kind: "arm", timer, ms });
export const request = (type: number, elements?: Element[]): WtpEffect => ({ kind: "request", type, ...(elements ? { elements } : {}) });
export const respond = (to: Message, resultCode: number): WtpEffect => ({ kind: "respond", to, elements: [{ kind: "ResultCode", resultCode }] });
export const stay = (context: WtpContext, ...effects: WtpEffect[]): Step => ({ context, effects });
export const go = (to: WtpState, context: WtpContext, ...effects: WtpEffect[]): Step => ({ to, context, effects });
