/**
 * What went wrong with an HTTP(S) download, as the seam's failure reasons:
 * pure functions from a status code or a thrown error (undici's, Node's net
 * and TLS errors, often wrapped in a `cause`) to a reason and one line an
 * operator can act on.
 */
import type { ImageSourceFailure } from "../../capwap/wtp/index.js";

export interface HttpFailure {
  reason: ImageSourceFailure;
  message: string;
}

/** A response that is not the image: the status says whose problem it is. */
export function statusFailure(status: number, statusText: string): HttpFailure {
  const text = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  if (status === 404 || status === 410) return { reason: "not-found", message: text };
  if (status === 401 || status === 407) return { reason: "auth", message: text };
  if (status === 403) return { reason: "refused", message: text };
  if (status === 408 || status === 504) return { reason: "timeout", message: text };
  if (status >= 400 && status < 500) return { reason: "refused", message: text };
  return { reason: "network", message: text };
}

/** OpenSSL's and Node's names for a certificate the client would not trust. */
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REVOKED",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

interface CodedError {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and every error it wraps (cause chains; AggregateError from trying each address). */
function chainOf(err: unknown): CodedError[] {
  const seen: CodedError[] = [];
  const visit = (e: unknown) => {
    if (typeof e !== "object" || e === null || seen.includes(e as CodedError) || seen.length > 16) return;
    const coded = e as CodedError;
    seen.push(coded);
    if (Array.isArray(coded.errors)) coded.errors.forEach(visit);
    visit(coded.cause);
  };
  visit(err);
  return seen;
}

const codeOf = (e: CodedError) => (typeof e.code === "string" ? e.code : "");
const messageOf = (e: CodedError) => (typeof e.message === "string" && e.message !== "" ? e.message : codeOf(e) || String(e.name ?? "error"));

/** Whether a broken body may be resumed with a ranged request: the connection failed, not the client's wish or a certificate. */
export function isConnectionBreak(err: unknown): boolean {
  return errorFailure(err).reason === "network";
}

/**
 * A thrown error from connecting, the request or the body → a reason and one
 * line. "aborted" is the caller's signal, which fetchHttp checks first:
 * undici also says UND_ERR_ABORTED when a proxy refuses a tunnel.
 */
export function errorFailure(err: unknown): HttpFailure {
  const chain = chainOf(err);
  const certificate = chain.find((e) => CERTIFICATE_CODES.has(codeOf(e)));
  if (certificate) return { reason: "refused", message: `TLS certificate not accepted: ${messageOf(certificate)} (${codeOf(certificate)})` };
  const timeout = chain.find((e) => TIMEOUT_CODES.has(codeOf(e)));
  if (timeout) return { reason: "timeout", message: `${messageOf(timeout)} (${codeOf(timeout)})` };
  // The innermost error with a code names the cause best (ECONNREFUSED under undici's wrapper).
  const coded = [...chain].reverse().find((e) => codeOf(e) !== "");
  if (!coded) return { reason: "internal", message: chain[0] ? messageOf(chain[0]) : String(err) };
  const message = messageOf(coded);
  return { reason: "network", message: message.includes(codeOf(coded)) ? message : `${message} (${codeOf(coded)})` };
}
