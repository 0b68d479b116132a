import { AUTH_KIND_IDS } from "../connections/auth-kinds/list.ts";
import { bigint, boolean, index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";

// Keep column names and JS types identical to schema.sqlite.ts: services are written once against
// this file's types and run on either dialect. Times are epoch milliseconds.

export const workspaces = pgTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  passwordHash: text("password_hash"),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  disabledAt: bigint("disabled_at", { mode: "number" }),
  /** Why disabled_at is set: "directory" (SCIM deactivated or deleted), "idp" (the IdP refused a refresh). */
  disabledReason: text("disabled_reason", { enum: ["directory", "idp"] }),
  source: text("source", { enum: ["local", "sso"] }).notNull().default("local"),
  lastSignInAt: bigint("last_sign_in_at", { mode: "number" }),
});

export const memberships = pgTable(
  "memberships",
  {
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("memberships_workspace_user").on(t.workspaceId, t.userId)],
);

export const sessions = pgTable("sessions", {
  idHash: text("id_hash").primaryKey(),
  userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
});

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
    expiresAt: bigint("expires_at", { mode: "number" }),
    revokedAt: bigint("revoked_at", { mode: "number" }),
  },
  (t) => [index("api_keys_workspace").on(t.workspaceId)],
);

export const signInAttempts = pgTable("sign_in_attempts", {
  email: text("email").primaryKey(),
  failures: bigint("failures", { mode: "number" }).notNull(),
  lastFailureAt: bigint("last_failure_at", { mode: "number" }).notNull(),
});

export const connections = pgTable(
  "connections",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    authKind: text("auth_kind", { enum: AUTH_KIND_IDS }).notNull(),
    authHeader: text("auth_header"),
    status: text("status", { enum: ["connected", "needs_reauth", "error", "paused"] }).notNull(),
    statusDetail: text("status_detail"),
    consecutiveFailures: bigint("consecutive_failures", { mode: "number" }).notNull().default(0),
    pausedUntil: bigint("paused_until", { mode: "number" }),
    lastSyncedAt: bigint("last_synced_at", { mode: "number" }),
    callTimeoutMs: bigint("call_timeout_ms", { mode: "number" }),
    catalogId: text("catalog_id"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
    /** shared: one credential for the workspace; per_member: each member uses their own (member_credentials). */
    sharing: text("sharing", { enum: ["shared", "per_member"] }).notNull().default("shared"),
    /**
     * Whether tools the upstream lists for the first time are exposed at once. False until an admin
     * has picked the tools (or chose "expose all" when adding): a new server exposes nothing unpicked.
     */
    exposeNewTools: boolean("expose_new_tools").notNull().default(false),
  },
  (t) => [uniqueIndex("connections_workspace_name").on(t.workspaceId, t.name)],
);

