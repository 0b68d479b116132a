import type { Principal } from "../accounts/principal.ts";
import { checkProfileName } from "../profiles/names.ts";
import type { CallDeps } from "./results.ts";
import type { GatewayView } from "./view.ts";

/*
 * The endpoint's side of profiles. /api/v1/mcp/p/<profile> serves one profile of the workspace,
 * under the workspace's names, to any of its credentials; a key or app limited to a profile may use
 * /api/v1/mcp (where it sees its profile) and its own profile's URL, and nothing else: another
 * profile's URL is refused, and so is a connection's own URL (/api/v1/mcp/<connection>), which
 * would serve all of that connection's items under their upstream names.
 */

const PROFILE_PATH = "/api/v1/mcp/p/";

/** The profile a path names (/api/v1/mcp/p/<profile>, a trailing slash allowed), or null. */
export function profileOfPath(path: string): string | null {
  if (!path.startsWith(PROFILE_PATH)) return null;
  const rest = path.slice(PROFILE_PATH.length);
  const name = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  return name === "" || name.includes("/") ? null : name;
}

export type PathAccess = { ok: true; principal: Principal } | { ok: false; status: 403 | 404; message: string };

/** Whether the principal may use this URL, and the principal it is served as (limited to the URL's profile). */
export async function principalForPath(deps: Pick<CallDeps, "toolIndex">, principal: Principal, view: GatewayView, profileName: string | null): Promise<PathAccess> {
  const index = await deps.toolIndex.get(principal.workspaceId);
  const own = principal.profileId === undefined ? null : (index.profiles.byId.get(principal.profileId) ?? null);
  const ownName = own ? `"${own.name}"` : "(a profile that was deleted)";
  const ownUrls = own ? `/api/v1/mcp or /api/v1/mcp/p/${own.name}` : "nothing until an admin gives it a profile again";
  if (profileName === null) {
    if (principal.profileId !== undefined && view.kind === "connection") {
      return { ok: false, status: 403, message: `This key is limited to the profile ${ownName}, so it may not use a connection's own URL, which serves every tool of that connection. Use ${ownUrls}.` };
    }
    return { ok: true, principal };
  }
  // Limited: only its own profile's URL, whatever the other name (a limited key learns no other profile's name).
  if (principal.profileId !== undefined && own?.name !== profileName) {
    return { ok: false, status: 403, message: `This key is limited to the profile ${ownName}; it may not use another profile's URL. Use ${ownUrls}.` };
  }
  const profile = index.profiles.byName.get(profileName);
  if (!profile) {
    // Echoed only when it is a name a profile could have.
    const named = checkProfileName(profileName) === null ? ` named "${profileName}"` : " by that name";
    return { ok: false, status: 404, message: `This workspace has no profile${named}. /api/v1/mcp/p/<profile> serves one profile (its name as the Profiles page shows it); /api/v1/mcp serves the whole workspace.` };
  }
  return { ok: true, principal: { ...principal, profileId: profile.id } };
}
