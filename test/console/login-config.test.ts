/**
 * The console's login in the AP config (`console:` username, password,
 * enableSecret): scrypt hashes only, the secret itself refused without ever
 * being quoted back; hashes verify what they were made from and nothing else.
 */
import { describe, expect, it } from "vitest";
import { parseApConfig } from "../../agent/config/index.js";
import { ConfigError, hashSecret, isSecretHash, verifySecret } from "../../agent/core/index.js";

const minimal = { baseMac: "00:11:22:33:44:55", controllers: [{ address: "192.0.2.1" }], dtls: { mode: "plaintext" } };

describe("console login settings", () => {
  it("absent: the factory login applies (nothing configured)", () => {
    expect(parseApConfig(minimal, "ap.yaml").console).toEqual({});
  });

  it("takes a username and scrypt hashes", async () => {
    const password = hashSecret("pa ss");
    const enableSecret = hashSecret("en");
    const c = parseApConfig({ ...minimal, console: { username: "ops", password, enableSecret } }, "ap.yaml");
    expect(c.console).toEqual({ username: "ops", password, enableSecret });
    expect(password).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifySecret("pa ss", password)).toBe(true);
    expect(await verifySecret("pa ss ", password)).toBe(false);
    expect(await verifySecret("en", password)).toBe(false);
    expect(hashSecret("pa ss")).not.toBe(password);
  });

  it.each([
    ["the password itself", { password: "Cisco123" }, "console.password: expected a scrypt hash"],
    ["a number", { enableSecret: 123456 }, "console.enableSecret: expected a scrypt hash"],
    ["a damaged hash", { password: "$scrypt$ln=14,r=8,p=1$short$x" }, "console.password: expected a scrypt hash"],
    ["an absurd cost", { password: hashSecret("x").replace("ln=14", "ln=40") }, "console.password: expected a scrypt hash"],
    ["an unknown field", { secret: "x" }, "console.secret: unknown setting"],
  ])("refuses %s in one line that never quotes the value", (_what, console, message) => {
    const parse = () => parseApConfig({ ...minimal, console }, "ap.yaml");
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
    try {
      parse();
    } catch (err) {
      const text = (err as Error).message;
      expect(text.split("\n")).toHaveLength(1);
      expect(text).not.toContain("Cisco123");
      expect(text).not.toContain("123456");
    }
  });

  it("a malformed hash verifies nothing", async () => {
    expect(isSecretHash("Cisco")).toBe(false);
    expect(await verifySecret("Cisco", "Cisco")).toBe(false);
  });
});
