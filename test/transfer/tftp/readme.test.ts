/**
 * README's "Serve and fetch images by TFTP", typed in order in an empty
 * folder by sh: the lines are read from README.md, so the section and this
 * test cannot drift apart. Only the port changes (a free one instead of
 * 6969) and `npx vap` is the built CLI.
 */
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { BUILT_VAP, readmeCommands } from "../../support/readme.js";
import { tempDir } from "../../support/temp.js";
import { freeUdpPort } from "./support.js";

it("README's TFTP commands work typed in order from an empty folder", async () => {
  const lines = readmeCommands("Serve and fetch images by TFTP");
  expect(lines.some((l) => l.startsWith("npx vap tftp serve"))).toBe(true);
  const port = String(await freeUdpPort());
  // One shell, so `&` and `kill %1` work as typed; the server gets a moment to bind before the fetch.
  const script = ["set -e", ...lines.map((l) => l.replaceAll("6969", port).replaceAll("npx vap", BUILT_VAP).replace(/&$/, "& sleep 1"))].join("\n");
  const out = execFileSync("bash", ["-c", script], { cwd: tempDir("tftp-readme"), encoding: "utf8", timeout: 60_000 });
  expect(out).toMatch(/fetch: tftp:\/\/127\.0\.0\.1:\d+\/ap1g8 -> ap1g8, 5000000 bytes in/);
});
