export { VapError, PeerError, ConfigError, UsageError, describeError } from "./errors.js";
export { systemClock, ManualClock, type Clock, type TimerHandle } from "./clock.js";
export { DueHeap, type Due } from "./heap.js";
export { seededRandom, systemRandom, type Random } from "./random.js";
export { failpoint } from "./failpoint.js";
export { allocateBytes, equalBytes } from "./bytes.js";
export { createLog, silentLog, ciscoTimestamp, type Log, type LogFields, type ConsoleSink, type LogOptions } from "./log.js";
export { serial, type Serial } from "./serial.js";
export { createDurableFile, readOperatorFile, writeAll, writeFileDurably, type DurableFile } from "./files.js";
