import { imageCommands } from "../../images/command.js";
import { pkiInitCommand } from "../../lab/pki/command.js";
import { capwapDecodeCommand } from "../capwap/decode-command.js";
import type { Command } from "./command.js";

/** Every `vap` subcommand, in the order `vap --help` lists them. */
export const commands: readonly Command[] = [capwapDecodeCommand, pkiInitCommand, ...imageCommands];
