import { AUTH_KIND_IDS } from "../connections/auth-kinds/list.ts";
import type { ColumnBuilders, Dialect } from "./columns.ts";

/**
 * The database's tables, written once: schema.sqlite.ts and schema.pg.ts pass their dialect's column
 * functions, so both dialects always have the same tables, columns, JS types, defaults and indexes.
 * Services are written once against these types and run on either dialect (db/client.ts;
 * db/dialects-agree.ts checks the row types match). Times are epoch milliseconds.
 *
 * The return type is left to inference: it is the definition below, and writing it out would be the
 * second copy this file exists to remove. One file over 300 lines because it is one concept, and its
 * tables refer to each other.
 */
export function defineSchema<D extends Dialect>(b: ColumnBuilders<D>) {
  const workspaces = b.table("workspaces", {
    id: b.text("id").primaryKey(),
    name: b.text("name").notNull(),
    createdAt: b.integer("created_at").notNull(),
  });

  const users = b.table("users", {
    id: b.text("id").primaryKey(),
    email: b.text("email").notNull().unique(),
    name: b.text("name").notNull(),
    passwordHash: b.text("password_hash"),
    createdAt: b.integer("created_at").notNull(),
    disabledAt: b.integer("disabled_at"),
    /** Why disabled_at is set: "directory" (SCIM deactivated or deleted), "idp" (the IdP refused a refresh), "admin" (on the Members page). */
    disabledReason: b.text("disabled_reason", { enum: ["directory", "idp", "admin"] }),
    source: b.text("source", { enum: ["local", "sso"] }).notNull().default("local"),
    lastSignInAt: b.integer("last_sign_in_at"),
  });

  const memberships = b.table(
    "memberships",
    {
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      role: b.text("role", { enum: ["owner", "admin", "member"] }).notNull(),
      createdAt: b.integer("created_at").notNull(),
    },
    (t) => [b.uniqueIndex("memberships_workspace_user").on(t.workspaceId, t.userId)],
  );

  const sessions = b.table("sessions", {
    idHash: b.text("id_hash").primaryKey(),
    userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    createdAt: b.integer("created_at").notNull(),
    expiresAt: b.integer("expires_at").notNull(),
  });

  const apiKeys = b.table(
    "api_keys",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      name: b.text("name").notNull(),
      prefix: b.text("prefix").notNull(),
      secretHash: b.text("secret_hash").notNull().unique(),
      createdAt: b.integer("created_at").notNull(),
      lastUsedAt: b.integer("last_used_at"),
      expiresAt: b.integer("expires_at"),
      revokedAt: b.integer("revoked_at"),
    },
    (t) => [b.index("api_keys_workspace").on(t.workspaceId)],
  );

  const signInAttempts = b.table("sign_in_attempts", {
    email: b.text("email").primaryKey(),
    failures: b.integer("failures").notNull(),
    lastFailureAt: b.integer("last_failure_at").notNull(),
  });

  const connections = b.table(
    "connections",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      name: b.text("name").notNull(),
      url: b.text("url").notNull(),
      authKind: b.text("auth_kind", { enum: AUTH_KIND_IDS }).notNull(),
      authHeader: b.text("auth_header"),
      status: b.text("status", { enum: ["connected", "needs_reauth", "error", "paused"] }).notNull(),
      statusDetail: b.text("status_detail"),
      consecutiveFailures: b.integer("consecutive_failures").notNull().default(0),
      pausedUntil: b.integer("paused_until"),
      lastSyncedAt: b.integer("last_synced_at"),
      callTimeoutMs: b.integer("call_timeout_ms"),
      catalogId: b.text("catalog_id"),
      createdAt: b.integer("created_at").notNull(),
      updatedAt: b.integer("updated_at").notNull(),
      /** shared: one credential for the workspace; per_member: each member uses their own (member_credentials). */
      sharing: b.text("sharing", { enum: ["shared", "per_member"] }).notNull().default("shared"),
      /**
       * Whether tools (prompts, resource templates) the upstream lists for the first time are exposed
       * at once, approved as listed. An admin's explicit setting ("expose all" when adding, or the
       * connection's setting): picking tools never turns it on. Off, a new tool waits for a pick.
       */
      exposeNewTools: b.boolean("expose_new_tools").notNull().default(false),
      /**
       * What the endpoint does with a tool whose definition changed upstream until an admin reviews
       * it (connections/held.ts): "hide" it, or "serve_approved" (list the approved definition, refuse calls).
       */
      heldMode: b.text("held_mode", { enum: ["hide", "serve_approved"] }).notNull().default("hide"),
      /** What the upstream announced at its last discovery (initialize or server/discover): its capabilities and instructions. */
      serverCapabilities: b.json("server_capabilities"),
      serverInstructions: b.text("server_instructions"),
    },
    (t) => [b.uniqueIndex("connections_workspace_name").on(t.workspaceId, t.name)],
  );

  const credentials = b.table("credentials", {
    connectionId: b.text("connection_id").primaryKey().references(() => connections.id, { onDelete: "cascade" }),
    workspaceId: b.text("workspace_id").notNull(),
    kind: b.text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
    ciphertext: b.text("ciphertext").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    expiresAt: b.integer("expires_at"),
    updatedAt: b.integer("updated_at").notNull(),
  });

  const tools = b.table(
    "tools",
    {
      connectionId: b.text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
      name: b.text("name").notNull(),
      title: b.text("title"),
      description: b.text("description"),
      inputSchema: b.json("input_schema").notNull(),
      outputSchema: b.json("output_schema"),
      annotations: b.json("annotations"),
      /** Listed as the upstream gave them (only the name is namespaced): `icons`, `_meta`, `execution` (task support). */
      icons: b.json("icons"),
      meta: b.json("meta"),
      execution: b.json("execution"),
      enabled: b.boolean("enabled").notNull(),
      definitionHash: b.text("definition_hash").notNull(),
      seenAt: b.integer("seen_at").notNull(),
      /** When a re-sync found it new or changed; cleared when an admin turns it on or off (the dashboard's "changed" filter). */
      changedAt: b.integer("changed_at"),
      /**
       * The definition an admin approved (a ToolDefinition) and its hash, pinned when a sync finds an
       * enabled tool changed; null while the stored definition is itself the approved one (turning a
       * tool on approves what it lists). See connections/held.ts.
       */
      approved: b.json("approved"),
      approvedHash: b.text("approved_hash"),
      /** Since when the stored definition differs from the approved one; null when not held. */
      heldAt: b.integer("held_at"),
    },
    (t) => [b.uniqueIndex("tools_connection_name").on(t.connectionId, t.name)],
  );

  /**
   * An upstream's prompts, resources and resource templates, as last listed: `name` is the prompt's
   * name or the resource's (template's) URI, `definition` the upstream's object as it listed it.
   * Served while the upstream is down, like tools.
   */
  const connectionItems = b.table(
    "connection_items",
    {
      connectionId: b.text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
      kind: b.text("kind", { enum: ["prompt", "resource", "resource_template"] }).notNull(),
      name: b.text("name").notNull(),
      definition: b.json("definition").notNull(),
      enabled: b.boolean("enabled").notNull(),
      definitionHash: b.text("definition_hash").notNull(),
      seenAt: b.integer("seen_at").notNull(),
      /** As on tools: the approved definition while a changed one is held (prompts and templates only). */
      approved: b.json("approved"),
      approvedHash: b.text("approved_hash"),
      heldAt: b.integer("held_at"),
    },
    (t) => [b.uniqueIndex("connection_items_connection_kind_name").on(t.connectionId, t.kind, t.name)],
  );

  const statusEvents = b.table(
    "status_events",
    {
      id: b.text("id").primaryKey(),
      connectionId: b.text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
      at: b.integer("at").notNull(),
      fromStatus: b.text("from_status").notNull(),
      toStatus: b.text("to_status").notNull(),
      reason: b.text("reason"),
    },
    (t) => [b.index("status_events_connection").on(t.connectionId, t.at)],
  );

  const accessLog = b.table(
    "access_log",
    {
      id: b.text("id").primaryKey(),
      at: b.integer("at").notNull(),
      workspaceId: b.text("workspace_id").notNull(),
      userId: b.text("user_id"),
      apiKeyId: b.text("api_key_id"),
      connectionName: b.text("connection_name"),
      tool: b.text("tool").notNull(),
      /** What `tool` names: a tool, a prompt (its upstream name) or a resource read (its upstream URI). */
      kind: b.text("kind", { enum: ["tool", "prompt", "resource"] }).notNull().default("tool"),
      outcome: b.text("outcome", { enum: ["ok", "tool_error", "upstream_error", "denied", "paused"] }).notNull(),
      latencyMs: b.integer("latency_ms").notNull(),
      errorSummary: b.text("error_summary"),
      /** Whose credential the call used: a member's id on a per-member connection, null for the shared one. */
      credentialUserId: b.text("credential_user_id"),
    },
    // Usage per connection and the log filtered by connection read (workspace, connection, time)
    // ranges; a member's own rows (workspace, user, id). See accesslog/usage.ts.
    (t) => [
      b.index("access_log_workspace_at").on(t.workspaceId, t.at),
      b.index("access_log_workspace_connection_at").on(t.workspaceId, t.connectionName, t.at),
      b.index("access_log_workspace_user_id").on(t.workspaceId, t.userId, t.id),
    ],
  );

  const oauthFlows = b.table("oauth_flows", {
    stateHash: b.text("state_hash").primaryKey(),
    workspaceId: b.text("workspace_id").notNull(),
    connectionId: b.text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
    userId: b.text("user_id"),
    ciphertext: b.text("ciphertext").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    createdAt: b.integer("created_at").notNull(),
    expiresAt: b.integer("expires_at").notNull(),
  });

  // Managed access (issue 7): the workspace's OpenID provider, pending sign-ins, linked identities,
  // SCIM. Every ciphertext column binds {table, "ciphertext", row id, workspace}; see crypto/rotate.ts.

  const ssoProviders = b.table("sso_providers", {
    id: b.text("id").primaryKey(),
    workspaceId: b.text("workspace_id").notNull().unique().references(() => workspaces.id, { onDelete: "cascade" }),
    name: b.text("name").notNull(),
    issuer: b.text("issuer").notNull(),
    clientId: b.text("client_id").notNull(),
    /** The client secret, sealed. */
    ciphertext: b.text("ciphertext").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    allowedDomain: b.text("allowed_domain"),
    groupsClaim: b.text("groups_claim").notNull(),
    /** "group=role" lines, as the admin wrote them. */
    roleMapping: b.text("role_mapping").notNull(),
    status: b.text("status", { enum: ["pending", "active"] }).notNull(),
    approvedAt: b.integer("approved_at"),
    approvedBy: b.text("approved_by"),
    createdAt: b.integer("created_at").notNull(),
    updatedAt: b.integer("updated_at").notNull(),
  });

  const ssoFlows = b.table("sso_flows", {
    stateHash: b.text("state_hash").primaryKey(),
    workspaceId: b.text("workspace_id").notNull(),
    providerId: b.text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
    purpose: b.text("purpose", { enum: ["sign_in", "test", "link"] }).notNull(),
    /** The admin who started a test sign-in. */
    userId: b.text("user_id"),
    /** PKCE verifier and nonce, sealed. */
    ciphertext: b.text("ciphertext").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    createdAt: b.integer("created_at").notNull(),
    expiresAt: b.integer("expires_at").notNull(),
  });

  const ssoIdentities = b.table(
    "sso_identities",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      providerId: b.text("provider_id").notNull().references(() => ssoProviders.id, { onDelete: "cascade" }),
      issuer: b.text("issuer").notNull(),
      subject: b.text("subject").notNull(),
      /** When the IdP last confirmed this identity (a sign-in or a refresh). */
      validatedAt: b.integer("validated_at").notNull(),
      createdAt: b.integer("created_at").notNull(),
    },
    (t) => [b.uniqueIndex("sso_identities_issuer_subject").on(t.issuer, t.subject), b.index("sso_identities_user").on(t.userId)],
  );

  const ssoRefreshTokens = b.table("sso_refresh_tokens", {
    identityId: b.text("identity_id").primaryKey().references(() => ssoIdentities.id, { onDelete: "cascade" }),
    workspaceId: b.text("workspace_id").notNull(),
    ciphertext: b.text("ciphertext").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    updatedAt: b.integer("updated_at").notNull(),
  });

  const scimTokens = b.table(
    "scim_tokens",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      name: b.text("name").notNull(),
      prefix: b.text("prefix").notNull(),
      secretHash: b.text("secret_hash").notNull().unique(),
      createdAt: b.integer("created_at").notNull(),
      lastUsedAt: b.integer("last_used_at"),
      revokedAt: b.integer("revoked_at"),
    },
    (t) => [b.index("scim_tokens_workspace").on(t.workspaceId)],
  );

  /** What the directory told us about a user beyond users.email and users.name. */
  const scimProfiles = b.table(
    "scim_profiles",
    {
      userId: b.text("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      userName: b.text("user_name").notNull(),
      externalId: b.text("external_id"),
      givenName: b.text("given_name"),
      familyName: b.text("family_name"),
      createdAt: b.integer("created_at").notNull(),
      updatedAt: b.integer("updated_at").notNull(),
    },
    (t) => [b.uniqueIndex("scim_profiles_workspace_user_name").on(t.workspaceId, t.userName)],
  );

  // The gateway as an OAuth authorization server for MCP clients (issue 7, item 4). Codes and tokens
  // are stored as SHA-256 hashes. A grant is one approval by one member for one client: its tokens
  // (access and rotating refresh) are revoked together when the grant is.

  /** Clients registered through Dynamic Client Registration (public: no secret). */
  const oauthClients = b.table("oauth_clients", {
    id: b.text("id").primaryKey(),
    name: b.text("name").notNull(),
    /** JSON array of the exact redirect URIs allowed. */
    redirectUris: b.text("redirect_uris").notNull(),
    createdAt: b.integer("created_at").notNull(),
  });

  const oauthGrants = b.table(
    "oauth_grants",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      /** A registered client's id, or a Client ID Metadata Document URL. */
      clientId: b.text("client_id").notNull(),
      clientName: b.text("client_name").notNull(),
      resource: b.text("resource").notNull(),
      scope: b.text("scope").notNull(),
      createdAt: b.integer("created_at").notNull(),
      lastUsedAt: b.integer("last_used_at"),
      revokedAt: b.integer("revoked_at"),
    },
    (t) => [b.index("oauth_grants_user").on(t.userId)],
  );

  const oauthCodes = b.table("oauth_codes", {
    codeHash: b.text("code_hash").primaryKey(),
    workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    clientId: b.text("client_id").notNull(),
    clientName: b.text("client_name").notNull(),
    redirectUri: b.text("redirect_uri").notNull(),
    codeChallenge: b.text("code_challenge").notNull(),
    resource: b.text("resource").notNull(),
    scope: b.text("scope").notNull(),
    createdAt: b.integer("created_at").notNull(),
    expiresAt: b.integer("expires_at").notNull(),
    usedAt: b.integer("used_at"),
    /** The grant its redemption created: revoked if the code is presented again. */
    grantId: b.text("grant_id"),
  });

  const oauthTokens = b.table(
    "oauth_tokens",
    {
      tokenHash: b.text("token_hash").primaryKey(),
      grantId: b.text("grant_id").notNull().references(() => oauthGrants.id, { onDelete: "cascade" }),
      kind: b.text("kind", { enum: ["access", "refresh"] }).notNull(),
      createdAt: b.integer("created_at").notNull(),
      expiresAt: b.integer("expires_at").notNull(),
      /** A refresh token's rotation; presenting it again revokes the grant. */
      usedAt: b.integer("used_at"),
    },
    (t) => [b.index("oauth_tokens_grant").on(t.grantId)],
  );

  // Per-member connections (issue 7, item 6): each member's own credential for a connection whose
  // sharing is per_member. The ciphertext binds {"member_credentials", "ciphertext", id, workspace}.
  const memberCredentials = b.table(
    "member_credentials",
    {
      id: b.text("id").primaryKey(),
      connectionId: b.text("connection_id").notNull().references(() => connections.id, { onDelete: "cascade" }),
      userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
      workspaceId: b.text("workspace_id").notNull(),
      kind: b.text("kind", { enum: ["bearer", "header", "url", "oauth", "id-jag"] }).notNull(),
      ciphertext: b.text("ciphertext").notNull(),
      keyVersion: b.integer("key_version").notNull(),
      expiresAt: b.integer("expires_at"),
      createdAt: b.integer("created_at").notNull(),
      updatedAt: b.integer("updated_at").notNull(),
    },
    (t) => [b.uniqueIndex("member_credentials_connection_user").on(t.connectionId, t.userId)],
  );

  // The audit trail (issue 18, item 3): append-only, each entry carrying the hash of the one before
  // (src/audit/). `seq` orders it; `hash` = SHA-256 over the entry's canonical encoding and
  // `prev_hash`. `details` is canonical JSON text, so both dialects hash exactly what they store.
  const auditEvents = b.table(
    "audit_events",
    {
      seq: b.integer("seq").notNull(),
      at: b.integer("at").notNull(),
      /** Null for what concerns the whole gateway (an encryption key rotated). */
      workspaceId: b.text("workspace_id"),
      /** "user:<id>", "api_key:<id>", "oauth_grant:<id>", "scim:<token id>" or "system". */
      actor: b.text("actor").notNull(),
      fromIp: b.text("from_ip"),
      fromUserAgent: b.text("from_user_agent"),
      action: b.text("action").notNull(),
      target: b.text("target"),
      details: b.text("details").notNull(),
      prevHash: b.text("prev_hash").notNull(),
      hash: b.text("hash").notNull(),
    },
    (t) => [b.uniqueIndex("audit_events_seq").on(t.seq), b.index("audit_events_workspace_seq").on(t.workspaceId, t.seq)],
  );

  /**
   * What retention removed: the last removed entry's seq and hash, signed (HMAC, a key derived from
   * the encryption key) so the first kept entry still verifies. One row, replaced on each removal.
   */
  const auditAnchors = b.table("audit_anchors", {
    id: b.text("id").primaryKey(),
    seq: b.integer("seq").notNull(),
    hash: b.text("hash").notNull(),
    removedAt: b.integer("removed_at").notNull(),
    keyVersion: b.integer("key_version").notNull(),
    signature: b.text("signature").notNull(),
  });

  // Members (issue 16, item 6). Both tokens are single use and short lived, stored as SHA-256
  // hashes: the link itself is shown once (to the admin, or the operator on the command line).

  /** An admin's invitation: whoever opens the link first sets a password and joins with `role`. */
  const invites = b.table(
    "invites",
    {
      id: b.text("id").primaryKey(),
      workspaceId: b.text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
      email: b.text("email").notNull(),
      role: b.text("role", { enum: ["admin", "member"] }).notNull(),
      tokenHash: b.text("token_hash").notNull().unique(),
      createdBy: b.text("created_by"),
      createdAt: b.integer("created_at").notNull(),
      expiresAt: b.integer("expires_at").notNull(),
      acceptedAt: b.integer("accepted_at"),
      revokedAt: b.integer("revoked_at"),
    },
    (t) => [b.index("invites_workspace").on(t.workspaceId)],
  );

  /** A one-time link to set a new password (`mcp-gateway users reset-password`). */
  const passwordResets = b.table("password_resets", {
    tokenHash: b.text("token_hash").primaryKey(),
    userId: b.text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: b.integer("created_at").notNull(),
    expiresAt: b.integer("expires_at").notNull(),
    usedAt: b.integer("used_at"),
  });

  return {
    workspaces, users, memberships, sessions, apiKeys, signInAttempts, connections, credentials, tools, connectionItems,
    statusEvents, accessLog, oauthFlows, ssoProviders, ssoFlows, ssoIdentities, ssoRefreshTokens, scimTokens,
    scimProfiles, oauthClients, oauthGrants, oauthCodes, oauthTokens, memberCredentials,
    auditEvents, auditAnchors, invites, passwordResets,
  };
}
