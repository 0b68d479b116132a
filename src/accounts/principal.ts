export type Role = "owner" | "admin" | "member";

/**
 * What the request was signed in with. An OAuth grant stands where a key would (sessions, open
 * limits and the access log follow it), but it is a different thing with a different id space.
 */
export type Credential =
  | { kind: "api_key"; id: string; name: string }
  | { kind: "oauth_grant"; id: string; clientName: string | null }
  | { kind: "session" };

/** Who is asking, and with which credential. */
export type Principal = {
  workspaceId: string;
  userId: string;
  email: string;
  role: Role;
  credential: Credential;
  /**
   * The profile (a chosen set of tools, prompts and resources) this request is limited to: the
   * key's or grant's own, or the one the /api/v1/mcp/p/<profile> endpoint serves. Absent: the whole
   * workspace. An id that names no profile (any more) serves nothing (gateway/profile-limit.ts).
   */
  profileId?: string;
};

export function isAdmin(principal: Principal): boolean {
  return principal.role === "owner" || principal.role === "admin";
}

/** The key's or grant's id; null for a dashboard session, which has no credential of its own. */
export function credentialId(credential: Credential): string | null {
  return credential.kind === "session" ? null : credential.id;
}
