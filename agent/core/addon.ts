/**
 * Loading one of vap's native addons (binding.gyp targets, built by
 * node-gyp on `npm install` into <package root>/build/Release).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root holds build/Release. Code runs from agent/… under
 * vitest and from dist/agent/… after a build, so the root is found by
 * walking up to package.json rather than by a fixed relative path.
 */
function packageRoot(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${name}: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The addon `name` (a binding.gyp target_name), typed by the caller. */
export function loadAddon<T>(name: string): T {
  const path = join(packageRoot(name), "build", "Release", `${name}.node`);
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (err) {
    // The usual cause on a fresh Pi or container: no compiler at npm install.
    throw new Error(`${name} addon not loadable from ${path}; run \`npm install\` (needs g++, make, python3): ${(err as Error).message}`, { cause: err });
  }
}
