/** `vap secret hash`: a hash the AP config's console section takes and the console checks; the secret itself never printed. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isSecretHash, verifySecret } from "../../agent/core/index.js";
import { VAP_BIN } from "../support/cli.js";

const hash = (input: string) => spawnSync(process.execPath, [VAP_BIN, "secret", "hash"], { input, encoding: "utf8" });

describe("vap secret hash", () => {
  it("prints the scrypt hash of stdin's first line, which verifies that secret and no other", async () => {
    const r = hash("Branch-7 secret\nignored\n");
    expect(r.status, r.stderr).toBe(0);
    const printed = r.stdout.trim();
    expect(isSecretHash(printed)).toBe(true);
    expect(r.stdout).not.toContain("Branch-7");
    expect(await verifySecret("Branch-7 secret", printed)).toBe(true);
    expect(await verifySecret("Branch-7 secreT", printed)).toBe(false);
  });

  it("an empty secret is one line, exit 2", () => {
    const r = hash("\n");
    expect([r.status, r.stdout, r.stderr]).toEqual([2, "", "vap secret hash: the secret is empty\n"]);
  });
});
