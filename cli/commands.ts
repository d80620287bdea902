import { runCommand } from "../agent/ap/index.js";
import { capwapDecodeCommand } from "../agent/capwap/decode/index.js";
import { secretHashCommand } from "../agent/console/index.js";
import { consoleCommand } from "../agent/console/transports/index.js";
import type { Command } from "../agent/command-kit/index.js";
import { pkiInitCommand } from "../agent/pki/index.js";
import { fetchCommand, tftpServeCommand } from "../agent/transfer/index.js";
import { fleetCommand } from "../agent/fleet/index.js";
import { flashCommands } from "../agent/upgrade/index.js";
import { imageCommands } from "../images/index.js";
import { controllerCommand, controllerExecCommand } from "../lab/controller/index.js";
import { labCommand } from "../lab/lab/index.js";
import { wanCommand } from "../lab/wan/index.js";

/** Every `vap` subcommand, in the order `vap --help` lists them. */
export const commands: readonly Command[] = [labCommand, runCommand, consoleCommand, secretHashCommand, controllerCommand, controllerExecCommand, fleetCommand, wanCommand, ...imageCommands, ...flashCommands, capwapDecodeCommand, pkiInitCommand, tftpServeCommand, fetchCommand];
