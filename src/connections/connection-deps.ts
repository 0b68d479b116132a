import type { AppDeps } from "../deps.ts";

/** What the connection services use of the app: the database and keyring, the pool they drop clients from, the index they mark changed. */
export type ConnectionDeps = Pick<AppDeps, "database" | "keyring" | "config" | "log" | "pool" | "toolIndex">;
