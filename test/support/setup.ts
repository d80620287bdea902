/**
 * Runs in every test file's worker before its tests (vitest setupFiles).
 * vitest ends its forked workers without Node's "exit" event, so what a file
 * made with tempDir() or namespacePair() is removed after its last test
 * here, not at exit.
 */
import { afterAll } from "vitest";
import { removeNamespaces } from "./netns.js";
import { removeTempDirs } from "./temp.js";

afterAll(removeTempDirs);
afterAll(removeNamespaces);
