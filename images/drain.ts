/** The subset of a streamx Writable (tar-stream's pack entries and extractor) that backpressure needs. */
interface Drainable {
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/** Resolve when a tar-stream writable wants more, or has closed (the caller checks `destroyed`). */
export function drained(stream: Drainable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });
}
