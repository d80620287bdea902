/** The operator interface's limits and defaults, once. */
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The longest request line the control socket reads: a command is a few words, anything longer is not one. */
export const MAX_REQUEST_BYTES = 4096;

/** How long `vap controller exec` waits for the controller's answer. */
export const EXEC_TIMEOUT_MS = 10_000;

/** The prompt of the interactive exec, as a 9800's privileged EXEC prompt (the controller's name, then `#`). */
export const promptOf = (controllerName: string): string => `${controllerName}#`;

/** Where a controller on `address` listens for operator commands unless --control-socket says otherwise. */
export function defaultControlSocket(address: string): string {
  return join(tmpdir(), `vap-controller-${address}.sock`);
}