export const credentials = pgTable("credentials", {
  connectionId: text("connection_id").primaryKey().references(() => connections.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  kind: text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: bigint("key_version", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

export const tools = pgTable(
  "tools",
  {
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    title: text("title"),
    description: text("description"),
    inputSchema: jsonb("input_schema").notNull(),
    outputSchema: jsonb("output_schema"),
    annotations: jsonb("annotations"),
    enabled: boolean("enabled").notNull(),
    definitionHash: text("definition_hash").notNull(),
    seenAt: bigint("seen_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("tools_connection_name").on(t.connectionId, t.name)],
);

export const statusEvents = pgTable(
  "status_events",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    at: bigint("at", { mode: "number" }).notNull(),
    fromStatus: text("from_status").notNull(),
    toStatus: text("to_status").notNull(),
    reason: text("reason"),
  },
  (t) => [index("status_events_connection").on(t.connectionId, t.at)],
);

export const accessLog = pgTable(
  "access_log",
  {
    id: text("id").primaryKey(),
    at: bigint("at", { mode: "number" }).notNull(),
    workspaceId: text("workspace_id").notNull(),
    userId: text("user_id"),
    apiKeyId: text("api_key_id"),
    connectionName: text("connection_name"),
    tool: text("tool").notNull(),
    outcome: text("outcome", { enum: ["ok", "tool_error", "upstream_error", "denied"] }).notNull(),
    latencyMs: bigint("latency_ms", { mode: "number" }).notNull(),
    errorSummary: text("error_summary"),
    /** Whose credential the call used: a member's id on a per-member connection, null for the shared one. */
    credentialUserId: text("credential_user_id"),
  },
  (t) => [index("access_log_workspace_at").on(t.workspaceId, t.at)],
);

export const oauthFlows = pgTable("oauth_flows", {
  stateHash: text("state_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
  userId: text("user_id"),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: bigint("key_version", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
});

// Managed access (issue 7): the workspace's OpenID provider, pending sign-ins, linked identities,
// SCIM. Every ciphertext column binds {table, "ciphertext", row id, workspace}; see crypto/rotate.ts.

export const ssoProviders = pgTable("sso_providers", {
  id: text("id").primaryKey(),
  workspaceId: text("workspace_id").notNull().unique().references(() => workspaces.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  issuer: text("issuer").notNull(),
  clientId: text("client_id").notNull(),
  /** The client secret, sealed. */
  ciphertext: text("ciphertext").notNull(),
  keyVersion: bigint("key_version", { mode: "number" }).notNull(),
  allowedDomain: text("allowed_domain"),
  groupsClaim: text("groups_claim").notNull(),
  /** "group=role" lines, as the admin wrote them. */
  roleMapping: text("role_mapping").notNull(),
  status: text("status", { enum: ["pending", "active"] }).notNull(),
  approvedAt: bigint("approved_at", { mode: "number" }),
  approvedBy: text("approved_by"),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

export const ssoFlows = pgTable("sso_flows", {
  stateHash: text("state_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  providerId: text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
  purpose: text("purpose", { enum: ["sign_in", "test", "link"] }).notNull(),
  /** The admin who started a test sign-in. */
  userId: text("user_id"),
  /** PKCE verifier and nonce, sealed. */
  ciphertext: text("ciphertext").notNull(),
  keyVersion: bigint("key_version", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
});

export const ssoIdentities = pgTable(
  "sso_identities",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    providerId: text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    /** When the IdP last confirmed this identity (a sign-in or a refresh). */
    validatedAt: bigint("validated_at", { mode: "number" }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("sso_identities_issuer_subject").on(t.issuer, t.subject), index("sso_identities_user").on(t.userId)],
);

export const ssoRefreshTokens = pgTable("sso_refresh_tokens", {
  identityId: text("identity_id").primaryKey().references(() => ssoIdentities.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: bigint("key_version", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

export const scimTokens = pgTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
    revokedAt: bigint("revoked_at", { mode: "number" }),
  },
  (t) => [index("scim_tokens_workspace").on(t.workspaceId)],
);

/** What the directory told us about a user beyond users.email and users.name. */
export const scimProfiles = pgTable(
  "scim_profiles",
  {
    userId: text("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userName: text("user_name").notNull(),
    externalId: text("external_id"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("scim_profiles_workspace_user_name").on(t.workspaceId, t.userName)],
);

// The gateway as an OAuth authorization server for MCP clients (issue 7, item 4). Codes and tokens
// are stored as SHA-256 hashes. A grant is one approval by one member for one client: its tokens
// (access and rotating refresh) are revoked together when the grant is.

/** Clients registered through Dynamic Client Registration (public: no secret). */
export const oauthClients = pgTable("oauth_clients", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** JSON array of the exact redirect URIs allowed. */
  redirectUris: text("redirect_uris").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

export const oauthGrants = pgTable(
  "oauth_grants",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    /** A registered client's id, or a Client ID Metadata Document URL. */
    clientId: text("client_id").notNull(),
    clientName: text("client_name").notNull(),
    resource: text("resource").notNull(),
    scope: text("scope").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
    revokedAt: bigint("revoked_at", { mode: "number" }),
  },
  (t) => [index("oauth_grants_user").on(t.userId)],
);

export const oauthCodes = pgTable("oauth_codes", {
  codeHash: text("code_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
  userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  clientId: text("client_id").notNull(),
  clientName: text("client_name").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  resource: text("resource").notNull(),
  scope: text("scope").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  usedAt: bigint("used_at", { mode: "number" }),
  /** The grant its redemption created: revoked if the code is presented again. */
  grantId: text("grant_id"),
});

export const oauthTokens = pgTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    grantId: text("grant_id").notNull().references(() => oauthGrants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["access", "refresh"] }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    /** A refresh token's rotation; presenting it again revokes the grant. */
    usedAt: bigint("used_at", { mode: "number" }),
  },
  (t) => [index("oauth_tokens_grant").on(t.grantId)],
);

// Per-member connections (issue 7, item 6): each member's own credential for a connection whose
// sharing is per_member. The ciphertext binds {"member_credentials", "ciphertext", id, workspace}.
export const memberCredentials = pgTable(
  "member_credentials",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
    ciphertext: text("ciphertext").notNull(),
    keyVersion: bigint("key_version", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("member_credentials_connection_user").on(t.connectionId, t.userId)],
);
