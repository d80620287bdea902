/**
 * Site tags and their flex profiles, as a 9800 configures them: a site tag
 * groups APs (by wired MAC) and names a flex profile; a flex profile with
 * `predownload` on makes its site "efficient" — one primary per model
 * fetches the image from the controller, the rest from it. An AP in no
 * site tag is in `default-site-tag`, which is never efficient.
 * `--site-tags FILE` is YAML: site-tag name → { flex-profile: { predownload,
 * tries }, aps: [mac, …] }.
 */
import { parse as parseYaml } from "yaml";
import { PRIMARY_TRIES } from "../../../agent/capwap/profiles/index.js";
import { Fields } from "../../../agent/config/index.js";
import { ConfigError, readOperatorFile } from "../../../agent/core/index.js";

/** The tag of every AP no site tag names (a 9800's default, never efficient). */
export const DEFAULT_SITE_TAG = "default-site-tag";

export interface FlexProfile {
  /** Efficient image upgrade: APs of a model predownload from one primary AP of the site. */
  readonly predownload: boolean;
  /** How often a subordinate tries its primary before it falls back to the controller (PRIMARY_TRIES). */
  readonly tries?: number;
}

export interface SiteTag {
  readonly name: string;
  readonly flexProfile: FlexProfile;
  /** The base (wired) MACs of its APs, aa:bb:cc:dd:ee:ff. */
  readonly aps: readonly string[];
}

/** The tries a site's subordinates get: its flex profile's, or Cisco's default. */
export const triesOf = (tag: SiteTag | undefined): number => tag?.flexProfile.tries ?? PRIMARY_TRIES.default;

/** Whether a site predownloads efficiently (a known site tag whose flex profile has predownload on). */
export const isEfficient = (tag: SiteTag | undefined): tag is SiteTag => tag !== undefined && tag.flexProfile.predownload;

/** A MAC in any of the usual spellings (0011.2233.4455, 00-11-…), as aa:bb:cc:dd:ee:ff; undefined when it is none. */
export function normalMac(mac: string): string | undefined {
  const hex = mac.replace(/[.:-]/g, "").toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex.match(/../g)!.join(":") : undefined;
}

/** The site tag of each AP by base MAC; APs in none are in DEFAULT_SITE_TAG. */
export function siteTagIndex(tags: readonly SiteTag[]): (baseMac: string | undefined) => string {
  const byMac = new Map(tags.flatMap((t) => t.aps.map((mac) => [mac, t.name] as const)));
  return (baseMac) => (baseMac === undefined ? undefined : byMac.get(normalMac(baseMac) ?? baseMac)) ?? DEFAULT_SITE_TAG;
}

/** Site tags from a parsed YAML/JSON document; anything wrong is one ConfigError line naming `source` and the field. */
export function parseSiteTags(raw: unknown, source: string): SiteTag[] {
  const root = Fields.root(source, raw);
  const owner = new Map<string, string>();
  return Object.keys(raw as Record<string, unknown>).map((name) => {
    if (name === DEFAULT_SITE_TAG) root.fail(name, `is every untagged AP's site tag (never efficient): name the site otherwise`);
    const site = root.object(name);
    site.only("flex-profile", "aps");
    const profile = site.object("flex-profile");
    profile.only("predownload", "tries");
    const flexProfile: FlexProfile = {
      predownload: profile.boolean("predownload", false),
      tries: profile.integer("tries", PRIMARY_TRIES.default, PRIMARY_TRIES.min, PRIMARY_TRIES.max),
    };
    const listed: unknown = (raw as Record<string, Record<string, unknown> | null>)[name]?.aps ?? [];
    if (!Array.isArray(listed)) return site.fail("aps", "expected a list of MAC addresses");
    const aps = listed.map((item: unknown, i: number): string => {
      const mac = typeof item === "string" ? normalMac(item) : undefined;
      if (mac === undefined) return site.fail(`aps[${i}]`, `${JSON.stringify(item)} is not a MAC address`);
      const other = owner.get(mac);
      if (other !== undefined) site.fail(`aps[${i}]`, `${mac} is already in site tag ${other}`);
      owner.set(mac, name);
      return mac;
    });
    return { name, flexProfile, aps };
  });
}

/** `--site-tags FILE`: read and parse it. */
export function loadSiteTags(file: string): SiteTag[] {
  const text = readOperatorFile(file, "--site-tags");
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    // The yaml package's first line names the problem and its place; the rest quotes the file.
    throw new ConfigError(`--site-tags ${file}: not valid YAML: ${(err as Error).message.split("\n", 1)[0]!.replace(/:\s*$/, "")}`);
  }
  return parseSiteTags(raw, `--site-tags ${file}`);
}
