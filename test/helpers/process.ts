import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

export type GatewayProcess = {
  url: string;
  child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
};

/**
 * The real gateway process (`bun src/main.ts serve`) on a free port, with only the given
 * environment. Resolves once it prints its dashboard URL. Its output is read continuously, so a
 * chatty gateway never blocks on a full pipe.
 */
export async function spawnGateway(env: Record<string, string>, options: { startTimeoutMs?: number } = {}): Promise<GatewayProcess> {
  const child = Bun.spawn([process.execPath, "src/main.ts", "serve"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", PORT: "0", HOST: "127.0.0.1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let seen = "";
  let announce: (url: string) => void = () => undefined;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const pump = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      seen += decoder.decode(value, { stream: true });
      const match = seen.match(/Dashboard: (http:\/\/\S+?)\/\n/);
      if (match?.[1]) announce(match[1]);
    }
  };
  void pump(child.stdout).catch(() => undefined);
  void pump(child.stderr).catch(() => undefined);
  const timeout = Bun.sleep(options.startTimeoutMs ?? 15_000).then(() => "timeout" as const);
  const outcome = await Promise.race([announced, child.exited.then(() => "exited" as const), timeout]);
  if (outcome === "exited" || outcome === "timeout") {
    child.kill("SIGKILL");
    throw new Error(`the gateway did not start (${outcome}):\n${seen}`);
  }
  return { url: outcome, child, output: () => seen };
}
