import { and, eq, ne, or } from "drizzle-orm";
import type { Principal } from "../accounts/principal.ts";
import { recordAudit } from "../audit/record.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { checkToolAlias } from "./names.ts";
import { getConnection } from "./queries.ts";
import type { ToolOverride } from "./tool-overrides.ts";

/** As the admin typed them: an empty field clears that part. */
export type OverrideInput = { alias: string; description: string };
export type OverrideErrors = { alias?: string; description?: string };
export type SetOverrideResult = { ok: true; override: ToolOverride } | { ok: false; errors: OverrideErrors } | { ok: false; notFound: true };

/** The cap the gateway puts on an upstream's description (tool-defs.ts), in UTF-8 bytes. */
export const MAX_OVERRIDE_DESCRIPTION_BYTES = 16 * 1024;
// Line breaks and tabs are text; other control characters are not, and Postgres refuses NUL outright.
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) return true;
  }
  return false;
}

/**
 * Sets (or, with both fields empty, clears) the alias and the description agents see for one of a
 * connection's tools, audited in the same transaction. The alias replaces `connection__tool` in
 * every list and call of the workspace endpoint (the tool index applies it); the upstream is still
 * called with its own name.
 */
export async function setToolOverride(deps: ConnectionDeps, principal: Principal, connectionId: string, toolName: string, input: OverrideInput): Promise<SetOverrideResult> {
  const { workspaceId } = principal;
  const connection = await getConnection(deps, workspaceId, connectionId);
  if (!connection) return { ok: false, notFound: true };
  const override = readOverride(input);
  const errors = checkOverride(override);
  if (!errors.alias && override.alias !== null) {
    const taken = await aliasHolder(deps, workspaceId, override.alias, { connectionId, toolName });
    if (taken) errors.alias = takenSentence(override.alias, taken);
  }
  if (errors.alias || errors.description) return { ok: false, errors };
  const { t } = deps.database;
  let written: "missing" | "same" | "written";
  try {
    written = await deps.database.transaction(async (tx) => {
      const own = and(eq(t.toolOverrides.connectionId, connectionId), eq(t.toolOverrides.toolName, toolName));
      const [before] = await tx.select({ alias: t.toolOverrides.alias, description: t.toolOverrides.description }).from(t.toolOverrides).where(own);
      const previous: ToolOverride = before ?? { alias: null, description: null };
      if (previous.alias === override.alias && previous.description === override.description) return "same";
      const cleared = override.alias === null && override.description === null;
      if (cleared) {
        await tx.delete(t.toolOverrides).where(own);
      } else {
        // Only a tool the connection lists now; clearing works for one that is gone too.
        const [tool] = await tx.select({ name: t.tools.name }).from(t.tools).where(and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, toolName)));
        if (!tool) return "missing";
        const row = { alias: override.alias, aliasKey: override.alias?.toLowerCase() ?? null, description: override.description, updatedAt: Date.now(), updatedBy: principal.userId };
        await tx
          .insert(t.toolOverrides)
          .values({ connectionId, workspaceId, toolName, ...row })
          .onConflictDoUpdate({ target: [t.toolOverrides.connectionId, t.toolOverrides.toolName], set: row });
      }
      // The description's text stays out of the trail (up to 16 KiB of it): whether it is set says enough.
      await recordAudit(deps.database, tx, {
        workspaceId,
        action: cleared ? "tool.override_cleared" : "tool.override_set",
        target: `connection:${connectionId}`,
        details: { connection: connection.name, tool: toolName, alias: override.alias, previousAlias: previous.alias, descriptionOverridden: override.description !== null, descriptionChanged: previous.description !== override.description },
      });
      return "written";
    });
  } catch (error) {
    // Two admins racing for one alias: the unique index decides, and the loser hears who has it.
    const taken = override.alias === null ? null : await aliasHolder(deps, workspaceId, override.alias, { connectionId, toolName });
    if (taken && override.alias !== null) return { ok: false, errors: { alias: takenSentence(override.alias, taken) } };
    throw error;
  }
  if (written === "missing") return { ok: false, notFound: true };
  if (written === "written") deps.toolIndex.changed(workspaceId);
  return { ok: true, override };
}

/** The form's fields as stored: trimmed alias, line breaks as `\n`, empty meaning "not set". */
function readOverride(input: OverrideInput): ToolOverride {
  const alias = input.alias.trim();
  const description = input.description.replace(/\r\n?/g, "\n");
  return { alias: alias === "" ? null : alias, description: description.trim() === "" ? null : description };
}

function checkOverride(override: ToolOverride): OverrideErrors {
  const errors: OverrideErrors = {};
  const aliasError = override.alias === null ? null : checkToolAlias(override.alias);
  if (aliasError) errors.alias = aliasError;
  if (override.description !== null) {
    const bytes = new TextEncoder().encode(override.description).length;
    if (bytes > MAX_OVERRIDE_DESCRIPTION_BYTES) {
      errors.description = `A description is at most 16 KiB (${MAX_OVERRIDE_DESCRIPTION_BYTES} bytes of UTF-8); this one has ${bytes}. Shorten it.`;
    } else if (hasControlChar(override.description)) {
      errors.description = "A description cannot contain control characters other than line breaks and tabs. Remove them.";
    }
  }
  return errors;
}

type AliasHolder = { connectionName: string; toolName: string; alias: string };

/** Which other tool of the workspace has this alias already, whatever its case. */
async function aliasHolder(deps: ConnectionDeps, workspaceId: string, alias: string, self: { connectionId: string; toolName: string }): Promise<AliasHolder | null> {
  const { t } = deps.database;
  const [row] = await deps.database.db
    .select({ connectionName: t.connections.name, toolName: t.toolOverrides.toolName, alias: t.toolOverrides.alias })
    .from(t.toolOverrides)
    .innerJoin(t.connections, eq(t.connections.id, t.toolOverrides.connectionId))
    .where(
      and(
        eq(t.toolOverrides.workspaceId, workspaceId),
        eq(t.toolOverrides.aliasKey, alias.toLowerCase()),
        or(ne(t.toolOverrides.connectionId, self.connectionId), ne(t.toolOverrides.toolName, self.toolName)),
      ),
    )
    .limit(1);
  return row && row.alias !== null ? { connectionName: row.connectionName, toolName: row.toolName, alias: row.alias } : null;
}

function takenSentence(alias: string, holder: AliasHolder): string {
  const sameCase = holder.alias === alias ? "" : ` (as "${holder.alias}": aliases are compared without regard to case)`;
  return `"${alias}" is already the alias of ${holder.connectionName}'s tool ${holder.toolName}${sameCase}. Choose another name, or clear that alias first.`;
}
