/** The typed element union every message carries (all profiles decode all of these). */
import type { ControlMessage, ElementOf, ieee80211Elements, rfc5415Elements, UnknownElement, VendorSpecificElement } from "../codec/index.js";
import type { ciscoLayoutOverrides, ciscoVendorElements } from "./cisco/elements.js";
import type { vapElements } from "./vap-elements.js";

export type Element =
  | ElementOf<(typeof rfc5415Elements)[number]>
  | ElementOf<(typeof ieee80211Elements)[number]>
  | ElementOf<(typeof ciscoVendorElements)[number]>
  | ElementOf<(typeof ciscoLayoutOverrides)[number]>
  | ElementOf<(typeof vapElements)[number]>
  | UnknownElement
  | VendorSpecificElement;

export type ElementKind = Element["kind"];
/** The element of a given kind, e.g. `ElementByKind<"ResultCode">`. */
export type ElementByKind<K extends ElementKind> = Extract<Element, { kind: K }>;

export type Message = ControlMessage<Element>;

/** The first element of a kind, typed. */
export function findElement<K extends ElementKind>(elements: readonly Element[], kind: K): ElementByKind<K> | undefined {
  return elements.find((e) => e.kind === kind) as ElementByKind<K> | undefined;
}

/** Every element of a kind, typed. */
export function findElements<K extends ElementKind>(elements: readonly Element[], kind: K): ElementByKind<K>[] {
  return elements.filter((e) => e.kind === kind) as ElementByKind<K>[];
}
