import { and, eq, isNull, ne, or } from "drizzle-orm";
import type { Principal } from "../accounts/principal.ts";
import { recordAudit } from "../audit/record.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { checkToolAlias } from "./names.ts";
import { getConnection } from "./queries.ts";
import type { ToolOverride } from "./tool-overrides.ts";

/** As the admin typed them: an empty field clears that part. */
export type OverrideInput = { alias: string; description: string };
export type OverrideErrors = { alias?: string; description?: string };
/** `displaced`: the tool, no longer listed by its upstream, whose kept alias this one took. */
export type SetOverrideResult = { ok: true; override: ToolOverride; displaced?: { connectionName: string; toolName: string } } | { ok: false; errors: OverrideErrors } | { ok: false; notFound: true };

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
  let displaced: AliasHolder | null = null;
  if (!errors.alias && override.alias !== null) {
    displaced = await aliasHolder(deps, workspaceId, override.alias, { connectionId, toolName });
    // A tool its upstream stopped listing keeps its alias for when it returns, but yields it to an
    // admin who gives the alias to another tool: otherwise nobody could free it (its row is not shown).
    if (displaced?.listed) errors.alias = takenSentence(override.alias, displaced);
  }
  if (errors.alias || errors.description) return { ok: false, errors };
  const { t } = deps.database;
  let written: "missing" | "same" | "written" | "taken";
  try {
    written = await deps.database.transaction(async (tx) => {
      const own = and(eq(t.toolOverrides.connectionId, connectionId), eq(t.toolOverrides.toolName, toolName));
      const [before] = await tx.select({ alias: t.toolOverrides.alias, description: t.toolOverrides.description }).from(t.toolOverrides).where(own);
      const previous: ToolOverride = before ?? { alias: null, description: null };
      if (previous.alias === override.alias && previous.description === override.description) return "same";
      const cleared = override.alias === null && override.description === null;
      if (displaced) {
        // Its tool may have come back since: then the alias is its own again.
        const [back] = await tx.select({ name: t.tools.name }).from(t.tools).where(and(eq(t.tools.connectionId, displaced.connectionId), eq(t.tools.name, displaced.toolName)));
        if (back) return "taken";
        const theirs = and(eq(t.toolOverrides.connectionId, displaced.connectionId), eq(t.toolOverrides.toolName, displaced.toolName));
        await tx.update(t.toolOverrides).set({ alias: null, aliasKey: null, updatedAt: Date.now(), updatedBy: principal.userId }).where(theirs);
        await tx.delete(t.toolOverrides).where(and(theirs, isNull(t.toolOverrides.description)));
      }
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
        details: { connection: connection.name, tool: toolName, alias: override.alias, previousAlias: previous.alias, descriptionOverridden: override.description !== null, descriptionChanged: previous.description !== override.description, ...(displaced ? { aliasTakenFrom: { connection: displaced.connectionName, tool: displaced.toolName } } : {}) },
      });
      return "written";
    });
  } catch (error) {
    // Two admins racing for one alias: the unique index decides, and the loser hears who has it.
    const taken = override.alias === null ? null : await aliasHolder(deps, workspaceId, override.alias, { connectionId, toolName });
    if (taken?.listed && override.alias !== null) return { ok: false, errors: { alias: takenSentence(override.alias, taken) } };
    throw error;
  }
  if (written === "missing") return { ok: false, notFound: true };
  if (written === "taken" && displaced && override.alias !== null) return { ok: false, errors: { alias: takenSentence(override.alias, displaced) } };
  if (written === "written") deps.toolIndex.changed(workspaceId);
  return { ok: true, override, ...(displaced ? { displaced: { connectionName: displaced.connectionName, toolName: displaced.toolName } } : {}) };
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

/** `listed`: whether its upstream lists the tool now. */
type AliasHolder = { connectionId: string; connectionName: string; toolName: string; alias: string; listed: boolean };

/** Which other tool of the workspace has this alias already, whatever its case. */
async function aliasHolder(deps: ConnectionDeps, workspaceId: string, alias: string, self: { connectionId: string; toolName: string }): Promise<AliasHolder | null> {
  const { t } = deps.database;
  const [row] = await deps.database.db
    .select({ connectionId: t.toolOverrides.connectionId, connectionName: t.connections.name, toolName: t.toolOverrides.toolName, alias: t.toolOverrides.alias, listed: t.tools.name })
    .from(t.toolOverrides)
    .innerJoin(t.connections, eq(t.connections.id, t.toolOverrides.connectionId))
    .leftJoin(t.tools, and(eq(t.tools.connectionId, t.toolOverrides.connectionId), eq(t.tools.name, t.toolOverrides.toolName)))
    .where(
      and(
        eq(t.toolOverrides.workspaceId, workspaceId),
        eq(t.toolOverrides.aliasKey, alias.toLowerCase()),
        or(ne(t.toolOverrides.connectionId, self.connectionId), ne(t.toolOverrides.toolName, self.toolName)),
      ),
    )
    .limit(1);
  return row && row.alias !== null ? { connectionId: row.connectionId, connectionName: row.connectionName, toolName: row.toolName, alias: row.alias, listed: row.listed !== null } : null;
}

function takenSentence(alias: string, holder: AliasHolder): string {
  const sameCase = holder.alias === alias ? "" : ` (as "${holder.alias}": aliases are compared without regard to case)`;
  return `"${alias}" is already the alias of ${holder.connectionName}'s tool ${holder.toolName}${sameCase}. Choose another name, or clear that alias first.`;
}
