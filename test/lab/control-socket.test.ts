/**
 * The controller's control socket (lab/controller/operator): a unix socket
 * only its owner may use, gone when the controller stops; a dead
 * controller's socket is replaced, a live one's is an error; requests
 * it cannot read get an answer, not a crash.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, ManualClock, silentLog } from "../../agent/core/index.js";
import { MemoryNetwork } from "../../agent/net/index.js";
import { LabController } from "../../lab/controller/index.js";
import { ControlClient, ControlSocket, MAX_REQUEST_BYTES, NoControllerError, operatorContext } from "../../lab/controller/operator/index.js";
import { tempDir } from "../support/temp.js";

const opened: ControlSocket[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function listen(path: string): Promise<ControlSocket> {
  const socket = await ControlSocket.listen(path, silentLog);
  opened.push(socket);
  return socket;
}

/** What the socket answers to raw bytes, until it closes the connection or a line arrives. */
function raw(path: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const s = connect(path, () => s.write(bytes));
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      got += d;
      if (got.endsWith("\n")) {
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", reject);
    s.on("close", () => resolve(got));
  });
}

describe("the control socket", () => {
  it("is its owner's only (0600), answers once served, and is gone when closed", async () => {
    const path = join(tempDir("control"), "c.sock");
    const socket = await listen(path);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const client = await ControlClient.connect(path);
    try {
      expect(await client.ask("show ap summary")).toEqual({ ok: false, text: "% The controller is still starting\n", prompt: "#" });
      const network = new MemoryNetwork(new ManualClock(), 1);
      const controller = LabController.listen({ address: "10.0.0.1", profile: "cisco", dtls: "plaintext", name: "wlc-1" }, (a, p) => network.bind(a, p));
      socket.serve(operatorContext(controller, { clock: new ManualClock() }));
      expect(await client.ask("sh ap sum")).toMatchObject({ ok: true, prompt: "wlc-1#" });
      expect((await client.ask("sh ap sum")).text).toMatch(/^Number of APs: 0\n/);
      expect(await client.ask("sh ap sx", 6)).toEqual({ ok: false, text: `${" ".repeat(12)}^\n% Invalid input detected at '^' marker.\n`, prompt: "wlc-1#" });
      await controller.shutdown();
    } finally {
      client.close();
    }
    await socket.close();
    expect(existsSync(path)).toBe(false);
  });

  it("replaces the socket a dead controller left; refuses the path of a live one, and a file that is no socket", async () => {
    const dir = tempDir("control");
    const stale = join(dir, "stale.sock");
    // Bound and never listened on, by a process now gone: what a controller killed with -9 leaves.
    execFileSync("python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", stale]);
    expect(statSync(stale).isSocket()).toBe(true);
    await listen(stale);
    const replaced = await ControlClient.connect(stale);
    expect((await replaced.ask("sh ap sum")).text).toBe("% The controller is still starting\n");
    replaced.close();

    await expect(ControlSocket.listen(stale, silentLog)).rejects.toThrow(new ConfigError(`--control-socket ${stale}: another controller is listening there`));
    expect(statSync(stale).isSocket()).toBe(true);

    const file = join(dir, "notes.txt");
    writeFileSync(file, "keep me");
    await expect(ControlSocket.listen(file, silentLog)).rejects.toThrow(new ConfigError(`--control-socket ${file}: exists and is not a socket`));
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  it("answers a request it cannot read with one line, and ends a connection that sends an endless one", async () => {
    const path = join(tempDir("control"), "c.sock");
    await listen(path);
    expect(JSON.parse(await raw(path, "show ap summary\n"))).toEqual({ ok: false, text: "% Bad request: not JSON\n", prompt: "#" });
    expect(JSON.parse(await raw(path, '{"command": 7}\n')).text).toBe('% Bad request: expected {"command": string, "indent"?: number}\n');
    expect(JSON.parse(await raw(path, '{"command": "sh ap sum", "indent": -1}\n')).ok).toBe(false);
    expect(JSON.parse(await raw(path, "x".repeat(MAX_REQUEST_BYTES + 1))).text).toBe(`% Bad request: longer than ${MAX_REQUEST_BYTES} bytes\n`);
  });

  it("a client finds no controller where none listens: NoControllerError naming the path and why", async () => {
    const path = join(tempDir("control"), "none.sock");
    await expect(ControlClient.connect(path)).rejects.toThrow(new NoControllerError(path, "ENOENT"));
  });
});
