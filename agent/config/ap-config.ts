/**
 * One AP's configuration (`vap run --config ap.yaml`): identity, controllers,
 * DTLS credentials, vendor profile, timers and where its state lives.
 * Everything is validated up front; defaults are RFC 5415 §4.7's timers.
 */
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, isSecretHash, readOperatorFile } from "../core/index.js";
import { classNames, hardwareClasses, isSoftwareVersion, type HardwareClass } from "../../platform/classes/index.js";
import { Fields } from "./validate.js";

/** RFC 5415 §4.7 timers and §4.8 variables, in milliseconds and counts. */
/** The vendor profiles (agent/capwap/profiles): the standard alone, or Cisco's encodings on top. */
export const PROFILE_NAMES = ["cisco", "rfc5415"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface CapwapTimers {
  discoveryIntervalMs: number;
  maxDiscoveryIntervalMs: number;
  maxDiscoveries: number;
  silentIntervalMs: number;
  echoIntervalMs: number;
  retransmitIntervalMs: number;
  maxRetransmit: number;
  dataChannelKeepAliveMs: number;
  dataChannelDeadIntervalMs: number;
  waitDtlsMs: number;
  waitJoinMs: number;
  changeStatePendingMs: number;
  imageDataStartMs: number;
  statisticsMs: number;
}

export const RFC5415_TIMERS: Readonly<CapwapTimers> = {
  discoveryIntervalMs: 5_000,
  maxDiscoveryIntervalMs: 20_000,
  maxDiscoveries: 10,
  silentIntervalMs: 30_000,
  echoIntervalMs: 30_000,
  retransmitIntervalMs: 3_000,
  maxRetransmit: 5,
  dataChannelKeepAliveMs: 30_000,
  dataChannelDeadIntervalMs: 60_000,
  waitDtlsMs: 60_000,
  waitJoinMs: 60_000,
  changeStatePendingMs: 25_000,
  imageDataStartMs: 30_000,
  statisticsMs: 120_000,
};

/**
 * The largest Image Data window anywhere: what a controller may offer, what
 * an AP may accept, what a receiver buffers ahead. CAPWAP sequence numbers
 * are 8 bits, so a window must stay well below 128 (half the space, where a
 * block starts to look like one from the past). Kept here, the lowest layer
 * that needs it (an AP's maxImageWindow is bounded by it), so the codec, the
 * image transfer and the lab controller all read the same number.
 */
export const MAX_IMAGE_WINDOW = 64;

/**
 * How far past the block it misses a vap AP takes blocks that came early, as
 * a multiple of its accepted window. With a span of one window the
 * controller cannot send past the lost block's window, so every loss stalls
 * the transfer for about a round trip until the resent block's
 * acknowledgement returns; with two windows the controller keeps `window`
 * blocks in flight, new ones beyond the loss, while the lost one goes again.
 */
export const RECEIVE_SPAN_FACTOR = 2;

/**
 * The blocks a vap AP with this accepted window takes past the one it
 * misses, and so the sequence numbers a transfer has in use at once: capped
 * at MAX_IMAGE_WINDOW, so that what is in use stays a quarter of the 8-bit
 * space and a copy from the past (up to MAX_IMAGE_WINDOW blocks behind)
 * never looks like a block ahead. At most RECEIVE_SPAN_FACTOR × window,
 * never less than the window.
 */
export function imageReceiveSpan(window: number): number {
  return Math.min(RECEIVE_SPAN_FACTOR * window, MAX_IMAGE_WINDOW);
}

export interface ControllerAddress {
  address: string;
  port: number;
  /** The AC Name this entry expects (Cisco primary/secondary/tertiary controller). */
  name?: string;
}

export type DtlsCredentials =
  | { mode: "x509"; cert: string; key: string; ca: string; pinnedFingerprint?: string; ciphers?: string; dtls10: boolean }
  | { mode: "psk"; identity: string; key: string; ciphers?: string; dtls10: boolean }
  /** Debugging against ACs built without DTLS only; warns on every start. */
  | { mode: "plaintext" };

export interface ImageSettings {
  /** PEM file of the image-signing roots. */
  trust: string;
  /** `flash`: real partitions in stateDir; `sink`: hashes only (fleets). */
  storage: "flash" | "sink";
  /** `structure-only` skips signature checks (real vendor images in load tests); logged on every use. */
  policy: "required" | "structure-only";
}

/**
 * Out-of-band HTTPS image download (SPEC.md §3): every class vap models is
 * a Wave 2 / Catalyst AP, which has the capability; `enabled: false` makes
 * an AP without it (the controller then never offers HTTPS).
 */
export interface OobSettings {
  enabled: boolean;
  /** Connecting, waiting for headers, or silence inside the body this long fails the HTTPS try, and CAPWAP takes over. */
  stallTimeoutMs: number;
}

/**
 * [inf] How long a real AP waits on a silent HTTPS download before falling
 * back is not public: 10 s is far above a WAN's round trip and TLS handshake,
 * and short enough that a stalled server costs little before CAPWAP starts.
 */
/** The version an AP without image trust reports, and the factory image of the lab's and the fleet's APs. */
export const DEFAULT_AP_VERSION = "17.9.4.27";

export const OOB_DEFAULTS: OobSettings = { enabled: true, stallTimeoutMs: 10_000 };

/**
 * Efficient image upgrade (SPEC.md §3): the TFTP port a primary AP serves its
 * image on to the site's subordinates, and the random pause a subordinate
 * takes between tries at a busy or failed primary.
 */
export interface EfficientUpgradeSettings {
  /** The primary's TFTP server port; 0 lets the kernel choose (labs and tests). */
  tftpPort: number;
  /** A subordinate waits uniformly in [min, max] before its next try at the primary. */
  retryBackoffMs: { min: number; max: number };
}

/**
 * TFTP's well-known port for the primary's server, as on a real AP; [inf] a
 * real subordinate's pause between tries is not public: 1 s to 10 s spreads a
 * site's subordinates over a busy primary's three slots without leaving a
 * freed slot idle for long.
 */
export const EFFICIENT_UPGRADE_DEFAULTS: EfficientUpgradeSettings = { tftpPort: 69, retryBackoffMs: { min: 1_000, max: 10_000 } };

/**
 * The console's login (SPEC.md §6): each secret a scrypt hash
 * (`$scrypt$ln=14,r=8,p=1$…`, agent/core hashSecret), never the secret
 * itself. What is not given stays at the factory default a real unjoined AP
 * has (Cisco / Cisco, enable secret Cisco).
 */
export interface ConsoleLogin {
  username?: string;
  password?: string;
  enableSecret?: string;
}

export interface ApIdentity {
  name: string;
  baseMac: string;
  serial: string;
  /** The class profile (SPEC.md §2): image name, radios, /tmp and flash limits. Resolved here, once; everything after reads it. */
  classProfile: HardwareClass;
  model: string;
  location: string;
  group: string;
}

export interface ApConfig {
  identity: ApIdentity;
  profile: ProfileName;
  controllers: ControllerAddress[];
  discovery: { dnsDomain?: string; broadcast: boolean; bindAddress: string };
  dtls: DtlsCredentials;
  timers: CapwapTimers;
  stateDir: string;
  /**
   * Firmware: where the flash keeps images and whom it trusts to sign them.
   * Without it the AP reports `versions` and cannot upgrade.
   */
  image?: ImageSettings;
  /** The versions an AP without `image` reports. */
  versions: { running: string; backup: string };
  /** Largest sliding window this AP accepts for image download. */
  maxImageWindow: number;
  oob: OobSettings;
  efficientUpgrade: EfficientUpgradeSettings;
  console: ConsoleLogin;
}

/** The Cisco console name of an AP: "AP" + the dotted base MAC (AP0011.2233.4455). */
function ciscoApName(baseMac: string): string {
  const hex = baseMac.replace(/:/g, "").toUpperCase();
  return `AP${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`;
}

export function parseApConfig(raw: unknown, source: string, baseDir = "."): ApConfig {
  const f = Fields.root(source, raw);
  f.only("name", "baseMac", "serial", "class", "model", "location", "group", "profile", "controllers", "discovery", "dtls", "timers", "stateDir", "image", "versions", "maxImageWindow", "oob", "efficientUpgrade", "console");
  const baseMac = f.mac("baseMac");
  const classProfile = hardwareClasses[f.oneOf("class", classNames, "ap1g8")];
  // The lengths are the wire's: Cisco's AP name (32), Board Data serial (16),
  // AP Model (30) and AP group name (32); RFC 5415 Location Data (1024).
  const model = f.ascii("model", classProfile.models[0]!.model, 30);
  const identity: ApIdentity = {
    name: f.string("name", ciscoApName(baseMac), 32),
    baseMac,
    serial: f.ascii("serial", `FOC${baseMac.replace(/:/g, "").slice(4).toUpperCase()}`, 16),
    classProfile,
    model,
    location: f.string("location", "default location", 1024),
    group: f.string("group", "default-group", 32),
  };
  const path = (p: string) => resolve(baseDir, p);

  const controllers = f.list("controllers").map((c) => {
    c.only("address", "port", "name");
    const entry: ControllerAddress = { address: c.ip("address"), port: c.integer("port", 5246, 1, 65535) };
    const name = c.optionalString("name");
    if (name) entry.name = name;
    return entry;
  });
  const d = f.object("discovery");
  d.only("dnsDomain", "broadcast", "bindAddress");
  const discovery = { dnsDomain: d.optionalString("dnsDomain"), broadcast: d.boolean("broadcast", false), bindAddress: d.has("bindAddress") ? d.ip("bindAddress") : "0.0.0.0" };
  if (controllers.length === 0 && !discovery.dnsDomain && !discovery.broadcast) {
    f.fail("controllers", "list at least one controller, or enable discovery.dnsDomain or discovery.broadcast");
  }

  const t = f.object("timers");
  const timerFields = Object.keys(RFC5415_TIMERS) as (keyof CapwapTimers)[];
  const names = timerFields.map((k) => k.replace(/Ms$/, ""));
  t.only(...names);
  const timers = { ...RFC5415_TIMERS };
  for (const k of timerFields) {
    const name = k.replace(/Ms$/, "");
    timers[k] = k.endsWith("Ms") ? t.duration(name, RFC5415_TIMERS[k]) : t.integer(name, RFC5415_TIMERS[k], 1, 1000);
  }

  const v = f.object("versions");
  v.only("running", "backup");
  const versions = { running: v.string("running", DEFAULT_AP_VERSION), backup: v.string("backup", "0.0.0.0") };
  for (const [k, value] of Object.entries(versions)) if (!isSoftwareVersion(value)) v.fail(k, `"${value}" is not a version like 17.9.4.27 (four parts, each 0–255)`);

  let image: ImageSettings | undefined;
  if (f.has("image")) {
    const i = f.object("image");
    i.only("trust", "storage", "policy");
    image = { trust: path(i.string("trust")), storage: i.oneOf("storage", ["flash", "sink"] as const, "flash"), policy: i.oneOf("policy", ["required", "structure-only"] as const, "required") };
  }

  return {
    identity,
    profile: f.oneOf<ProfileName>("profile", PROFILE_NAMES, "cisco"),
    ...(image ? { image } : {}),
    controllers,
    discovery: discovery.dnsDomain ? discovery : { broadcast: discovery.broadcast, bindAddress: discovery.bindAddress },
    dtls: parseDtls(f.object("dtls"), path),
    timers,
    stateDir: path(f.string("stateDir", `state/${identity.name}`)),
    versions,
    maxImageWindow: f.integer("maxImageWindow", 20, 1, MAX_IMAGE_WINDOW),
    oob: parseOob(f.object("oob")),
    efficientUpgrade: parseEfficientUpgrade(f.object("efficientUpgrade")),
    console: parseConsoleLogin(f.object("console")),
  };
}

function parseEfficientUpgrade(e: Fields): EfficientUpgradeSettings {
  e.only("tftpPort", "retryBackoff");
  const defaults = EFFICIENT_UPGRADE_DEFAULTS;
  const b = e.object("retryBackoff");
  b.only("min", "max");
  const retryBackoffMs = { min: b.duration("min", defaults.retryBackoffMs.min), max: b.duration("max", defaults.retryBackoffMs.max) };
  if (retryBackoffMs.min > retryBackoffMs.max) b.fail("max", `${retryBackoffMs.max} ms is below min (${retryBackoffMs.min} ms)`);
  return { tftpPort: e.integer("tftpPort", defaults.tftpPort, 0, 65535), retryBackoffMs };
}

function parseConsoleLogin(c: Fields): ConsoleLogin {
  c.only("username", "password", "enableSecret");
  const login: ConsoleLogin = {};
  if (c.has("username")) login.username = c.ascii("username", undefined, 32);
  for (const field of ["password", "enableSecret"] as const) {
    if (!c.has(field)) continue;
    // The value is never quoted back: it may be the secret itself.
    const hash = c.raw(field);
    if (typeof hash !== "string" || !isSecretHash(hash)) c.fail(field, "expected a scrypt hash ($scrypt$ln=14,r=8,p=1$<salt>$<key>, as hashSecret makes it), not the secret itself");
    login[field] = hash;
  }
  return login;
}

function parseOob(o: Fields): OobSettings {
  o.only("enabled", "stallTimeout");
  return { enabled: o.boolean("enabled", OOB_DEFAULTS.enabled), stallTimeoutMs: o.duration("stallTimeout", OOB_DEFAULTS.stallTimeoutMs) };
}

function parseDtls(d: Fields, path: (p: string) => string): DtlsCredentials {
  d.only("mode", "cert", "key", "ca", "pinnedFingerprint", "identity", "pskKey", "ciphers", "dtls10");
  const mode = d.oneOf("mode", ["x509", "psk", "plaintext"] as const, "x509");
  if (mode === "plaintext") return { mode };
  const ciphers = d.optionalString("ciphers");
  const dtls10 = d.boolean("dtls10", false);
  if (mode === "psk") {
    const key = d.string("pskKey");
    if (!/^([0-9a-fA-F]{2})+$/.test(key)) d.fail("pskKey", "expected the key as hex digits");
    return { mode, identity: d.string("identity"), key, dtls10, ...(ciphers ? { ciphers } : {}) };
  }
  const fingerprint = d.optionalString("pinnedFingerprint");
  return {
    mode,
    cert: path(d.string("cert")),
    key: path(d.string("key")),
    ca: path(d.string("ca")),
    dtls10,
    ...(fingerprint ? { pinnedFingerprint: fingerprint } : {}),
    ...(ciphers ? { ciphers } : {}),
  };
}

/**
 * The yaml package's first line reads "<problem> at line 2, column 1:" and
 * the offending lines follow; one line keeps the problem and its place.
 */
function yamlProblem(err: Error): string {
  return err.message.split("\n", 1)[0]!.replace(/:\s*$/, "");
}

/** Read YAML or JSON (JSON is YAML) from a file. */
export function loadApConfig(file: string): ApConfig {
  const text = readOperatorFile(file);
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML/JSON: ${yamlProblem(err as Error)}`);
  }
  return parseApConfig(raw, file, dirname(resolve(file)));
}
