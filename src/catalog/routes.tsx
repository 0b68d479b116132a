import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { addConnection } from "../connections/add.ts";
import type { AuthInput } from "../connections/auth-kinds/registry.ts";
import { HttpError, htmlResponse, isHtmx, jsonResponse, readForm, redirect } from "../web/http.ts";
import { toViewer } from "../web/viewer.ts";
import { CatalogAddForm, CatalogAddPage, CatalogPage, type CatalogAddProps } from "../../views/catalog.tsx";
import { clientMetadataUrl, redirectUri } from "../upstream/oauth/client-identity.ts";
import { urlFor, type CatalogEntry, type CatalogOption } from "./catalog.ts";
import { loadCatalog } from "./load.ts";

/** The credential a catalog sign-in's form fields make. */
function authFrom(option: CatalogOption, form: Record<string, string>, index: number): AuthInput {
  const key = form[`key-${index}`] ?? "";
  switch (option.kind) {
    case "none":
      return { kind: "none" };
    case "oauth":
      return { kind: "oauth", clientId: (form[`clientId-${index}`] ?? "").trim() || undefined, clientSecret: form[`clientSecret-${index}`] || undefined };
    case "bearer":
      return { kind: "bearer", token: key };
    case "header":
      return { kind: "header", header: option.header, value: key };
    case "url":
      return { kind: "url", key };
  }
}

/** Add server → Catalog, and the catalog as JSON. Loaded once, when the app is built. */
export function catalogRoutes(deps: AppDeps): AnyElysia {
  const entries = loadCatalog(deps.config.dataDir, deps.log);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const find = (id: string): CatalogEntry => {
    const entry = byId.get(id);
    if (!entry) throw new HttpError(404, "There is no such server in the catalog.");
    return entry;
  };
  const formProps = (entry: CatalogEntry, values: CatalogAddProps["values"], errors: Record<string, string>): CatalogAddProps => ({
    entry,
    values,
    errors,
    callbackUrl: redirectUri(deps.config),
    metadataDocument: clientMetadataUrl(deps.config) !== null,
  });

  return new Elysia({ name: "catalog" })
    .use(withDeps(deps))
    .get("/api/v1/catalog", () => jsonResponse({ entries }), { apiKey: true })
    .get("/catalog", ({ principal }) => htmlResponse(<CatalogPage user={toViewer(principal)} entries={entries} />), { admin: true })
    .get("/catalog/:id", async ({ params, principal }) => {
      const entry = find(params.id);
      return htmlResponse(<CatalogAddPage user={toViewer(principal)} {...formProps(entry, { name: entry.id, signIn: 0 }, {})} />);
    }, { admin: true })
    .post("/catalog/:id", async ({ request, params, principal }) => {
      const entry = find(params.id);
      const form = await readForm(request);
      const index = Number(form.signIn ?? "0");
      const option = Number.isInteger(index) ? entry.signIn[index] : undefined;
      const values = { name: (form.name ?? "").trim(), signIn: option ? index : 0, exposeAll: form.expose === "all" };
      const result = option
        ? await addConnection(deps, principal, {
            name: values.name,
            url: urlFor(entry, option),
            auth: authFrom(option, form, index),
            catalogId: entry.id,
            expose: form.expose === "all" ? "all" : "none",
          })
        : { ok: false as const, errors: { auth: "Choose one of the sign-ins." } };
      if (!result.ok) {
        const props = formProps(entry, values, result.errors);
        if (isHtmx(request)) return htmlResponse(<CatalogAddForm {...props} />, 422);
        return htmlResponse(<CatalogAddPage user={toViewer(principal)} {...props} />, 422);
      }
      // An OAuth connection has no tools until it is authorized: its page has Connect (the callback
      // then leads to the pick). "Expose every tool" skips the pick.
      const path = `/connections/${encodeURIComponent(result.connection.id)}`;
      return redirect(request, result.connection.authKind === "oauth" || result.connection.exposeNewTools ? path : `${path}/expose`);
    }, { admin: true });
}
