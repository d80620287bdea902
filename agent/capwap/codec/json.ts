/**
 * Decoded CAPWAP as plain JSON-ready data, for tools that print what they
 * saw (`vap capwap decode`). Numbers and strings stay as they are, byte
 * fields become hex, and every element carries its type number and RFC name
 * beside its decoded fields. Decoded fields sit under `fields` because
 * element fields are free to be called `type` or `name` (AC Name, Cisco AP
 * Time Sync).
 */
import type { BaseElement, ControlMessage } from "./control.js";
import type { ElementTable, UnknownElement, VendorSpecificElement } from "./element.js";
import { CapwapEncodeError } from "./errors.js";
import type { CapwapHeader } from "./header.js";
import { ElementType, elementName, messageTypeName } from "./names.js";
import { toHex } from "./schema.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ElementJson {
  type: number;
  name: string;
  /** The element's kind in vap's message objects; absent when the profile cannot decode it. */
  kind?: string;
  /** Vendor Specific Payload (37): whose element this is. */
  vendorId?: number;
  elementId?: number;
  fields?: { [key: string]: JsonValue };
  /** The raw value of an element the profile cannot decode. */
  hex?: string;
  /** Why an element of a known layout is shown raw: its body does not fit. */
  note?: string;
}

export interface MessageJson {
  header?: { [key: string]: JsonValue };
  type: number;
  typeName: string;
  seq: number;
  flags?: number;
  elements: ElementJson[];
}

/** Byte arrays as hex, recursively; undefined (absent optional fields) is dropped. */
export function toJson(value: unknown): JsonValue {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value as JsonValue;
}

export function elementToJson(el: BaseElement, table: ElementTable): ElementJson {
  if (el.kind === "Unknown") {
    const u = el as unknown as UnknownElement;
    return { type: u.type, name: elementName(u.type), hex: toHex(u.value), ...(u.note !== undefined && { note: u.note }) };
  }
  if (el.kind === "VendorSpecific") {
    const v = el as unknown as VendorSpecificElement;
    const name = elementName(ElementType.VendorSpecificPayload);
    return { type: ElementType.VendorSpecificPayload, name, vendorId: v.vendorId, elementId: v.elementId, hex: toHex(v.data), ...(v.note !== undefined && { note: v.note }) };
  }
  const spec = table.byKind(el.kind);
  if (!spec) throw new CapwapEncodeError(`element kind "${el.kind}" is not known to this profile`);
  const { kind, ...fields } = el as BaseElement & Record<string, unknown>;
  const out: ElementJson = { type: spec.type, name: spec.name, kind };
  if (spec.vendorId !== undefined) Object.assign(out, { vendorId: spec.vendorId, elementId: spec.vendorElementId });
  out.fields = toJson(fields) as { [key: string]: JsonValue };
  return out;
}

/** A decoded control message (with the header it came in, when given). */
export function messageToJson(msg: ControlMessage, table: ElementTable, header?: CapwapHeader): MessageJson {
  return {
    ...(header && { header: toJson(header) as { [key: string]: JsonValue } }),
    type: msg.type,
    typeName: messageTypeName(msg.type),
    seq: msg.seq,
    ...(msg.flags !== undefined && { flags: msg.flags }),
    elements: msg.elements.map((el) => elementToJson(el, table)),
  };
}
