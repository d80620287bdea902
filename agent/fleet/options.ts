/**
 * `vap fleet`'s settings: from its flags, a YAML config whose keys are the
 * flag names, or both (a flag wins). Every mistake is one ConfigError line.
 */
import { readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { isIPv4 } from "node:net";
import { parse as parseYaml } from "yaml";
import { choiceFlag, classFlag, integerFlag } from "../command-kit/index.js";
import { parseDuration } from "../config/index.js";
import { ConfigError, describeError } from "../core/index.js";
import type { ClassName } from "../../platform/classes/index.js";
import { isSoftwareVersion } from "../../platform/classes/index.js";
import { FLEET_DEFAULTS, MAX_FLEET_APS, MAX_INDEX } from "./limits.js";

export type ProfileName = "cisco" | "rfc5415";

export interface FleetOptions {
  controllers: string[];
  aps: number;
  pki: string;
  /** Each class with its share: AP i's class comes from a weighted round robin (deterministic). */
  classes: { name: ClassName; weight: number }[];
  profile: ProfileName;
  /** Three bytes. */
  macPrefix: number[];
  /** This fleet is shard `shard` of a larger one: AP indexes start at shard × aps. */
  shard: number;
  /** Source addresses the APs bind, in turn (none: each binds any address, its own port). */
  sourceAddresses?: string[];
  rampPerSecond: number;
  jitterMs: number;
  storage: "sink" | "flash";
  stateDir?: string;
  /** Flash storage: a bundle folder (vap image bundle) of factory images by class, installed into each AP's empty flash. */
  factory?: string;
  version: string;
  /** Image-signing root file; undefined: the APs join only (cannot upgrade). */
  imageTrust?: string;
  workers: number;
  /** Where /metrics listens; `given`: the operator named it (a taken port is then an error, not a warning). */
  metrics?: { address: string; port: number; given: boolean };
  until?: "run" | "upgraded";
  timeoutMs?: number;
  holdMs?: number;
  /** The controller's concurrent-download limit, to check the storm against. */
  expectMaxDownloads?: number;
  json: boolean;
}

/** The flags `vap fleet` takes; the same names are the config file's keys. */
export const FLEET_FLAGS = {
  controller: { type: "string" },
  aps: { type: "string" },
  pki: { type: "string" },
  classes: { type: "string" },
  profile: { type: "string" },
  "mac-prefix": { type: "string" },
  shard: { type: "string" },
  "source-addresses": { type: "string" },
  ramp: { type: "string" },
  jitter: { type: "string" },
  storage: { type: "string" },
  state: { type: "string" },
  factory: { type: "string" },
  version: { type: "string" },
  "image-trust": { type: "string" },
  workers: { type: "string" },
  metrics: { type: "string" },
  until: { type: "string" },
  timeout: { type: "string" },
  hold: { type: "string" },
  "expect-max-downloads": { type: "string" },
  json: { type: "boolean" },
  config: { type: "string" },
} as const;

type FlagName = keyof typeof FLEET_FLAGS;
type Values = Partial<Record<FlagName, string | boolean>>;

/** The settings from the parsed flags, over the config file they name (a flag wins). */
export function fleetOptions(flags: Values, host: { cores: number; hostname?: string } = { cores: 1 }): FleetOptions {
  const v: Values = { ...(typeof flags.config === "string" ? readConfig(flags.config) : {}), ...definedOnly(flags) };
  const text = (name: FlagName): string | undefined => (v[name] === undefined ? undefined : String(v[name]));
  const required = (name: FlagName): string => {
    const value = text(name);
    if (value === undefined || value === "") throw new ConfigError(`--${name} is required`);
    return value;
  };
  const aps = integerFlag("aps", required("aps"), 1, MAX_FLEET_APS);
  const controllers = required("controller").split(",").map((a) => a.trim());
  for (const c of controllers) if (c === "") throw new ConfigError(`--controller: an empty address in "${text("controller")}"`);
  const shard = shardFlag(text("shard") ?? "0", host.hostname ?? process.env.HOSTNAME ?? hostname());
  if ((shard + 1) * aps > MAX_INDEX) throw new ConfigError(`--shard ${shard} × --aps ${aps} runs past the ${MAX_INDEX + 1} base MACs a prefix holds`);
  const storage = choiceFlag("storage", text("storage") ?? FLEET_DEFAULTS.storage, ["sink", "flash"]);
  const stateDir = text("state");
  const factory = text("factory");
  if (storage === "flash" && (!stateDir || !factory)) throw new ConfigError("--storage flash needs --state DIR (each AP's partitions live there) and --factory DIR (a bundle of factory images by class, vap image bundle)");
  const version = text("version") ?? FLEET_DEFAULTS.version;
  if (!isSoftwareVersion(version)) throw new ConfigError(`--version: "${version}" is not a version like 17.9.4.27`);
  const workersText = text("workers") ?? "auto";
  const options: FleetOptions = {
    controllers,
    aps,
    pki: required("pki"),
    classes: classMixFlag(text("classes") ?? "ap1g8"),
    profile: choiceFlag("profile", text("profile") ?? FLEET_DEFAULTS.profile, ["cisco", "rfc5415"]),
    macPrefix: macPrefixFlag(text("mac-prefix") ?? FLEET_DEFAULTS.macPrefix),
    shard,
    rampPerSecond: rampFlag(text("ramp")),
    jitterMs: durationFlag("jitter", text("jitter") ?? `${FLEET_DEFAULTS.jitterMs}ms`),
    storage,
    version,
    workers: workersText === "auto" ? Math.max(1, Math.min(host.cores, aps)) : integerFlag("workers", workersText, 1, 64),
    json: v.json === true || v.json === "true",
  };
  if (stateDir) options.stateDir = stateDir;
  if (factory) options.factory = factory;
  const trust = text("image-trust");
  if (trust) options.imageTrust = trust;
  const sources = text("source-addresses");
  if (sources) options.sourceAddresses = sourceAddressesFlag(sources, aps);
  const metrics = text("metrics");
  if (metrics !== "off") options.metrics = { ...listenFlag("metrics", metrics ?? FLEET_DEFAULTS.metrics), given: metrics !== undefined };
  const until = text("until");
  if (until) options.until = choiceFlag("until", until, ["run", "upgraded"] as const);
  const timeout = text("timeout") ?? (until ? FLEET_DEFAULTS.untilTimeout : undefined);
  if (timeout) options.timeoutMs = durationFlag("timeout", timeout);
  const hold = text("hold");
  if (hold) options.holdMs = durationFlag("hold", hold);
  const limit = text("expect-max-downloads");
  if (limit) options.expectMaxDownloads = integerFlag("expect-max-downloads", limit, 1);
  return options;
}

function definedOnly(v: Values): Values {
  return Object.fromEntries(Object.entries(v).filter(([, value]) => value !== undefined)) as Values;
}

/** The config file: a YAML mapping whose keys are flag names; lists become comma lists. */
function readConfig(path: string): Values {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`--config ${path}: ${describeError(err)}`, { cause: err });
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`--config ${path}: expected a mapping of flag names to values`);
  const values: Values = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === "config" || !(key in FLEET_FLAGS)) throw new ConfigError(`--config ${path}: unknown key "${key}" (the keys are vap fleet's flag names: ${Object.keys(FLEET_FLAGS).filter((k) => k !== "config").join(", ")})`);
    if (Array.isArray(value)) values[key as FlagName] = value.map(String).join(",");
    else if (typeof value === "boolean") values[key as FlagName] = value;
    else if (typeof value === "string" || typeof value === "number") values[key as FlagName] = String(value);
    else throw new ConfigError(`--config ${path}: "${key}" must be a value or a list, not ${value === null ? "empty" : "a mapping"}`);
  }
  return values;
}

function durationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(`--${flag}: expected a duration like 500ms, 30s or 10m, got "${value}"`);
  return ms;
}

/** `200/s`, `200` (per second) or `12000/m`. */
function rampFlag(value: string | undefined): number {
  if (value === undefined) return FLEET_DEFAULTS.rampPerSecond;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m))?\s*$/.exec(value);
  const rate = m ? Number(m[1]) / (m[2] === "m" ? 60 : 1) : NaN;
  if (!(rate > 0)) throw new ConfigError(`--ramp: expected APs per second like 200/s (or per minute, 6000/m), got "${value}"`);
  return rate;
}

/** `ap1g8,ap1g7` (equal shares) or `ap1g8:3,ap1g4:1` (weights). */
export function classMixFlag(value: string): { name: ClassName; weight: number }[] {
  return value.split(",").map((part) => {
    const [name, weight] = part.trim().split(":");
    return { name: classFlag("classes", name ?? ""), weight: weight === undefined ? 1 : integerFlag("classes", weight, 1, 1000) };
  });
}

function macPrefixFlag(value: string): number[] {
  const bytes = value.split(/[:.-]/).map((b) => (/^[0-9a-f]{2}$/i.test(b) ? parseInt(b, 16) : NaN));
  if (bytes.length !== 3 || bytes.some(Number.isNaN)) throw new ConfigError(`--mac-prefix: expected three bytes like 02:10:00, got "${value}"`);
  if (bytes[0]! & 1) throw new ConfigError(`--mac-prefix ${value}: a multicast prefix (its first byte is odd) is no AP's MAC`);
  return bytes;
}

/** A shard number, or `auto`: the trailing -N of the host name (a StatefulSet pod vap-fleet-3 is shard 3). */
export function shardFlag(value: string, host: string): number {
  if (value !== "auto") return integerFlag("shard", value, 0, MAX_INDEX);
  const m = /-(\d+)$/.exec(host);
  if (!m) throw new ConfigError(`--shard auto: the host name "${host}" does not end in -<ordinal> (as a StatefulSet pod's does)`);
  return integerFlag("shard", m[1]!, 0, MAX_INDEX);
}

/** `127.1.0.0/16` (the first `aps` host addresses in it) or an interface's IPv4 addresses. */
export function sourceAddressesFlag(value: string, aps: number): string[] {
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(value);
  if (cidr) {
    const bits = Number(cidr[2]);
    if (!isIPv4(cidr[1]!) || bits < 8 || bits > 30) throw new ConfigError(`--source-addresses: "${value}" is not an IPv4 prefix /8 to /30`);
    const base = ipToInt(cidr[1]!) & ~((1 << (32 - bits)) - 1);
    const hosts = 2 ** (32 - bits) - 2;
    return Array.from({ length: Math.min(hosts, aps) }, (_, i) => intToIp((base + 1 + i) >>> 0));
  }
  const addresses = (networkInterfaces()[value] ?? []).filter((a) => a.family === "IPv4").map((a) => a.address);
  if (addresses.length === 0) throw new ConfigError(`--source-addresses: "${value}" is neither an IPv4 prefix like 127.1.0.0/16 nor an interface with IPv4 addresses`);
  return addresses;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, b) => (n << 8) | Number(b), 0) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** `:9464`, `9464` or `ADDR:9464`. */
function listenFlag(flag: string, value: string): { address: string; port: number } {
  const m = /^(?:(.*):)?(\d+)$/.exec(value.trim());
  if (!m) throw new ConfigError(`--${flag}: expected [ADDRESS]:PORT like :9464, got "${value}"`);
  return { address: m[1] || FLEET_DEFAULTS.metricsAddress, port: integerFlag(flag, m[2]!, 0, 65535) };
}
