import { choiceFlag, classFlag, cliLog, type Command, type CommandIo, onePositional, parseOptions } from "../command-kit/index.js";
import { ConfigError, readOperatorFile } from "../core/index.js";
import { hardwareClasses } from "../../platform/classes/index.js";
import { UpgradeEngine } from "./engine.js";
import type { UpgradeEngineOptions } from "./types.js";
import { showImageLines } from "./show.js";

const COMMON = "--state DIR --class ap1g8 --trust CA.pem [--policy required|structure-only] [--storage flash|sink]";

async function engineOptions(argv: string[], io: CommandIo, extra: Record<string, { type: "boolean" }> = {}) {
  const parsed = parseOptions(argv, {
    state: { type: "string" },
    class: { type: "string" },
    trust: { type: "string" },
    policy: { type: "string", default: "required" },
    storage: { type: "string", default: "flash" },
    ...extra,
  });
  const v = parsed.values as Record<string, string | boolean | undefined>;
  for (const f of ["state", "class", "trust"]) if (!v[f]) throw new ConfigError(`--${f} is required`);
  const options: UpgradeEngineOptions = {
    stateDir: String(v.state),
    hardwareClass: hardwareClasses[classFlag("class", String(v.class))],
    storage: choiceFlag("storage", String(v.storage), ["flash", "sink"]),
    trust: readOperatorFile(String(v.trust), "--trust"),
    policy: choiceFlag("policy", String(v.policy), ["required", "structure-only"]),
    log: cliLog(io, false),
  };
  return { options, positionals: parsed.positionals, values: v };
}

export const flashCommands: readonly Command[] = [
  {
    path: ["flash", "install"],
    summary: "factory-install a signed image into an AP's flash",
    usage: `FILE ${COMMON}\n  Verifies FILE and installs it into the standby partition (part2 of an empty flash), which BOOT then names.`,
    async run(argv, io) {
      const { options, positionals } = await engineOptions(argv, io);
      const file = onePositional(positionals, `flash install FILE ${COMMON}`);
      const image = await UpgradeEngine.provision(options, file);
      io.stdout(`installed ${image.family} ${image.version}\n`);
      return 0;
    },
  },
  {
    path: ["flash", "upgrade"],
    summary: "upgrade an AP's flash from an image file (PRECHECK, PREDOWNLOAD, ACTIVATE)",
    usage: `FILE ${COMMON} [--no-activate]\n  Runs upgrade.sh's phases on FILE as if it had been downloaded: the active partition is never written.`,
    async run(argv, io) {
      const { options, positionals, values } = await engineOptions(argv, io, { "no-activate": { type: "boolean" } });
      const file = onePositional(positionals, `flash upgrade FILE ${COMMON}`);
      const engine = await UpgradeEngine.boot(options);
      try {
        await engine.precheck();
        await engine.flash.stageImageFile(file);
        await engine.predownload();
        if (!values["no-activate"]) await engine.activate();
      } catch (err) {
        await engine.abort((err as Error).message);
        throw err;
      } finally {
        await engine.close();
      }
      return 0;
    },
  },
  {
    path: ["flash", "show"],
    summary: "verify an AP's flash and show its images (writes nothing)",
    usage: COMMON,
    async run(argv, io) {
      const { options } = await engineOptions(argv, io);
      io.stdout(`${showImageLines(await UpgradeEngine.inspect(options)).join("\n")}\n`);
      return 0;
    },
  },
];
