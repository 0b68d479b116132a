// `bun run test`: the whole suite (SQLite always, PostgreSQL too when TEST_DATABASE_URL is set),
// ending with one line of counts: "N passed, N failed".
import { existsSync } from "node:fs";

// The browser tests drive Debian's chromium. On a fresh Debian machine where we are root, install
// it (as .ci/run does) so this one command runs everything; elsewhere say what is missing.
if (!existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium")) {
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    process.stderr.write("Installing Debian's chromium for the browser tests (apt-get)…\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = Bun.spawnSync(["apt-get", "update", "-qq"], { env, stdout: "ignore", stderr: "inherit" });
    const install = update.exitCode === 0 ? Bun.spawnSync(["apt-get", "install", "-y", "-qq", "chromium"], { env, stdout: "ignore", stderr: "inherit" }) : update;
    if (install.exitCode !== 0) process.stderr.write("Could not install chromium; the browser tests will fail.\n");
  } else {
    process.stderr.write("Browser tests need Debian's chromium (apt-get install -y chromium) or CHROMIUM_PATH.\n");
  }
}

// bunfig.toml says 30 s too; said here as well so a run from anywhere gets it (a busy 2-core machine needs it).
const child = Bun.spawn(["bun", "test", "--timeout", "30000", ...process.argv.slice(2)], { stdout: "pipe", stderr: "pipe", env: process.env });
let passed = 0;
let failed = 0;
async function pump(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    out.write(chunk);
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const pass = line.match(/^\s*(\d+) pass$/);
      const fail = line.match(/^\s*(\d+) fail$/);
      if (pass) passed = Number(pass[1]);
      if (fail) failed = Number(fail[1]);
    }
  }
}
await Promise.all([pump(child.stdout, process.stdout), pump(child.stderr, process.stderr)]);
const code = await child.exited;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
