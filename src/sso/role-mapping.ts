/** Group → role mapping: one `group=role` a line, as admins write it in settings. */

export type MappedRole = "admin" | "member";
export type RoleMapping = Map<string, MappedRole>;

const ROLES: MappedRole[] = ["admin", "member"];

export function parseRoleMapping(text: string): { ok: true; mapping: RoleMapping } | { ok: false; error: string } {
  const mapping: RoleMapping = new Map();
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf("=");
    const group = at > 0 ? line.slice(0, at).trim() : "";
    const role = at > 0 ? line.slice(at + 1).trim().toLowerCase() : "";
    if (!group || !ROLES.includes(role as MappedRole)) {
      return { ok: false, error: `Line ${i + 1}: write group=role, where role is admin or member (got “${line.slice(0, 80)}”).` };
    }
    mapping.set(group, role as MappedRole);
  }
  return { ok: true, mapping };
}

/** The groups a claim holds: an array of strings, or one string. */
export function readGroups(claims: Record<string, unknown>, claimName: string): string[] {
  const value = claims[claimName];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  return [];
}

/** The strongest role any of the member's groups maps to; member when none does. */
export function mapRole(mapping: RoleMapping, groups: string[]): MappedRole {
  return groups.some((g) => mapping.get(g) === "admin") ? "admin" : "member";
}
