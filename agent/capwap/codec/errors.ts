import { PeerError, UsageError } from "../../core/errors.js";
import { elementName, messageTypeName } from "./names.js";

/**
 * Bytes from the wire that do not parse. Carries where it went wrong (message
 * type, element type, absolute byte offset in the packet) and, when the
 * receiver should answer, the RFC 5415 §4.6.35 Result Code to answer with.
 */
export class CapwapDecodeError extends PeerError {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly messageType?: number,
    readonly elementType?: number,
    readonly resultCode?: number,
  ) {
    super("CAPWAP_DECODE", describe(reason, offset, messageType, elementType));
  }
}

function describe(reason: string, offset: number, messageType?: number, elementType?: number): string {
  const where = [`at byte ${offset}`];
  if (messageType !== undefined) where.push(`in ${messageTypeName(messageType)}(${messageType})`);
  if (elementType !== undefined) where.push(`element ${elementName(elementType)}(${elementType})`);
  return `CAPWAP decode: ${reason} ${where.join(" ")}`;
}

/** A message object that cannot be encoded (a bug in the caller, not the peer). */
export class CapwapEncodeError extends UsageError {}
