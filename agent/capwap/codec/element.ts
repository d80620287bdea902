import type { ObjectCodec, Shape, ShapeValue } from "./schema.js";
import { struct } from "./schema.js";

/**
 * One message element: its type number, the `kind` tag it carries in message
 * objects, its RFC name, and the codec of its value. Vendor elements ride in
 * Vendor Specific Payload (37) under a vendor id and element id
 * (RFC 5415 §4.6.39) and appear in messages under their own kind.
 */
export interface ElementSpec<K extends string = string, V extends object = any> {
  readonly type: number;
  readonly kind: K;
  readonly name: string;
  readonly codec: ObjectCodec<V>;
  readonly vendorId?: number;
  readonly vendorElementId?: number;
}

/**
 * An element kept as bytes so it survives decode → encode: a type no table
 * knows, or (with a `note`) one whose body does not fit its layout.
 */
export interface UnknownElement {
  kind: "Unknown";
  type: number;
  value: Uint8Array;
  /** Why a known type was not decoded: the layout, the reason and the byte. */
  note?: string;
}

/**
 * A Vendor Specific Payload kept as bytes: a vendor/element id no table
 * knows, or (with a `note`) one whose body does not fit its layout.
 */
export interface VendorSpecificElement {
  kind: "VendorSpecific";
  vendorId: number;
  elementId: number;
  data: Uint8Array;
  /** Why a known vendor element was not decoded: the layout, the reason and the byte. */
  note?: string;
}

export type ElementOf<S> = S extends ElementSpec<infer K, infer V> ? { kind: K } & V : never;

export function element<K extends string, S extends Shape>(type: number, kind: K, name: string, shape: S): ElementSpec<K, ShapeValue<S>>;
export function element<K extends string, V extends object>(type: number, kind: K, name: string, codec: ObjectCodec<V>): ElementSpec<K, V>;
export function element(type: number, kind: string, name: string, shapeOrCodec: Shape | ObjectCodec<object>): ElementSpec {
  const codec = isObjectCodec(shapeOrCodec) ? shapeOrCodec : struct(shapeOrCodec);
  return { type, kind, name, codec };
}

export function vendorElement<K extends string, S extends Shape>(vendorId: number, elementId: number, kind: K, name: string, shape: S): ElementSpec<K, ShapeValue<S>>;
export function vendorElement<K extends string, V extends object>(vendorId: number, elementId: number, kind: K, name: string, codec: ObjectCodec<V>): ElementSpec<K, V>;
export function vendorElement(vendorId: number, elementId: number, kind: string, name: string, shapeOrCodec: Shape | ObjectCodec<object>): ElementSpec {
  const codec = isObjectCodec(shapeOrCodec) ? shapeOrCodec : struct(shapeOrCodec);
  return { type: 37, kind, name, codec, vendorId, vendorElementId: elementId };
}

function isObjectCodec(x: Shape | ObjectCodec<object>): x is ObjectCodec<object> {
  return typeof (x as ObjectCodec<object>).readInto === "function";
}

/**
 * The elements a vendor profile understands. Later specs override earlier
 * ones with the same type or kind, which is how a profile swaps in its own
 * layout of a standard element (Cisco's draft-7 WTP Descriptor).
 */
export class ElementTable {
  readonly #byType = new Map<number, ElementSpec>();
  readonly #byKind = new Map<string, ElementSpec>();
  readonly #byVendor = new Map<number, Map<number, ElementSpec>>();

  constructor(specs: Iterable<ElementSpec>) {
    for (const spec of specs) {
      this.#byKind.set(spec.kind, spec);
      if (spec.vendorId === undefined) {
        this.#byType.set(spec.type, spec);
        continue;
      }
      let ids = this.#byVendor.get(spec.vendorId);
      if (!ids) this.#byVendor.set(spec.vendorId, (ids = new Map()));
      ids.set(spec.vendorElementId!, spec);
    }
  }

  byType(type: number): ElementSpec | undefined {
    return this.#byType.get(type);
  }

  byKind(kind: string): ElementSpec | undefined {
    return this.#byKind.get(kind);
  }

  byVendor(vendorId: number, elementId: number): ElementSpec | undefined {
    return this.#byVendor.get(vendorId)?.get(elementId);
  }

  /** Every spec, for tools that list what they can decode. */
  specs(): ElementSpec[] {
    return [...this.#byKind.values()];
  }
}
