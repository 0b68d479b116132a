import { asc, eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { decryptSecret, encryptSecret, type Keyring, type SecretBinding } from "../crypto/encryption.ts";
import { newId } from "../crypto/tokens.ts";
import { unlinkProviderIdentities } from "./identities.ts";
import { checkIssuerUrl, discoverClient, type OidcClient, type OidcFailure } from "./oidc.ts";
import { parseRoleMapping } from "./role-mapping.ts";
import { recordAudit } from "../audit/record.ts";

/** The workspace's OpenID provider: one per workspace, pending until a test sign-in succeeds. */

export type SsoDeps = { database: Database; config: Config; keyring: Keyring };

export type SsoProvider = {
  id: string;
  workspaceId: string;
  name: string;
  issuer: string;
  clientId: string;
  allowedDomain: string | null;
  groupsClaim: string;
  roleMapping: string;
  status: "pending" | "active";
  approvedAt: number | null;
};

/** The settings form as posted. A blank secret keeps the stored one. */
export type SsoProviderForm = {
  name?: string;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  allowedDomain?: string;
  groupsClaim?: string;
  roleMapping?: string;
};

/** `unlinked`: identities dropped because the provider now points elsewhere. `detail`: for the log only. */
export type SaveSsoProviderResult = { ok: true; provider: SsoProvider; unlinked: number } | { ok: false; errors: Record<string, string>; detail?: string };

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLAIM_NAME = /^[\w.:/-]{1,128}$/;

function secretBinding(provider: { id: string; workspaceId: string }): SecretBinding {
  return { table: "sso_providers", column: "ciphertext", rowId: provider.id, workspaceId: provider.workspaceId };
}

function selectProvider(database: Database) {
  const p = database.t.ssoProviders;
  return database.db
    .select({
      id: p.id,
      workspaceId: p.workspaceId,
      name: p.name,
      issuer: p.issuer,
      clientId: p.clientId,
      allowedDomain: p.allowedDomain,
      groupsClaim: p.groupsClaim,
      roleMapping: p.roleMapping,
      status: p.status,
      approvedAt: p.approvedAt,
    })
    .from(p);
}

export async function getSsoProvider(database: Database, workspaceId: string): Promise<SsoProvider | null> {
  const [row] = await selectProvider(database).where(eq(database.t.ssoProviders.workspaceId, workspaceId));
  return row ?? null;
}

export async function getSsoProviderById(database: Database, id: string): Promise<SsoProvider | null> {
  const [row] = await selectProvider(database).where(eq(database.t.ssoProviders.id, id));
  return row ?? null;
}

/** One gateway, one workspace in practice: the sign-in page offers the first provider switched on. */
export async function findActiveSsoProvider(database: Database): Promise<SsoProvider | null> {
  const p = database.t.ssoProviders;
  const [row] = await selectProvider(database).where(eq(p.status, "active")).orderBy(asc(p.approvedAt)).limit(1);
  return row ?? null;
}

/**
 * Validates the form, discovers the provider with the given client, and stores it with the secret
 * sealed. A new issuer, client id or secret puts it back to pending until a test sign-in.
 */
export async function saveSsoProvider(deps: SsoDeps, workspaceId: string, form: SsoProviderForm, now = Date.now()): Promise<SaveSsoProviderResult> {
  const { database, keyring, config } = deps;
  const existing = await getSsoProvider(database, workspaceId);
  const errors: Record<string, string> = {};
  const issuer = (form.issuer ?? "").trim();
  const clientId = (form.clientId ?? "").trim();
  const secretInput = form.clientSecret ?? "";
  const allowedDomain = (form.allowedDomain ?? "").trim().toLowerCase().replace(/^@/, "") || null;
  const groupsClaim = (form.groupsClaim ?? "").trim() || "groups";
  const roleMapping = (form.roleMapping ?? "").trim();

  const issuerCheck = checkIssuerUrl(issuer);
  if (!issuer) errors.issuer = "Enter the issuer URL of your identity provider.";
  else if (!issuerCheck.ok) errors.issuer = issuerCheck.reason;
  if (!clientId) errors.clientId = "Enter the client id the identity provider gave the gateway.";
  else if (clientId.length > 256) errors.clientId = "Use at most 256 characters.";
  if (!secretInput && !existing) errors.clientSecret = "Enter the client secret.";
  else if (secretInput.length > 4096) errors.clientSecret = "Use at most 4096 characters.";
  if (allowedDomain && !DOMAIN.test(allowedDomain)) errors.allowedDomain = "Enter a domain like example.com, or leave it empty.";
  if (!CLAIM_NAME.test(groupsClaim)) errors.groupsClaim = "Use letters, digits and . : / _ - only.";
  const mapping = parseRoleMapping(roleMapping);
  if (!mapping.ok) errors.roleMapping = mapping.error;
  const name = (form.name ?? "").trim() || (issuerCheck.ok ? issuerCheck.url.hostname : "");
  if (name.length > 64) errors.name = "Use at most 64 characters.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const id = existing?.id ?? newId();
  const clientSecret = secretInput || (await loadClientSecret(deps, existing!));
  const discovered = await discoverClient({ issuer, clientId, clientSecret }, config.upstreamAllow);
  if (!discovered.ok) return { ok: false, errors: { issuer: discovered.reason }, detail: discovered.detail };

  // Another issuer or client is another provider: nobody it vouched for before is vouched for now.
  const elsewhere = existing !== null && (existing.issuer !== issuer || existing.clientId !== clientId);
  const changed = !existing || elsewhere || secretInput !== "";
  const sealed = await encryptSecret(keyring, clientSecret, secretBinding({ id, workspaceId }));
  const values = {
    name,
    issuer,
    clientId,
    ciphertext: sealed.ciphertext,
    keyVersion: sealed.keyVersion,
    allowedDomain,
    groupsClaim,
    roleMapping,
    updatedAt: now,
    ...(changed ? { status: "pending" as const, approvedAt: null, approvedBy: null } : {}),
  };
  const { t } = database;
  const p = t.ssoProviders;
  const unlinked = await database.transaction(async (tx) => {
    const audited = { issuer, clientId, name, allowedDomain, groupsClaim, roleMapping, clientSecretReplaced: secretInput !== "", pending: changed };
    if (!existing) {
      await tx.insert(p).values({ id, workspaceId, status: "pending", createdAt: now, ...values });
      await recordAudit(database, tx, { workspaceId, action: "sso.configured", target: `sso_provider:${id}`, details: audited });
      return 0;
    }
    await tx.update(p).set(values).where(eq(p.id, id));
    const count = elsewhere ? await unlinkProviderIdentities(tx, t, id) : 0;
    await recordAudit(database, tx, { workspaceId, action: "sso.changed", target: `sso_provider:${id}`, details: { ...audited, identitiesUnlinked: count } });
    return count;
  });
  return { ok: true, provider: (await getSsoProvider(database, workspaceId))!, unlinked };
}

/** Switched on by a successful test sign-in. */
export async function approveSsoProvider(database: Database, providerId: string, userId: string, now = Date.now()): Promise<void> {
  const p = database.t.ssoProviders;
  await database.transaction(async (tx) => {
    const [row] = await tx.update(p).set({ status: "active", approvedAt: now, approvedBy: userId }).where(eq(p.id, providerId)).returning({ workspaceId: p.workspaceId, issuer: p.issuer });
    if (row) await recordAudit(database, tx, { workspaceId: row.workspaceId, action: "sso.approved", target: `sso_provider:${providerId}`, details: { issuer: row.issuer, by: `user:${userId}` } });
  });
}

/**
 * Linked identities go with it (cascade). Members keep their accounts; those SSO or SCIM made are
 * linked again by their next SSO sign-in, password accounts only from their own account page.
 */
export async function removeSsoProvider(database: Database, workspaceId: string): Promise<boolean> {
  const p = database.t.ssoProviders;
  const rows = await database.transaction(async (tx) => {
    const removed = await tx.delete(p).where(eq(p.workspaceId, workspaceId)).returning({ id: p.id, issuer: p.issuer });
    if (removed[0]) await recordAudit(database, tx, { workspaceId, action: "sso.removed", target: `sso_provider:${removed[0].id}`, details: { issuer: removed[0].issuer } });
    return removed;
  });
  return rows.length > 0;
}

async function loadClientSecret(deps: SsoDeps, provider: { id: string; workspaceId: string }): Promise<string> {
  const p = deps.database.t.ssoProviders;
  const [row] = await deps.database.db.select({ ciphertext: p.ciphertext }).from(p).where(eq(p.id, provider.id));
  if (!row) throw new Error("sso provider vanished while loading its secret");
  return decryptSecret(deps.keyring, row.ciphertext, secretBinding(provider));
}

/** An openid-client configuration for a stored provider (discovery each time: sign-ins are rare). */
export async function loadSsoClient(deps: SsoDeps, provider: SsoProvider): Promise<{ ok: true; client: OidcClient } | OidcFailure> {
  const clientSecret = await loadClientSecret(deps, provider);
  return discoverClient({ issuer: provider.issuer, clientId: provider.clientId, clientSecret }, deps.config.upstreamAllow);
}
