/**
 * Efficient image upgrade, the AP's side end to end: real APs (WTP, sources,
 * engine, flash) in the lab over real UDP and DTLS, ordered by hand with the
 * controller's Configuration Update: a primary downloads from the controller
 * and serves, a subordinate fetches from it, one whose primary holds no image
 * retries and falls back to the controller; ImageSwap activates without a
 * reload, and is refused for an image the AP does not hold.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ResultCode } from "../../agent/capwap/codec/index.js";
import { EfficientRole, type Element } from "../../agent/capwap/profiles/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import { Lab } from "../../lab/lab/index.js";
import { startTftpServer } from "../../agent/transfer/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { tempDir } from "../support/temp.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";

let lab: Lab | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await lab?.stop();
  lab = undefined;
});

const order = (role: number, at: Endpoint, tries: number): Element[] => [
  { kind: "PredownloadOrder", version: NEW },
  { kind: "EfficientUpgrade", role, tries, primaryAddress: at.address, primaryPort: at.port },
];

describe("efficient image upgrade on real APs", () => {
  it("primary serves, subordinate fetches from it; a subordinate whose primary holds no image retries, then falls back; swap without a reload", async () => {
    const lines: string[] = [];
    const address = await freeLoopbackAddress();
    lab = await Lab.start({
      aps: 3,
      profile: "cisco",
      address,
      apVersion: OLD,
      controllerVersion: OLD,
      bundleVersion: NEW,
      console: (l) => lines.push(l),
      apConfig: { efficientUpgrade: { tftpPort: 0, retryBackoff: { min: "20ms", max: "40ms" } } },
    });
    await lab.waitFor((l) => l.allInRun(), 30_000, () => "not in Run");
    const [primary, subordinate, orphan] = lab.aps as [(typeof lab.aps)[0], (typeof lab.aps)[0], (typeof lab.aps)[0]];

    expect(await lab.controller.configurationUpdate(primary.wtp.name, order(EfficientRole.Primary, { address: "0.0.0.0", port: 0 }, 44))).toBe(ResultCode.Success);
    await lab.waitFor(() => primary.primaryServer !== undefined && lines.some((l) => l.includes("Efficient image upgrade: serving ap1g8")), 30_000, () => "the primary does not serve");
    const served = primary.primaryServer!.local;
    expect(primary.engine!.pending?.version).toBe(NEW);
    expect(lines.some((l) => l.includes(`fileName [ap1g8], replicaStatus 0`))).toBe(true);

    expect(await lab.controller.configurationUpdate(subordinate.wtp.name, order(EfficientRole.Subordinate, served, 44))).toBe(ResultCode.Success);
    await lab.waitFor(() => subordinate.engine!.pending?.version === NEW, 30_000, () => "the subordinate has no image");
    expect(lines.some((l) => l.includes(`Image Data Request sent to ${served.address}:${served.port}, fileName [ap1g8], replicaStatus 1`))).toBe(true);
    expect(primary.primaryServer!.peakTransfers).toBe(1);

    // This subordinate's "primary" holds no image (a TFTP server answering not found): two tries, then the controller.
    const empty = await startTftpServer({ root: tempDir("empty-primary"), address: served.address, port: 0 });
    cleanups.push(() => empty.close());
    const gone = empty.local;
    expect(await lab.controller.configurationUpdate(orphan.wtp.name, order(EfficientRole.Subordinate, gone, 2))).toBe(ResultCode.Success);
    await lab.waitFor(() => orphan.engine!.pending?.version === NEW, 60_000, () => "the orphan has no image");
    const at = `${gone.address}:${gone.port}`;
    expect(lines.filter((l) => l.includes(`Efficient image upgrade: primary ${at} failed (`) && l.includes("try 1 of 2, next in"))).toHaveLength(1);
    expect(lines.some((l) => l.includes(`Efficient image upgrade: primary ${at} failed 2 tries (last: `) && l.endsWith("falling back to the controller"))).toBe(true);
    expect(lab.controller.aps().find((a) => a.name === orphan.wtp.name)?.download).toMatchObject({ state: "complete" });

    expect(await lab.controller.configurationUpdate(subordinate.wtp.name, [{ kind: "ImageSwap", version: "17.99.1.1" }])).toBe(ResultCode.ConfigurationFailureServiceNotProvided);
    const standby = subordinate.engine!.standby;
    expect(await lab.controller.configurationUpdate(subordinate.wtp.name, [{ kind: "ImageSwap", version: NEW }])).toBe(ResultCode.Success);
    expect(subordinate.engine!.state).toMatchObject({ running: OLD, boot: standby });
    expect(subordinate.reloads).toBe(0);
  }, 120_000);
});
