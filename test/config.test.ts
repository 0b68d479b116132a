import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";

describe("configuration", () => {
  test("defaults start the gateway on SQLite in ./data at port 8787", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.port).toBe(8787);
    expect(result.config.database.kind).toBe("sqlite");
    expect(result.config.baseUrl).toBe("http://127.0.0.1:8787");
    expect(result.config.dataDir.endsWith("/data")).toBe(true);
  });

  test("every bad setting is listed at once", () => {
    const result = loadConfig({
      PORT: "abc",
      BASE_URL: "ftp://x",
      DATABASE_URL: "mysql://db",
      GATEWAY_ENCRYPTION_KEY: "short",
      LOG_LEVEL: "loud",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join("\n");
    expect(result.errors.length).toBe(5);
    expect(text).toContain("PORT");
    expect(text).toContain("BASE_URL");
    expect(text).toContain("DATABASE_URL");
    expect(text).toContain("GATEWAY_ENCRYPTION_KEY");
    expect(text).toContain("LOG_LEVEL");
  });

  test("the fast relay is on unless FAST_RELAY=off, and any other value says what it may be", () => {
    const byDefault = loadConfig({});
    expect(byDefault.ok && byDefault.config.fastRelay).toBe(true);
    const off = loadConfig({ FAST_RELAY: " OFF " });
    expect(off.ok && off.config.fastRelay).toBe(false);
    const wrong = loadConfig({ FAST_RELAY: "fast" });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.errors).toEqual(['FAST_RELAY must be "on" or "off", got "fast"']);
  });

  test("a postgres URL selects PostgreSQL; a path selects SQLite", () => {
    const pg = loadConfig({ DATABASE_URL: "postgres://u@h:5432/db" });
    expect(pg.ok && pg.config.database).toEqual({ kind: "postgres", url: "postgres://u@h:5432/db" });
    const file = loadConfig({ DATABASE_URL: "/tmp/x.db" });
    expect(file.ok && file.config.database).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
  });
});
