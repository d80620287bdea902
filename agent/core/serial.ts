/**
 * One step at a time: each call runs after the ones queued before it have
 * settled, whether they succeeded or not — the way upgrade.sh holds a lock,
 * so an ABORT never runs in the middle of an install.
 */
export type Serial = <T>(step: () => Promise<T>) => Promise<T>;

export function serial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(step: () => Promise<T>): Promise<T> => {
    const done = tail.then(step, step);
    tail = done.catch(() => undefined);
    return done;
  };
}
