import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** Remove every directory tempDir() made in this process (test/support/setup.ts, after a file's tests). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A mount point a failed test left mounted: nothing more to do here.
    }
  }
}
// Scripts outside vitest (benchmarks) end with a normal exit.
process.once("exit", removeTempDirs);

/**
 * A fresh directory under the system's temp dir (or `parent`: sshd refuses a
 * chroot below the world-writable /tmp), removed after the test file (or the
 * process) ends.
 */
export function tempDir(prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `vap-${prefix}-`));
  made.push(dir);
  return dir;
}
