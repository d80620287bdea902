import { isIP } from "node:net";
import { choiceFlag, type Command, integerFlag, onePositional, parseOptions } from "../command-kit/index.js";
import { ConfigError } from "../core/index.js";
import { DEFAULT_PKI_KEY_TYPE, initPki, PKI_KEY_TYPES, type PkiKeyType, type PkiOptions } from "./pki.js";

const USAGE = `DIR [--key-type ecdsa|rsa] [--aps N] [--model C9120AXI] [--base-mac 02:00:00:00:00:01]
           [--controller NAME] [--controller-ip 127.0.0.1[,IP…]] [--days 3650] [--force]
  Writes DIR/ca.pem+key, DIR/controller.pem+key and DIR/ap/<model>-<mac>.pem+key
  (certificates carry their chain; keys are mode 0600). The controller's
  certificate names its --controller-ip addresses, which APs check when they
  download images from its HTTPS server (vap controller --upgrade-method https). Keys are ECDSA P-256
  unless --key-type rsa (RSA-2048, what Cisco controllers and APs carry, and
  what TLS_RSA_WITH_AES_128_CBC_SHA, RFC 5415's mandatory suite, needs);
  --rsa is short for --key-type rsa.`;

/** A comma-separated list of IP addresses. */
function ipListFlag(flag: string, value: string): string[] {
  const list = value.split(",").map((a) => a.trim());
  const bad = list.find((a) => isIP(a) === 0);
  if (bad !== undefined) throw new ConfigError(`--${flag}: "${bad}" is not an IP address`);
  return list;
}

/** --key-type, or its short form --rsa; both at once must agree. */
function keyTypeFlag(keyType: string | undefined, rsa: boolean): PkiKeyType {
  if (keyType === undefined) return rsa ? "rsa" : DEFAULT_PKI_KEY_TYPE;
  const type = choiceFlag("key-type", keyType, PKI_KEY_TYPES);
  if (rsa && type !== "rsa") throw new ConfigError(`--rsa contradicts --key-type ${type}`);
  return type;
}

export const pkiInitCommand: Command = {
  path: ["pki", "init"],
  summary: "create a lab CA, controller and AP certificates",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, {
      "key-type": { type: "string" },
      rsa: { type: "boolean" },
      aps: { type: "string" },
      model: { type: "string" },
      "base-mac": { type: "string" },
      controller: { type: "string" },
      "controller-ip": { type: "string" },
      days: { type: "string" },
      force: { type: "boolean" },
    });
    const dir = onePositional(positionals, `pki init ${USAGE}`);
    const options: PkiOptions = { keyType: keyTypeFlag(values["key-type"], values.rsa ?? false), force: values.force ?? false };
    if (values.aps !== undefined) options.aps = integerFlag("aps", values.aps, 0, 10_000);
    if (values.days !== undefined) options.days = integerFlag("days", values.days, 1);
    if (values.model !== undefined) options.model = values.model;
    if (values["base-mac"] !== undefined) options.baseMac = values["base-mac"];
    if (values.controller !== undefined) options.controllerName = values.controller;
    if (values["controller-ip"] !== undefined) options.controllerAddresses = ipListFlag("controller-ip", values["controller-ip"]);
    const files = initPki(dir, options);
    const lines = [files.caCert, files.caKey, files.controllerCert, files.controllerKey, ...files.aps.flatMap((a) => [a.cert, a.key])];
    io.stdout(lines.map((l) => `wrote ${l}\n`).join(""));
    return 0;
  },
};
