// The reference server @modelcontextprotocol/server-everything, in its own
// Node process, over streamable HTTP (it speaks 2025-11-25 only).

export interface EverythingServer {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  stop(): Promise<void>;
}

const READY_WITHIN_MS = 15_000;

export async function startEverything(): Promise<EverythingServer> {
  const entry = Bun.resolveSync("@modelcontextprotocol/server-everything/dist/index.js", import.meta.dir);
  const port = findFreePort();
  const child = Bun.spawn(["node", entry, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdout: "ignore", // it logs every request there
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  async function stop(): Promise<void> {
    child.kill();
    await child.exited;
  }
  try {
    await waitUntilAnswering(url, child);
  } catch (error) {
    await stop();
    const stderr = await new Response(child.stderr).text();
    throw new Error(`server-everything did not start on port ${port}: ${String(error)}\n${stderr}`);
  }
  return { url, stop };
}

/** A port that was free a moment ago; the child binds it soon after. */
function findFreePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = Number(probe.url.port);
  probe.stop(true);
  return port;
}

async function waitUntilAnswering(url: string, child: { exitCode: number | null }): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    // Any HTTP answer (a GET without a session is a 400) means it is listening.
    const answered = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await Bun.sleep(50);
  }
  throw new Error(`no answer within ${READY_WITHIN_MS} ms`);
}
