import { describe, expect, test } from "bun:test";
import { DEFAULT_TASK_ROUTE_MS, MAX_TASK_ROUTE_MS, MAX_TASK_ROUTES, TaskRoutes } from "./task-routes.ts";

const alice = { workspaceId: "w1", holder: "key-a" };
const target = { connectionId: "c1", memberId: null, upstreamTaskId: "1" };

describe("TaskRoutes", () => {
  test("a task id routes for the caller that created it only: another key or workspace gets what an unknown id gets", () => {
    const routes = new TaskRoutes(() => 0);
    const id = routes.add(alice, target, 60_000);
    expect(routes.find(alice, id)).toMatchObject(target);
    expect(routes.find({ ...alice, holder: "key-b" }, id)).toBeNull();
    expect(routes.find({ ...alice, workspaceId: "w2" }, id)).toBeNull();
    expect(routes.find(alice, "mgwtask_unknown")).toBeNull();
    expect(routes.list({ ...alice, holder: "key-b" }, 50)).toEqual([]);
  });

  test("two upstreams numbering their tasks alike get different ids, listed newest first", () => {
    const routes = new TaskRoutes(() => 0);
    const first = routes.add(alice, target, null);
    const second = routes.add(alice, { ...target, connectionId: "c2" }, null);
    expect(first).not.toBe(second);
    expect(routes.list(alice, 50).map((r) => r.id)).toEqual([second, first]);
    expect(routes.list(alice, 1).map((r) => r.id)).toEqual([second]);
  });

  test("a route ends with the task's ttl, an hour without one, a day at most", () => {
    let now = 0;
    const routes = new TaskRoutes(() => now);
    const short = routes.add(alice, target, 1000);
    const unset = routes.add(alice, target, undefined);
    const huge = routes.add(alice, target, 10 * MAX_TASK_ROUTE_MS);
    now = 1000;
    expect(routes.find(alice, short)).toBeNull();
    now = DEFAULT_TASK_ROUTE_MS;
    expect(routes.find(alice, unset)).toBeNull();
    expect(routes.find(alice, huge)).not.toBeNull();
    now = MAX_TASK_ROUTE_MS;
    expect(routes.find(alice, huge)).toBeNull();
  });

  test("past the bound the oldest route is forgotten", () => {
    const routes = new TaskRoutes(() => 0);
    const oldest = routes.add(alice, target, null);
    for (let i = 1; i < MAX_TASK_ROUTES; i++) routes.add(alice, target, null);
    const newest = routes.add(alice, target, null);
    expect(routes.find(alice, oldest)).toBeNull();
    expect(routes.find(alice, newest)).not.toBeNull();
  });
});
