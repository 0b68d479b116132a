import { AUTH_KIND_IDS } from "../connections/auth-kinds/list.ts";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Keep column names and JS types identical to schema.pg.ts: services are written once against
// this file's types and run on either dialect. Times are epoch milliseconds.

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  passwordHash: text("password_hash"),
  createdAt: integer("created_at").notNull(),
  disabledAt: integer("disabled_at"),
  /** Why disabled_at is set: "directory" (SCIM deactivated or deleted), "idp" (the IdP refused a refresh). */
  disabledReason: text("disabled_reason", { enum: ["directory", "idp"] }),
  source: text("source", { enum: ["local", "sso"] }).notNull().default("local"),
  lastSignInAt: integer("last_sign_in_at"),
});

export const memberships = sqliteTable(
  "memberships",
  {
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("memberships_workspace_user").on(t.workspaceId, t.userId)],
);

export const sessions = sqliteTable("sessions", {
  idHash: text("id_hash").primaryKey(),
  userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_workspace").on(t.workspaceId)],
);

export const signInAttempts = sqliteTable("sign_in_attempts", {
  email: text("email").primaryKey(),
  failures: integer("failures").notNull(),
  lastFailureAt: integer("last_failure_at").notNull(),
});

export const connections = sqliteTable(
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
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    pausedUntil: integer("paused_until"),
    lastSyncedAt: integer("last_synced_at"),
    callTimeoutMs: integer("call_timeout_ms"),
    catalogId: text("catalog_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** shared: one credential for the workspace; per_member: each member uses their own (member_credentials). */
    sharing: text("sharing", { enum: ["shared", "per_member"] }).notNull().default("shared"),
    /**
     * Whether tools the upstream lists for the first time are exposed at once. False until an admin
     * has picked the tools (or chose "expose all" when adding): a new server exposes nothing unpicked.
     */
    exposeNewTools: integer("expose_new_tools", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [uniqueIndex("connections_workspace_name").on(t.workspaceId, t.name)],
);

export const credentials = sqliteTable("credentials", {
  connectionId: text("connection_id").primaryKey().references(() => connections.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  kind: text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: integer("key_version").notNull(),
  expiresAt: integer("expires_at"),
  updatedAt: integer("updated_at").notNull(),
});

export const tools = sqliteTable(
  "tools",
  {
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    title: text("title"),
    description: text("description"),
    inputSchema: text("input_schema", { mode: "json" }).notNull(),
    outputSchema: text("output_schema", { mode: "json" }),
    annotations: text("annotations", { mode: "json" }),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    definitionHash: text("definition_hash").notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [uniqueIndex("tools_connection_name").on(t.connectionId, t.name)],
);

export const statusEvents = sqliteTable(
  "status_events",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    at: integer("at").notNull(),
    fromStatus: text("from_status").notNull(),
    toStatus: text("to_status").notNull(),
    reason: text("reason"),
  },
  (t) => [index("status_events_connection").on(t.connectionId, t.at)],
);

export const accessLog = sqliteTable(
  "access_log",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    workspaceId: text("workspace_id").notNull(),
    userId: text("user_id"),
    apiKeyId: text("api_key_id"),
    connectionName: text("connection_name"),
    tool: text("tool").notNull(),
    outcome: text("outcome", { enum: ["ok", "tool_error", "upstream_error", "denied"] }).notNull(),
    latencyMs: integer("latency_ms").notNull(),
    errorSummary: text("error_summary"),
    /** Whose credential the call used: a member's id on a per-member connection, null for the shared one. */
    credentialUserId: text("credential_user_id"),
  },
  (t) => [index("access_log_workspace_at").on(t.workspaceId, t.at)],
);

export const oauthFlows = sqliteTable("oauth_flows", {
  stateHash: text("state_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
  userId: text("user_id"),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: integer("key_version").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

// Managed access (issue 7): the workspace's OpenID provider, pending sign-ins, linked identities,
// SCIM. Every ciphertext column binds {table, "ciphertext", row id, workspace}; see crypto/rotate.ts.

export const ssoProviders = sqliteTable("sso_providers", {
  id: text("id").primaryKey(),
  workspaceId: text("workspace_id").notNull().unique().references(() => workspaces.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  issuer: text("issuer").notNull(),
  clientId: text("client_id").notNull(),
  /** The client secret, sealed. */
  ciphertext: text("ciphertext").notNull(),
  keyVersion: integer("key_version").notNull(),
  allowedDomain: text("allowed_domain"),
  groupsClaim: text("groups_claim").notNull(),
  /** "group=role" lines, as the admin wrote them. */
  roleMapping: text("role_mapping").notNull(),
  status: text("status", { enum: ["pending", "active"] }).notNull(),
  approvedAt: integer("approved_at"),
  approvedBy: text("approved_by"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const ssoFlows = sqliteTable("sso_flows", {
  stateHash: text("state_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  providerId: text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
  purpose: text("purpose", { enum: ["sign_in", "test", "link"] }).notNull(),
  /** The admin who started a test sign-in. */
  userId: text("user_id"),
  /** PKCE verifier and nonce, sealed. */
  ciphertext: text("ciphertext").notNull(),
  keyVersion: integer("key_version").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

export const ssoIdentities = sqliteTable(
  "sso_identities",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    providerId: text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    /** When the IdP last confirmed this identity (a sign-in or a refresh). */
    validatedAt: integer("validated_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("sso_identities_issuer_subject").on(t.issuer, t.subject), index("sso_identities_user").on(t.userId)],
);

export const ssoRefreshTokens = sqliteTable("sso_refresh_tokens", {
  identityId: text("identity_id").primaryKey().references(() => ssoIdentities.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  ciphertext: text("ciphertext").notNull(),
  keyVersion: integer("key_version").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const scimTokens = sqliteTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("scim_tokens_workspace").on(t.workspaceId)],
);

/** What the directory told us about a user beyond users.email and users.name. */
export const scimProfiles = sqliteTable(
  "scim_profiles",
  {
    userId: text("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userName: text("user_name").notNull(),
    externalId: text("external_id"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("scim_profiles_workspace_user_name").on(t.workspaceId, t.userName)],
);

// The gateway as an OAuth authorization server for MCP clients (issue 7, item 4). Codes and tokens
// are stored as SHA-256 hashes. A grant is one approval by one member for one client: its tokens
// (access and rotating refresh) are revoked together when the grant is.

/** Clients registered through Dynamic Client Registration (public: no secret). */
export const oauthClients = sqliteTable("oauth_clients", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** JSON array of the exact redirect URIs allowed. */
  redirectUris: text("redirect_uris").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const oauthGrants = sqliteTable(
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
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("oauth_grants_user").on(t.userId)],
);

export const oauthCodes = sqliteTable("oauth_codes", {
  codeHash: text("code_hash").primaryKey(),
  workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
  userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  clientId: text("client_id").notNull(),
  clientName: text("client_name").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  resource: text("resource").notNull(),
  scope: text("scope").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  /** The grant its redemption created: revoked if the code is presented again. */
  grantId: text("grant_id"),
});

export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    grantId: text("grant_id").notNull().references(() => oauthGrants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["access", "refresh"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** A refresh token's rotation; presenting it again revokes the grant. */
    usedAt: integer("used_at"),
  },
  (t) => [index("oauth_tokens_grant").on(t.grantId)],
);

// Per-member connections (issue 7, item 6): each member's own credential for a connection whose
// sharing is per_member. The ciphertext binds {"member_credentials", "ciphertext", id, workspace}.
export const memberCredentials = sqliteTable(
  "member_credentials",
  {
    id: text("id").primaryKey(),
    connectionId: text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
    ciphertext: text("ciphertext").notNull(),
    keyVersion: integer("key_version").notNull(),
    expiresAt: integer("expires_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("member_credentials_connection_user").on(t.connectionId, t.userId)],
);
