// `bun run test`: the whole suite (SQLite always, PostgreSQL too when TEST_DATABASE_URL is set),
// ending with one line of counts: "N passed, N failed".
import { existsSync } from "node:fs";

if (!existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium")) {
  process.stderr.write(
    "Browser tests need Debian's chromium (apt-get install -y chromium) or CHROMIUM_PATH; `bash .ci/run` installs it.\n",
  );
}

const child = Bun.spawn(["bun", "test", ...process.argv.slice(2)], { stdout: "pipe", stderr: "pipe", env: process.env });
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
