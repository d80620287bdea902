/**
 * Run by oob-rig.ts inside the "wlc" namespace (not a benchmark itself): the
 * controller's HTTPS upgrade method as `vap controller --upgrade-method
 * https` starts it (startHttpsMethod: the embedded server or nginx, a token
 * key of its own) over the bundle. Its one argument is an OobServerRequest
 * (JSON). Once it listens it prints one JSON line: the offer of each image to
 * the AP — the URL and token the controller's session sends over CAPWAP.
 * When its stdin ends it closes the server (nginx stops, its files go).
 */
import { readFileSync } from "node:fs";
import { silentLog } from "../../agent/core/index.js";
import { startHttpsMethod } from "../../lab/controller/index.js";
import type { OobServerRequest } from "./oob-rig.js";

const r = JSON.parse(process.argv[2]!) as OobServerRequest;
const method = await startHttpsMethod({
  server: r.kind,
  port: 0,
  bundleDir: r.bundleDir,
  address: r.address,
  cert: readFileSync(r.certFile, "utf8"),
  key: readFileSync(r.keyFile, "utf8"),
  log: silentLog,
  workDir: r.workDir,
});
const { offer } = method.offers();
process.stdout.write(`${JSON.stringify(Object.fromEntries(r.images.map((image) => [image, offer({ ap: r.ap.mac, address: r.ap.address, image })])))}\n`);
process.stdin.resume();
process.stdin.once("end", () => void method.close());
