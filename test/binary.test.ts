import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Builds with the same `bun build` command as `bun run build`, but into a temp folder so it never
// races with a build in dist/. It does not regenerate the embedded migrations (CI checks those).
const ROOT = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "mgw-binary-"));
const binary = join(work, "mcp-gateway");

function buildCommand(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.build!;
  const step = script.split("&&").map((s) => s.trim()).find((s) => s.startsWith("bun build "));
  if (!step?.includes("--outfile dist/mcp-gateway")) throw new Error(`unexpected build script: ${script}`);
  return step.replace("--outfile dist/mcp-gateway", `--outfile ${binary}`).split(/\s+/).slice(1);
}

async function run(args: string[], cwd: string, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([binary, ...args], {
    cwd,
    env: { PATH: "/usr/bin:/bin", HOME: cwd },
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe("the compiled binary", () => {
  beforeAll(async () => {
    const build = Bun.spawn([process.execPath, ...buildCommand()], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([build.exited, new Response(build.stderr).text()]);
    if (code !== 0) throw new Error(`build failed: ${stderr}`);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("a headless install from an empty folder: setup, a key, serve, and the key works", async () => {
    const folder = join(work, "empty");
    mkdirSync(folder);
    expect((await run(["--help"], folder)).stdout).toContain("keys create --email E --name N");

    const setup = await run(["setup", "--email", "ops@example.com", "--password-stdin"], folder, "a long enough password\n");
    expect(setup.code).toBe(0);
    const keys = await run(["keys", "create", "--email", "ops@example.com", "--name", "agent"], folder);
    expect(keys.stdout).toMatch(/^mgw_[a-z0-9]{32}\n$/);
    // DATA_DIR unset: ./data, with the database and a private key file.
    expect(existsSync(join(folder, "data", "gateway.db"))).toBe(true);
    expect(statSync(join(folder, "data", "encryption.key")).mode & 0o777).toBe(0o600);

    const child = Bun.spawn([binary], { cwd: folder, env: { PATH: "/usr/bin:/bin", PORT: "0" }, stdout: "pipe", stderr: "pipe" });
    try {
      const reader = child.stdout.getReader();
      let seen = "";
      let url: string | undefined;
      while (!url) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`exited: ${seen}`);
        seen += new TextDecoder().decode(value);
        url = seen.match(/"listen":"(http:\/\/[^"]+)"/)?.[1];
      }
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const home = await fetch(`${url}/`, { redirect: "manual" });
      expect(home.status).toBe(303);
      expect(home.headers.get("location")).toBe("/sign-in");
      const signIn = await fetch(`${url}/sign-in`);
      expect(signIn.status).toBe(200);
      expect(await signIn.text()).toContain("/assets/htmx.min.js");
      const htmx = await fetch(`${url}/assets/htmx.min.js`);
      expect(htmx.status).toBe(200);
      expect(await htmx.text()).toBe(readFileSync(join(ROOT, "node_modules/htmx.org/dist/htmx.min.js"), "utf8"));
      const css = await fetch(`${url}/assets/app.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toBe(readFileSync(join(ROOT, "public/app.css"), "utf8"));
      const api = await fetch(`${url}/api/v1/keys`, { headers: { authorization: `Bearer ${keys.stdout.trim()}` } });
      expect(api.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    }
  });
});
