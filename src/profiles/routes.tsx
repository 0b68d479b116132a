import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { ConfirmPage } from "../../views/confirm.tsx";
import { itemValue, ProfileEditPage, ProfileList, ProfilesPage, type ProfileFormValues } from "../../views/profiles.tsx";
import { flashMessage, withFlash } from "../web/flash.ts";
import { HttpError, htmlResponse, isHtmx, readForm, readFormAll, redirect } from "../web/http.ts";
import { withDeps } from "../web/plugin.ts";
import { toViewer } from "../web/viewer.ts";
import type { Principal } from "../accounts/principal.ts";
import { listPickable } from "./pickable.ts";
import { deleteProfile, getProfile, listProfiles, saveProfile, type ProfileItem } from "./store.ts";
import { setGrantProfile } from "./grants.ts";
import type { ProfileItemKind } from "./limit.ts";

const KINDS: readonly ProfileItemKind[] = ["tool", "prompt", "resource", "resource_template"];

/** The Profiles page (admins): create, edit and delete profiles; and an app's profile on the keys page. */
export function profilesRoutes(deps: AppDeps): AnyElysia {
  const mcpUrl = `${deps.config.baseUrl}/api/v1/mcp`;
  const listPage = async (principal: Principal, flash: string | null, error?: string): Promise<JSX.Element> => (
    <ProfilesPage user={principal} profiles={await listProfiles(deps.database, principal.workspaceId)} mcpUrl={mcpUrl} flash={flash} error={error} />
  );
  const editPage = async (principal: Principal, values: ProfileFormValues, errors?: Record<string, string>): Promise<JSX.Element> => (
    <ProfileEditPage user={principal} values={values} connections={await listPickable(deps.database, principal.workspaceId)} errors={errors} />
  );
  const save = async (request: Request, principal: Principal, id: string | null): Promise<Response> => {
    const form = await readFormAll(request);
    const text = (field: string): string => {
      const value = form.get(field);
      return typeof value === "string" ? value : "";
    };
    const chosen = form.getAll("item").filter((v): v is string => typeof v === "string");
    const items = chosen.map(parseItem).filter((i): i is ProfileItem => i !== null);
    const input = { name: text("name"), description: text("description"), mode: text("mode"), items };
    const errors: Record<string, string> = items.length < chosen.length ? { items: "Some chosen items could not be read. Pick them again from the list." } : {};
    const result = Object.keys(errors).length > 0 ? { ok: false as const, errors } : await saveProfile(deps.database, principal.workspaceId, input, id);
    if (!result.ok) {
      return htmlResponse(await editPage(principal, { id, name: input.name, description: input.description, mode: input.mode, chosen: new Set(chosen) }, result.errors), 422);
    }
    // The profile reaches every replica's index, and clients hear their lists changed.
    deps.toolIndex.changed(principal.workspaceId);
    return redirect(request, withFlash("/profiles", "profile-saved"));
  };

  return new Elysia({ name: "profiles" })
    .use(withDeps(deps))
    .get("/profiles", async ({ request, principal }) => htmlResponse(await listPage(principal, flashMessage(request))), { admin: true })
    .get("/profiles/new", async ({ principal }) => htmlResponse(await editPage(principal, { id: null, name: "", description: "", mode: "full", chosen: new Set() })), { admin: true })
    .get("/profiles/:id", async ({ params, principal }) => {
      const profile = await getProfile(deps.database, principal.workspaceId, params.id);
      if (!profile) throw new HttpError(404, "No such profile in this workspace.");
      const chosen = new Set(profile.items.map((i) => itemValue(i.kind, i.connectionId, i.name)));
      return htmlResponse(await editPage(principal, { id: profile.id, name: profile.name, description: profile.description, mode: profile.mode, chosen }));
    }, { admin: true })
    .post("/profiles", async ({ request, principal }) => save(request, principal, null), { admin: true })
    .post("/profiles/:id", async ({ request, params, principal }) => {
      if (!(await getProfile(deps.database, principal.workspaceId, params.id))) throw new HttpError(404, "No such profile in this workspace.");
      return save(request, principal, params.id);
    }, { admin: true })
    // Delete asks first without JavaScript too: the list's Delete buttons GET this page.
    .get("/profiles/:id/delete", async ({ params, principal }) => {
      const profile = await getProfile(deps.database, principal.workspaceId, params.id);
      if (!profile) throw new HttpError(404, "No such profile in this workspace.");
      const question = `Delete the profile "${profile.name}"? Its endpoint stops answering. It cannot be deleted while keys or apps are limited to it.`;
      return htmlResponse(<ConfirmPage user={toViewer(principal)} question={question} action={`/profiles/${profile.id}/delete`} fields={{}} label="Delete profile" back={{ href: "/profiles", tab: "profiles" }} />);
    }, { admin: true })
    .post("/profiles/:id/delete", async ({ request, params, principal }) => {
      const result = await deleteProfile(deps.database, principal.workspaceId, params.id);
      if (result.ok) deps.toolIndex.changed(principal.workspaceId);
      const error = result.ok ? undefined : result.error;
      if (isHtmx(request)) return htmlResponse(<ProfileList profiles={await listProfiles(deps.database, principal.workspaceId)} mcpUrl={mcpUrl} error={error} />, result.ok ? 200 : 409);
      if (result.ok) return redirect(request, withFlash("/profiles", "profile-deleted"));
      return htmlResponse(await listPage(principal, null, error), 409);
    }, { admin: true })
    // An app a member allowed: an admin limits it to a profile (or frees it) on the keys page.
    .post("/keys/grants/:id/profile", async ({ request, params, principal }) => {
      const form = await readForm(request);
      const result = await setGrantProfile(deps.database, principal.workspaceId, params.id, form.profile ? form.profile : null);
      if (!result.ok) throw new HttpError(422, result.error);
      return redirect(request, withFlash("/keys", "app-profile-set"));
    }, { admin: true });
}

/** "kind connectionId name" (views/profiles.tsx itemValue), or null when it is not that shape. */
function parseItem(value: string): ProfileItem | null {
  const first = value.indexOf(" ");
  const second = first < 0 ? -1 : value.indexOf(" ", first + 1);
  if (second < 0) return null;
  const kind = value.slice(0, first) as ProfileItemKind;
  const name = value.slice(second + 1);
  if (!KINDS.includes(kind) || name === "") return null;
  return { kind, connectionId: value.slice(first + 1, second), name };
}
