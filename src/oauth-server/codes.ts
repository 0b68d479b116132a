import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { generateToken, hashToken, tokensEqual } from "../crypto/tokens.ts";
import type { OAuthClient } from "./clients.ts";
import { createGrant, issueTokens, revokeGrant, type TokenError, type TokenResponse } from "./tokens.ts";

/** Authorization codes: one minute, single use, stored hashed, bound to client, redirect URI and PKCE challenge. */

const CODE_PREFIX = "mgwac_";
const CODE_TTL_MS = 60_000;
const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
export const PKCE_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export type ApprovedRequest = { client: OAuthClient; redirectUri: string; codeChallenge: string; resource: string; scope: string };

export async function createAuthorizationCode(
  database: Database,
  member: { workspaceId: string; userId: string },
  request: ApprovedRequest,
  now = Date.now(),
): Promise<string> {
  const code = CODE_PREFIX + generateToken(20);
  await database.db.insert(database.t.oauthCodes).values({
    codeHash: hashToken(code),
    workspaceId: member.workspaceId,
    userId: member.userId,
    clientId: request.client.id,
    clientName: request.client.name,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    resource: request.resource,
    scope: request.scope,
    createdAt: now,
    expiresAt: now + CODE_TTL_MS,
  });
  return code;
}

function s256(verifier: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
}

export type RedeemInput = { code: string; clientId: string; redirectUri: string; codeVerifier: string; resource: string | null };

/**
 * Checks everything before spending the code, so a guess with a wrong verifier does not burn it
 * for the real client. A code presented after it was redeemed revokes what it was redeemed for.
 */
export async function redeemAuthorizationCode(database: Database, input: RedeemInput, now = Date.now()): Promise<{ ok: true; tokens: TokenResponse } | TokenError> {
  const { t } = database;
  const refused = (description: string): TokenError => ({ ok: false, error: "invalid_grant", description });
  if (!input.code.startsWith(CODE_PREFIX)) return refused("The authorization code is unknown.");
  const codeHash = hashToken(input.code);
  const [row] = await database.db.select().from(t.oauthCodes).where(eq(t.oauthCodes.codeHash, codeHash));
  if (!row) return refused("The authorization code is unknown.");
  if (row.usedAt !== null) {
    if (row.grantId) await revokeGrant(database, row.grantId, now);
    return refused("The authorization code was already used; the tokens issued for it are revoked.");
  }
  if (row.expiresAt <= now) return refused("The authorization code expired.");
  if (row.clientId !== input.clientId) return refused("The authorization code was issued to another client.");
  if (row.redirectUri !== input.redirectUri) return refused("redirect_uri does not match the authorization request.");
  if (!PKCE_VERIFIER.test(input.codeVerifier) || !tokensEqual(s256(input.codeVerifier), row.codeChallenge)) return refused("The PKCE code_verifier does not match.");
  if (input.resource !== null && input.resource !== row.resource) return { ok: false, error: "invalid_target", description: "resource does not match the authorization request." };

  const grantId = await database.transaction(async (tx) => {
    const claimed = await tx.update(t.oauthCodes).set({ usedAt: now }).where(and(eq(t.oauthCodes.codeHash, codeHash), isNull(t.oauthCodes.usedAt))).returning({ codeHash: t.oauthCodes.codeHash });
    if (claimed.length === 0) return null;
    const id = await createGrant(tx, t, { workspaceId: row.workspaceId, userId: row.userId, clientId: row.clientId, clientName: row.clientName, resource: row.resource, scope: row.scope }, now);
    await tx.update(t.oauthCodes).set({ grantId: id }).where(eq(t.oauthCodes.codeHash, codeHash));
    return id;
  });
  if (!grantId) return refused("The authorization code was already used.");
  return { ok: true, tokens: await issueTokens(database, { id: grantId, scope: row.scope }, now) };
}
