/** The AP console (SPEC.md §6): the IOS grammar, the interpreter and its commands over a ConsoleHost, and the seam its transports meet. */
export type { ApConsole, ConsoleOpenOptions, ConsoleSession, ConsoleTerminal } from "./types.js";
export { type Answer, type CaretPlace, type Node, IOS_MESSAGES, interpret, resolve, commandList, caretError } from "./grammar.js";
export { applyFilter, splitFilter, type OutputFilter } from "./filters.js";
export type { ConsoleHost, ConsoleLine, CapwapView } from "./host.js";
export { createApConsole } from "./console.js";
export { DEBUG_TOPICS, type DebugTopic } from "./shell.js";
export { LOG_RING_LINES, FACTORY_LOGIN, RELOAD_CONFIRM, MAX_LINE_CHARS } from "./limits.js";
export { type ArchiveRequest, type ArchiveContext, type ArchiveResult, archiveDownload } from "./archive.js";
export { secretHashCommand } from "./secret-command.js";
