/**
 * Run by oob-rig.ts inside the "ap" namespace, once per download (not a
 * benchmark itself): the AP's out-of-band source, OobImageSource, as
 * startAp wires it — the controller's CA its only trust, the AP's own
 * address, the default stall timeout — fetching into a sink that only hashes
 * (sink storage: no disk). The CAPWAP session it asks for the offer stands
 * in for the joined controller: it answers at once with what the
 * controller's session sends (Image Information's size and MD5, the URL and
 * the token), so the time is the HTTPS download's, from the request to the
 * sink's finish, not a CAPWAP round trip. Reads an OobApRequest (JSON) on
 * stdin, prints an OobApResult.
 */
import { readFileSync } from "node:fs";
import { fromHex, MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Message } from "../../agent/capwap/profiles/index.js";
import type { CapwapSession } from "../../agent/capwap/wtp/index.js";
import { OOB_DEFAULTS } from "../../agent/config/index.js";
import { silentLog, systemClock } from "../../agent/core/index.js";
import { OobImageSource } from "../../agent/transfer/index.js";
import { HashSink } from "../support/memory-images.js";
import type { OobApRequest, OobApResult } from "./oob-rig.js";

const r = JSON.parse(readFileSync(0, "utf8")) as OobApRequest;
const offer: Message = {
  type: MessageType.ImageDataResponse,
  seq: 0,
  elements: [
    { kind: "ResultCode", resultCode: ResultCode.Success },
    { kind: "ImageInformation", fileSize: r.size, hash: fromHex(r.md5) },
    { kind: "OobImageOffer", url: r.url, token: r.token },
  ],
};
const session: CapwapSession = { profile: ciscoProfile, log: silentLog, request: async () => offer, respond: () => {}, onImageData: () => {} };
const source = new OobImageSource(session, { mode: "join", version: "17.12.1.5", controllerAddress: new URL(r.url).hostname, window: 1 }, {
  ca: readFileSync(r.caFile, "utf8"),
  stallTimeoutMs: OOB_DEFAULTS.stallTimeoutMs,
  clock: systemClock,
  localAddress: r.localAddress,
});
const sink = new HashSink();
const started = performance.now();
await source.fetch({ name: r.image }, sink, { signal: new AbortController().signal });
const ms = performance.now() - started;
const result: OobApResult = { ms, bytes: sink.finished!.bytes, sha256: sink.finished!.sha256 };
process.stdout.write(`${JSON.stringify(result)}\n`);
