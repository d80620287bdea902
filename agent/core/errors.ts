/**
 * Every error vap raises on purpose is a VapError with a stable `code`.
 * Subclasses say whose fault it is (after matter.js): the peer sent bad data,
 * the operator wrote bad config, or the caller misused an API. Anything else
 * escaping a component is a bug.
 */
export class VapError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The remote side (controller, AP, server, image) sent something invalid. */
export class PeerError extends VapError {}

/** Configuration or command-line input is invalid. */
export class ConfigError extends VapError {
  constructor(message: string, options?: ErrorOptions) {
    super("VAP_CONFIG", message, options);
  }
}

/** An API was called in a way its contract forbids (a bug in the caller). */
export class UsageError extends VapError {
  constructor(message: string, options?: ErrorOptions) {
    super("VAP_USAGE", message, options);
  }
}

/** One line naming what went wrong, for logs and the console. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n", 1)[0] ?? err.name;
  return String(err);
}
