import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/client";
import { seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient } from "./helpers/client.ts";
import { HUGE_LIST_BYTES, startListBombUpstream, type ListBombUpstream, type ListMode } from "./helpers/list-bomb-upstream.ts";
import { MAX_TOOL_LIST_PAGES, MAX_TOOLS_PER_CONNECTION } from "../src/connections/sync.ts";
import { text } from "./helpers/results.ts";

type Status = { status: string; statusDetail: string | null };

// A hostile upstream's tool list costs the gateway a bounded number of requests and bytes, and
// ends with a status a person can read; the gateway keeps serving everything else meanwhile.
describe("tool discovery against a hostile tools/list", () => {
  let t: TestGateway;
  let call: ReturnType<typeof api>;
  let client: Client;
  const upstreams: ListBombUpstream[] = [];

  beforeAll(async () => {
    t = await startTestGateway();
    const { key } = await seedOwner(t);
    call = api(t.url, key);
    client = await connectClient(t.url, key);
  });
  afterAll(async () => {
    await client.close();
    await t.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  });

  /** A connection added while the upstream is healthy, then turned hostile. */
  async function addThenTurn(name: string, mode: ListMode): Promise<{ up: ListBombUpstream; id: string }> {
    const up = await startListBombUpstream("ok");
    upstreams.push(up);
    const added = await call("POST", "/api/v1/connections", { name, url: up.url });
    expect(added.status).toBe(201);
    up.mode = mode;
    return { up, id: (added.json.connection as { id: string }).id };
  }

  async function sync(id: string): Promise<{ status: number; json: Record<string, unknown>; connection: Status }> {
    const synced = await call("POST", `/api/v1/connections/${id}/sync`);
    const connection = (await call("GET", `/api/v1/connections/${id}`)).json.connection as Status;
    return { ...synced, connection };
  }

  test(`a list that never ends, with new tools on every page, stops at the ${MAX_TOOLS_PER_CONNECTION}-tool cap: no page is asked for after it`, async () => {
    const { up, id } = await addThenTurn("endless", "endless-new");
    const before = up.listRequests;
    const synced = await sync(id);
    expect(synced.status).toBe(200);
    expect((synced.json.report as { total: number }).total).toBe(MAX_TOOLS_PER_CONNECTION);
    expect(up.listRequests - before).toBe(MAX_TOOLS_PER_CONNECTION / 50);
    expect(synced.connection.status).toBe("connected");
  });

  test(`empty pages with a fresh cursor forever: discovery gives up after ${MAX_TOOL_LIST_PAGES} pages and the connection says why`, async () => {
    const { up, id } = await addThenTurn("pager", "endless-empty");
    const before = up.listRequests;
    const synced = await sync(id);
    expect(synced.status).toBe(502);
    expect(up.listRequests - before).toBe(MAX_TOOL_LIST_PAGES);
    expect(synced.connection).toMatchObject({
      status: "error",
      statusDetail: `the server's tool list did not end after ${MAX_TOOL_LIST_PAGES} pages; the gateway stopped asking`,
    });
  });

  for (const mode of ["huge-json", "huge-sse"] as const) {
    test(`one 50 MB tools/list answer (${mode === "huge-sse" ? "an event stream" : "JSON"}) is cut off at the byte budget; the connection shows it; the gateway keeps serving`, async () => {
      const steady = await addThenTurn(`steady-${mode.slice(5)}`, "ok");
      const { up, id } = await addThenTurn(mode, mode);
      const synced = await sync(id);
      expect(synced.status).toBe(502);
      expect(synced.connection).toMatchObject({ status: "error", statusDetail: "the upstream answer was larger than 16 MiB and was cut off" });
      // The upstream wrote what the budget allowed plus what sat in socket buffers, never all of it.
      expect(up.huge.finished).toBe(false);
      expect(up.huge.written).toBeLessThan(HUGE_LIST_BYTES * 0.6);
      expect(up.huge.cancelled).toBe(true);
      expect(text(await client.callTool({ name: `steady-${mode.slice(5)}__echo`, arguments: { message: "still here" } }))).toBe("still here");
      expect(steady.up.listRequests).toBeGreaterThan(0);
    });
  }
});
