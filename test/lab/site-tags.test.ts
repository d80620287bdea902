/** `--site-tags FILE`: site tags and flex profiles from YAML, each mistake one ConfigError line naming the file and the field. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../agent/core/index.js";
import { DEFAULT_SITE_TAG, loadSiteTags, siteTagIndex } from "../../lab/controller/efficient/index.js";
import { tempDir } from "../support/temp.js";

let dir: string;
beforeEach(() => {
  dir = tempDir("site-tags");
});

const file = (text: string) => {
  const path = join(dir, "sites.yaml");
  writeFileSync(path, text);
  return path;
};

describe("--site-tags FILE", () => {
  it("reads site tags, their flex profiles and APs; an AP in none is in default-site-tag", () => {
    const tags = loadSiteTags(file("branch-1:\n  flex-profile: { predownload: true, tries: 12 }\n  aps: [0200.0000.0001, 02-00-00-00-00-02]\nbranch-2:\n  flex-profile: { predownload: false }\n  aps: ['02:00:00:00:00:03']\nhq:\n"));
    expect(tags).toEqual([
      { name: "branch-1", flexProfile: { predownload: true, tries: 12 }, aps: ["02:00:00:00:00:01", "02:00:00:00:00:02"] },
      { name: "branch-2", flexProfile: { predownload: false, tries: 44 }, aps: ["02:00:00:00:00:03"] },
      { name: "hq", flexProfile: { predownload: false, tries: 44 }, aps: [] },
    ]);
    const siteOf = siteTagIndex(tags);
    expect(siteOf("02:00:00:00:00:02")).toBe("branch-1");
    expect(siteOf("02:00:00:00:00:03")).toBe("branch-2");
    expect(siteOf("02:00:00:00:00:09")).toBe(DEFAULT_SITE_TAG);
    expect(siteOf(undefined)).toBe(DEFAULT_SITE_TAG);
  });

  it.each([
    ["branch-1: [", /not valid YAML: /],
    ["- branch-1", /expected a mapping of settings at the top level$/],
    ["branch-1:\n  flex-profile: { predownload: true, tries: 64 }", /: branch-1\.flex-profile\.tries: expected a whole number from 1 to 63, got 64$/],
    ["branch-1:\n  flex-profile: { predownload: true, tries: 0 }", /: branch-1\.flex-profile\.tries: expected a whole number from 1 to 63, got 0$/],
    ["branch-1:\n  flex-profile: { predownload: yes please }", /: branch-1\.flex-profile\.predownload: expected true or false, got "yes please"$/],
    ["branch-1:\n  flex-profile: { predownlaod: true }", /: branch-1\.flex-profile\.predownlaod: unknown setting \(known: predownload, tries\)$/],
    ["branch-1:\n  aps: [0200.0000.0001, not-a-mac]", /: branch-1\.aps\[1\]: "not-a-mac" is not a MAC address$/],
    ["branch-1:\n  aps: 0200.0000.0001", /: branch-1\.aps: expected a list of MAC addresses$/],
    ["branch-1:\n  ap: []", /: branch-1\.ap: unknown setting \(known: flex-profile, aps\)$/],
    ["a:\n  aps: [0200.0000.0001]\nb:\n  aps: ['02:00:00:00:00:01']", /: b\.aps\[0\]: 02:00:00:00:00:01 is already in site tag a$/],
    ["default-site-tag:\n  flex-profile: { predownload: true }", /: default-site-tag: is every untagged AP's site tag \(never efficient\): name the site otherwise$/],
  ])("refuses %j in one line", (text, message) => {
    const path = file(text);
    let error: unknown;
    try {
      loadSiteTags(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const line = (error as Error).message;
    expect(line).not.toContain("\n");
    expect(line.startsWith(`--site-tags ${path}`)).toBe(true);
    expect(line).toMatch(message);
  });

  it("a file that cannot be read is named", () => {
    expect(() => loadSiteTags(join(dir, "missing.yaml"))).toThrow(`--site-tags: cannot read ${join(dir, "missing.yaml")} (ENOENT)`);
  });
});
