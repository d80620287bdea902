/**
 * What every `vap` command is built from, at the bottom of the layers so
 * that each capability can contribute its own commands without importing
 * upward: the Command shape, flag parsing that fails as one-line
 * ConfigErrors, and the console a long-running command logs to.
 */
export { type Command, type CommandIo } from "./command.js";
export { CommandLineError, parseOptions, integerFlag, choiceFlag, noPositionals, onePositional, classFlag, classListFlag } from "./args.js";
export { cliConsole, cliLog, listenForStop, type StopListener, untilSignal } from "./console.js";
export { readSecret, type SecretInput } from "./secret.js";
