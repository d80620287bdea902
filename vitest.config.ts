import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Interop tests start real peers (tshark, openssl, tftpd); give them room
    // but never hide a hang: every test still has a finite timeout.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Removes each file's temp dirs after its tests (forked workers end without an exit event).
    setupFiles: ["test/support/setup.ts"],
  },
});
