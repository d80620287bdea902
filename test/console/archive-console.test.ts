/**
 * `archive download-sw` typed on a real AP's console, its image from vap's
 * TFTP server serving the lab's bundle: /no-reload sets up the other
 * partition (BOOT flips, the AP keeps running), `reload` boots it; Ctrl-C
 * in the middle of a download ABORTs it with the partitions as they were.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTftpServer, type TftpServer } from "../../agent/transfer/index.js";
import type { Lab } from "../../lab/lab/index.js";
import { oneApLab, Screen } from "./support.js";

const VERSION = "17.12.1.5";
let lab: Lab | undefined;
let tftp: TftpServer | undefined;
afterEach(async () => {
  await tftp?.close();
  await lab?.stop();
  [lab, tftp] = [undefined, undefined];
});

/** The lab's AP in Run, and vap's TFTP server on the lab's bundle: the URL of the AP's class image. */
async function labWithTftp(imageSize?: number) {
  const started = await oneApLab(VERSION, imageSize === undefined ? {} : { imageSize });
  lab = started.lab;
  tftp = await startTftpServer({ root: join(lab.dir, "bundle"), address: "127.0.0.1", port: 0 });
  return { ap: started.ap, url: `tftp://127.0.0.1:${tftp.local.port}/ap1g8` };
}

const bootOf = (text: string) => /BOOT path-list:\s+(part\d)/.exec(text)?.[1];

describe("archive download-sw on the console", () => {
  it("/no-reload flips BOOT and keeps running; reload boots the other partition", async () => {
    const { ap, url } = await labWithTftp();
    const screen = new Screen(ap.console, { login: false, privileged: true });
    expect(bootOf(await screen.output("show boot"))).toBe("part2");
    const shown = await screen.output(`archive download-sw /no-reload ${url}`);
    for (const line of ["Successfully setup AP image.", "Image download completed.", "Archive done."]) expect(shown).toContain(`${line}\n`);
    expect(shown).toMatch(/#{50} 100\.0%/);
    expect(bootOf(await screen.output("show boot"))).toBe("part1");
    expect(ap.engine!.state).toMatchObject({ active: "part2", boot: "part1" });
    expect(ap.reloads).toBe(0);

    await screen.type("reload");
    await screen.type("");
    await lab!.waitFor(() => ap.reloads === 1 && ap.wtp.state === "Run", 60_000, () => `reloads ${ap.reloads}, state ${ap.wtp.state}`);
    expect(ap.engine!.state).toMatchObject({ active: "part1", boot: "part1", running: VERSION });
    const again = new Screen(ap.console, { login: false, privileged: true });
    expect(bootOf(await again.output("show boot"))).toBe("part1");
  }, 90_000);

  it("Ctrl-C in the middle of a download: Image download failed., ABORT, the partitions and BOOT as they were", async () => {
    const { ap, url } = await labWithTftp(64 * 1024 * 1024);
    const before = ap.engine!.state;
    const screen = new Screen(ap.console, { login: false, privileged: true });
    const start = screen.text.length;
    const typed = screen.session.input(`archive download-sw /no-reload ${url}`);
    await lab!.waitFor(() => /#/.test(screen.text.slice(start)), 30_000, () => `no progress: ${screen.text.slice(start)}`);
    screen.session.interrupt();
    await typed;
    const shown = screen.text.slice(start);
    expect(shown).toContain("Image download failed.\n");
    expect(shown).not.toContain("Successfully setup AP image.");
    expect(ap.engine!.state).toEqual(before);
    expect(readdirSync(ap.engine!.flash.tmpDir)).toEqual([]);
    expect(screen.session.prompt).toBe(`${ap.console.name}#`);
  }, 90_000);
});
