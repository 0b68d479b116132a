import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, CookieJar, startTestIdp, walkSignIn, type TestIdp } from "./helpers/oidc-provider.ts";

type ScimUser = { id: string; userName: string; active: boolean; externalId?: string; name: { givenName?: string; familyName?: string; formatted: string }; emails: { value: string; primary: boolean }[]; meta: { location: string; resourceType: string } };
type ScimList = { schemas: string[]; totalResults: number; startIndex: number; itemsPerPage: number; Resources: ScimUser[] };

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

for (const dialect of dialects) {
  describe(`SCIM provisioning on ${dialect}`, () => {
    let t: TestGateway;
    let idp: TestIdp;
    let ownerCookie: string;
    let token: string;

    const scim = (method: string, path: string, body?: unknown, bearer = token): Promise<Response> =>
      fetch(`${t.url}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/scim+json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const createUser = async (email: string, extra: Record<string, unknown> = {}): Promise<ScimUser> => {
      const response = await scim("POST", "/Users", { schemas: [USER_SCHEMA], userName: email, name: { givenName: "Erin", familyName: "Example" }, emails: [{ value: email, type: "work", primary: true }], active: true, ...extra });
      expect(response.status).toBe(201);
      return (await response.json()) as ScimUser;
    };
    const ssoSignIn = async (email: string, jar = new CookieJar()) => ({ jar, ...(await walkSignIn(jar, { url: `${t.url}/sso/start` }, { email })) });
    const mcpCall = (key: string): Promise<Response> =>
      fetch(`${t.url}/api/v1/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
      });
    /** Signs in through the IdP and makes an API key in the dashboard, as the member would. */
    const memberWithKey = async (email: string) => {
      const signedIn = await ssoSignIn(email);
      expect(signedIn.response.status).toBe(303);
      const created = await signedIn.jar.fetch(`${t.url}/keys`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url },
        body: "name=laptop",
      });
      const key = (await created.text()).match(/mgw_[a-z0-9]{32}/)![0];
      return { jar: signedIn.jar, key };
    };

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      await seedOwner(t);
      idp = await startTestIdp({
        redirectUris: [`${t.url}/sso/callback`],
        users: [{ email: "admin@example.com" }, { email: "erin@example.com" }, { email: "frank@example.com" }],
      });
      ownerCookie = await signIn(t);
      const { tested } = await connectProvider(t.url, ownerCookie, idp);
      expect(tested.status).toBe(200);
      const made = await fetch(`${t.url}/settings/scim/tokens`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie: ownerCookie },
        body: "name=Okta",
      });
      expect(made.status).toBe(200);
      token = (await made.text()).match(/mgw_scim_[a-z0-9]{32}/)![0];
    });
    afterAll(async () => {
      await idp.stop();
      await t.stop();
    });

    test("without a valid token the endpoint answers 401 in SCIM's error format", async () => {
      for (const bearer of ["", "mgw_scim_nope", "mgw_notascimtoken"]) {
        const response = await scim("GET", "/Users", undefined, bearer);
        expect(response.status).toBe(401);
        expect(response.headers.get("content-type")).toBe("application/scim+json");
        expect(await response.json()).toMatchObject({ schemas: [ERROR_SCHEMA], status: "401" });
      }
      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      expect(settings).toContain(token.slice(0, 15));
      expect(settings).not.toContain(token);
    });

    test("create, read and list users; userName filters find one; a duplicate is a uniqueness conflict", async () => {
      const erin = await createUser("erin@example.com", { externalId: "okta-00u1" });
      expect(erin).toMatchObject({ schemas: [USER_SCHEMA], userName: "erin@example.com", active: true, externalId: "okta-00u1", name: { givenName: "Erin", familyName: "Example" } });
      expect(erin.emails).toEqual([{ value: "erin@example.com", type: "work", primary: true } as never]);
      expect(erin.meta.location).toBe(`${t.url}/scim/v2/Users/${erin.id}`);

      const got = await scim("GET", `/Users/${erin.id}`);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("application/scim+json");
      expect(((await got.json()) as ScimUser).userName).toBe("erin@example.com");

      const all = (await (await scim("GET", "/Users")).json()) as ScimList;
      expect(all.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
      expect(all.totalResults).toBe(2);
      expect(all.Resources.map((u) => u.userName).sort()).toEqual(["erin@example.com", "owner@example.com"]);

      const filtered = (await (await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "ERIN@example.com"')}`)).json()) as ScimList;
      expect(filtered.totalResults).toBe(1);
      expect(filtered.Resources[0]!.id).toBe(erin.id);
      const byExternal = (await (await scim("GET", `/Users?filter=${encodeURIComponent('externalId eq "okta-00u1"')}`)).json()) as ScimList;
      expect(byExternal.Resources.map((u) => u.id)).toEqual([erin.id]);
      const none = (await (await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`)).json()) as ScimList;
      expect(none).toMatchObject({ totalResults: 0, Resources: [] });
      const paged = (await (await scim("GET", "/Users?startIndex=2&count=1")).json()) as ScimList;
      expect(paged).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });

      const badFilter = await scim("GET", `/Users?filter=${encodeURIComponent('title co "x"')}`);
      expect(badFilter.status).toBe(400);
      expect(await badFilter.json()).toMatchObject({ scimType: "invalidFilter" });
      const duplicate = await scim("POST", "/Users", { schemas: [USER_SCHEMA], userName: "erin@example.com" });
      expect(duplicate.status).toBe(409);
      expect(await duplicate.json()).toMatchObject({ schemas: [ERROR_SCHEMA], status: "409", scimType: "uniqueness" });
      const unknown = await scim("GET", "/Users/does-not-exist");
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ schemas: [ERROR_SCHEMA], status: "404" });
      const noEmail = await scim("POST", "/Users", { schemas: [USER_SCHEMA], userName: "just-a-name" });
      expect(noEmail.status).toBe(400);
      expect(await noEmail.json()).toMatchObject({ scimType: "invalidValue" });
    });

    test("PATCH as Okta and Entra send it, and PUT, update the user", async () => {
      const frank = await createUser("frank@example.com");
      // Entra: capitalised ops, paths, string booleans.
      const entra = await scim("PATCH", `/Users/${frank.id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [
          { op: "Replace", path: "name.givenName", value: "Franklin" },
          { op: "Add", path: 'emails[type eq "work"].value', value: "franklin@example.com" },
          { op: "Replace", path: "externalId", value: "entra-42" },
        ],
      });
      expect(entra.status).toBe(200);
      expect(await entra.json()).toMatchObject({ name: { givenName: "Franklin" }, emails: [{ value: "franklin@example.com" }], externalId: "entra-42" });
      // Okta: no path, a value object.
      const okta = await scim("PATCH", `/Users/${frank.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { "name.familyName": "Frankly", displayName: "Frank F." } }] });
      expect(await okta.json()).toMatchObject({ name: { familyName: "Frankly" }, displayName: "Frank F." });

      const put = await scim("PUT", `/Users/${frank.id}`, { schemas: [USER_SCHEMA], userName: "frank@example.com", emails: [{ value: "frank@example.com", primary: true }], name: { givenName: "Frank", familyName: "Fields" }, active: true });
      expect(put.status).toBe(200);
      const replaced = (await put.json()) as ScimUser;
      expect(replaced).toMatchObject({ userName: "frank@example.com", name: { givenName: "Frank", familyName: "Fields" }, emails: [{ value: "frank@example.com" }], active: true });
      expect(replaced.externalId).toBeUndefined();

      const bad = await scim("PATCH", `/Users/${frank.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", path: "active", value: "maybe" }] });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ scimType: "invalidValue" });
    });

    test("a provisioned user signs in through the IdP and is linked to their account by email", async () => {
      const { response } = await ssoSignIn("erin@example.com");
      expect(response.status).toBe(303);
      const { db, t: tables } = t.gateway.deps.database;
      const users = await db.select().from(tables.users).where(eq(tables.users.email, "erin@example.com"));
      expect(users.length).toBe(1);
      const identities = await db.select().from(tables.ssoIdentities).where(eq(tables.ssoIdentities.userId, users[0]!.id));
      expect(identities.length).toBe(1);
    });

    test("deactivation (active=false) ends the member's sessions and keys at once; reactivation lets them sign in again", async () => {
      const erin = ((await (await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "erin@example.com"')}`)).json()) as ScimList).Resources[0]!;
      const { jar, key } = await memberWithKey("erin@example.com");
      expect((await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect((await mcpCall(key)).status).toBe(200);
      expect((await jar.fetch(`${t.url}/`)).status).toBe(200);

      const off = await scim("PATCH", `/Users/${erin.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { active: false } }] });
      expect(off.status).toBe(200);
      expect(((await off.json()) as ScimUser).active).toBe(false);

      expect((await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
      expect((await mcpCall(key)).status).toBe(401);
      const page = await jar.fetch(`${t.url}/`);
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/sign-in");
      const again = await ssoSignIn("erin@example.com");
      expect(again.response.status).toBe(403);
      expect(await again.response.text()).toContain("deactivated");
      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      expect(settings).toContain("deactivated by the directory");

      // Entra's form of reactivation; the old key stays revoked.
      const on = await scim("PATCH", `/Users/${erin.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "Replace", path: "active", value: "True" }] });
      expect(((await on.json()) as ScimUser).active).toBe(true);
      expect((await ssoSignIn("erin@example.com")).response.status).toBe(303);
      expect((await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    });

    test("DELETE ends access and removes the user from the workspace; the owner cannot be deactivated or deleted", async () => {
      const list = (await (await scim("GET", "/Users")).json()) as ScimList;
      const frank = list.Resources.find((u) => u.userName === "frank@example.com")!;
      const owner = list.Resources.find((u) => u.userName === "owner@example.com")!;
      const { key } = await memberWithKey("frank@example.com");
      expect((await mcpCall(key)).status).toBe(200);

      const deleted = await scim("DELETE", `/Users/${frank.id}`);
      expect(deleted.status).toBe(204);
      expect((await scim("GET", `/Users/${frank.id}`)).status).toBe(404);
      expect((await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
      expect((await mcpCall(key)).status).toBe(401);
      expect((await ssoSignIn("frank@example.com")).response.status).toBe(403);
      const after = (await (await scim("GET", "/Users")).json()) as ScimList;
      expect(after.Resources.map((u) => u.userName)).not.toContain("frank@example.com");

      // The directory may provision them again later.
      const back = await createUser("frank@example.com");
      expect(back.id).toBe(frank.id);
      expect(back.active).toBe(true);

      for (const attempt of [
        scim("PATCH", `/Users/${owner.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", path: "active", value: false }] }),
        scim("DELETE", `/Users/${owner.id}`),
      ]) {
        const response = await attempt;
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ scimType: "mutability" });
      }
      expect((await fetch(`${t.url}/`, { headers: { cookie: ownerCookie } })).status).toBe(200);
    });

    test("a revoked SCIM token is refused on its next request", async () => {
      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      const id = settings.match(/\/settings\/scim\/tokens\/([\w-]+)\/revoke/)![1]!;
      const revoked = await fetch(`${t.url}/settings/scim/tokens/${id}/revoke`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie: ownerCookie },
      });
      expect(revoked.status).toBe(303);
      expect((await scim("GET", "/Users")).status).toBe(401);
      expect(t.logs.join("")).not.toContain(token);
    });
  });
}
