export type Role = "owner" | "admin" | "member";

/** Who is asking: resolved from a dashboard session or a gateway API key. */
export type Principal = {
  workspaceId: string;
  userId: string;
  email: string;
  role: Role;
  /** Set when the request came with an API key. */
  apiKeyId: string | null;
  apiKeyName: string | null;
};

export function isAdmin(principal: Principal): boolean {
  return principal.role === "owner" || principal.role === "admin";
}
