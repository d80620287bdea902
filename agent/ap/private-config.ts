/**
 * What the console sets on the AP itself (a real AP's private-config):
 * `capwap ap hostname` and `capwap ap primary-base`, kept in the state
 * directory across reloads and restarts, on top of the config file; `clear
 * capwap private-config` / `capwap ap erase all` forget it.
 */
import { join } from "node:path";
import type { ApConfig, ControllerAddress } from "../config/index.js";
import { mkdir, readFile, rm } from "node:fs/promises";
import { describeError, type Log, writeFileDurably } from "../core/index.js";

export interface PrivateConfig {
  hostname?: string;
  primaryBase?: { name: string; address: string };
}

const FILE = "private-config.json";

export const privateConfigPath = (stateDir: string) => join(stateDir, FILE);

/** The kept private config; an unreadable one is logged and ignored (the config file's values hold). */
export async function loadPrivateConfig(stateDir: string, log: Log): Promise<PrivateConfig> {
  let text: string;
  try {
    text = await readFile(privateConfigPath(stateDir), "utf8");
  } catch {
    return {};
  }
  try {
    const raw = JSON.parse(text) as PrivateConfig;
    const config: PrivateConfig = {};
    if (typeof raw.hostname === "string") config.hostname = raw.hostname;
    if (typeof raw.primaryBase?.name === "string" && typeof raw.primaryBase.address === "string") config.primaryBase = { name: raw.primaryBase.name, address: raw.primaryBase.address };
    return config;
  } catch (err) {
    log.warn(`${privateConfigPath(stateDir)}: ignored, not valid JSON: ${describeError(err)}`);
    return {};
  }
}

export async function savePrivateConfig(stateDir: string, config: PrivateConfig): Promise<void> {
  if (config.hostname === undefined && config.primaryBase === undefined) await rm(privateConfigPath(stateDir), { force: true });
  else {
    await mkdir(stateDir, { recursive: true });
    await writeFileDurably(privateConfigPath(stateDir), JSON.stringify(config), { mode: 0o600 });
  }
}

/** The config file's settings with the private config on top: its name, and its primary controller tried first. */
export function withPrivateConfig(base: ApConfig, p: PrivateConfig): ApConfig {
  const primary: ControllerAddress[] = p.primaryBase ? [{ address: p.primaryBase.address, port: 5246, name: p.primaryBase.name }] : [];
  return {
    ...base,
    identity: { ...base.identity, name: p.hostname ?? base.identity.name },
    controllers: [...primary, ...base.controllers.filter((c) => c.address !== p.primaryBase?.address)],
  };
}
