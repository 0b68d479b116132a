import { sqliteBuilders } from "./builders.sqlite.ts";
import { defineSchema } from "./schema.ts";

// The SQLite tables, as named exports: drizzle-kit finds a schema's tables among its module's exports.
export const {
  workspaces, users, memberships, sessions, apiKeys, signInAttempts, connections, credentials, tools, toolOverrides, connectionItems, profiles, profileItems,
  statusEvents, accessLog, oauthFlows, ssoProviders, ssoFlows, ssoIdentities, ssoRefreshTokens, scimTokens,
  scimProfiles, oauthClients, oauthGrants, oauthCodes, oauthTokens, memberCredentials,
  auditEvents, auditAnchors, invites, passwordResets
} = defineSchema(sqliteBuilders);
