/** `vap lab`: the lab controller and N APs on loopback, each AP's console, a summary at the end. */
export { Lab, summaryTable, type LabOptions, type LabApRow } from "./lab.js";
export { labCommand } from "./command.js";
