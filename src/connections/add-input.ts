import type { AuthInput } from "./auth-kinds/registry.ts";
import type { FieldErrors } from "./checks.ts";
import type { Exposure } from "./exposure.ts";
import type { SyncReport } from "./sync.ts";
import type { ToolDefinition } from "./tool-defs.ts";
import type { ConnectionRow } from "./types.ts";

/** What Add server, the catalog and the API add a connection with, and what comes back. */

export type Sharing = "shared" | "per_member";
export type AddConnectionInput = {
  name: string;
  url: string;
  auth: AuthInput;
  callTimeoutMs?: number | null;
  catalogId?: string | null;
  sharing?: Sharing;
  /** "all" exposes every tool at once; otherwise (the default) none until an admin picks. */
  expose?: Exposure;
};

export type AddConnectionResult =
  | { ok: true; connection: ConnectionRow; tools: ToolDefinition[]; report: SyncReport }
  /** `suggestAuth`: the server showed how it signs in (its OAuth metadata); the form offers that. */
  | { ok: false; errors: FieldErrors; suggestAuth?: "oauth" };
