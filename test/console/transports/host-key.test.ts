import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import ssh2 from "ssh2";
import { hostKeyPath, loadHostKey } from "../../../agent/console/transports/index.js";
import { tempDir } from "../../support/temp.js";

const dir = tempDir("host-keys");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the AP's SSH host key", () => {
  it("every key made is one ssh2's server takes: 2,000 fresh state dirs (ssh2 itself writes about 1 ed25519 key in 230 malformed)", () => {
    for (let i = 0; i < 2000; i++) {
      const path = hostKeyPath(join(dir, `ap${i}`));
      const key = loadHostKey(path);
      expect(() => new ssh2.Server({ hostKeys: [key] }), `key ${i}:\n${key}`).not.toThrow();
      expect(readFileSync(path, "utf8")).toBe(key);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
  }, 60_000);
});
