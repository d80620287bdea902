import { imageCommands } from "../../images/command.js";
import { controllerCommand } from "../../lab/controller/command.js";
import { labCommand } from "../../lab/lab/command.js";
import { pkiInitCommand } from "../../lab/pki/command.js";
import { wanCommand } from "../../lab/wan/index.js";
import { runCommand } from "../ap/run-command.js";
import { capwapDecodeCommand } from "../capwap/decode-command.js";
import { flashCommands } from "../upgrade/index.js";
import type { Command } from "./command.js";

/** Every `vap` subcommand, in the order `vap --help` lists them. */
export const commands: readonly Command[] = [labCommand, runCommand, controllerCommand, wanCommand, ...imageCommands, ...flashCommands, capwapDecodeCommand, pkiInitCommand];
