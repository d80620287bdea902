/**
 * The embedded OOB file server (the default): Node's https, serving
 * `/images/<class>` from the bundle to a client whose token verifies.
 * Checks in nginx's order, so both servers answer a request alike: the
 * method (405), the token (401/403), then the file (404, 416, 200, 206).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { ConfigError, describeError } from "../../../agent/core/index.js";
import { type Backend, type BackendContext, bindError, closingAll, listen } from "./backend.js";
import { answer, requestTarget, serveFile, type Tally } from "./serve.js";
import { canonicalAddress } from "./tokens.js";

export async function startEmbedded(ctx: BackendContext): Promise<Backend> {
  const { o } = ctx;
  let server: Server;
  try {
    server = createServer({ cert: ctx.tls.cert, key: ctx.tls.key }, (req, res) => void handle(ctx, req, res).catch(() => res.destroy()));
  } catch (err) {
    // OpenSSL's reason ("no start line", "key values mismatch"), never the PEM itself.
    throw new ConfigError(`OOB HTTPS certificate chain or key unusable: ${describeError(err)}`, { cause: err });
  }
  // A stalled transfer holds its connection open until close().
  const close = closingAll(server);
  try {
    await listen(server, { host: o.address, port: o.port, exclusive: true }, o.log);
  } catch (err) {
    throw bindError(o.address, o.port, err);
  }
  return { port: (server.address() as { port: number }).port, close };
}

async function handle(ctx: BackendContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = ctx.o.clock.now();
  const address = canonicalAddress(req.socket.remoteAddress ?? "");
  const target = requestTarget(req.url ?? "");
  const tally: Tally = { bytes: 0, length: 0 };
  let ap: string | undefined;
  res.once("close", () =>
    ctx.report({
      ...(ap !== undefined ? { ap } : {}),
      address,
      file: target.file,
      bytes: tally.bytes,
      // Milliseconds, as nginx logs them.
      seconds: Math.round(ctx.o.clock.now() - started) / 1000,
      status: res.statusCode,
      complete: res.writableFinished && tally.bytes === tally.length,
      method: "HTTPS",
    }),
  );
  if ("status" in target) return answer(res, target.status, tally);
  if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, tally, { Allow: "GET, HEAD" });
  const verdict = ctx.authorize(req.headers.authorization, address, target.image);
  if (!verdict.ok) return answer(res, verdict.status, tally, verdict.status === 401 ? { "WWW-Authenticate": "Bearer" } : {});
  ap = verdict.claims.ap;
  if (ctx.o.fault === "404") return answer(res, 404, tally);
  await serveFile(req, res, join(ctx.o.bundleDir, target.image), ctx.o.fault, tally);
}
