/** The controller's operator commands (IOS XE words, over a local control socket): the interpreter, the socket, `vap controller exec`. */
export { operatorCommand } from "./commands.js";
export { type Answer, type CaretPlace, IOS_MESSAGES } from "../../../agent/console/index.js";
export { operatorContext, type OperatorContext, type ControllerView, type HttpsMethodView, ciscoMac, ciscoDuration } from "./views.js";
export { ControlSocket, ControlClient, NoControllerError, type WireAnswer } from "./control-socket.js";
export { controllerExecCommand } from "./exec-command.js";
export { defaultControlSocket, MAX_REQUEST_BYTES, EXEC_TIMEOUT_MS } from "./limits.js";
