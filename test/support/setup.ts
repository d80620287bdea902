/**
 * Runs in every test file's worker before its tests (vitest setupFiles).
 * vitest ends its forked workers without Node's "exit" event, so what a file
 * made with tempDir() or namespacePair() is removed after its last test
 * here, not at exit.
 */
import { afterAll } from "vitest";
import { removeNamespaces } from "./netns.js";
import { removeTempDirs, tempDir } from "./temp.js";

// Every AP console socket a test starts (vap run, vap lab, and the CLIs it spawns, which inherit the
// environment) lives in this file's own runtime directory, removed with its temp dirs, never in /tmp/vap-<uid>.
process.env.VAP_RUNTIME_DIR = tempDir("runtime");

afterAll(removeTempDirs);
afterAll(removeNamespaces);
