import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { createKeyring } from "../src/crypto/encryption.ts";
import { keyFilePath, readKeyFile } from "../src/crypto/key-file.ts";
import { findUnknownKeyVersions, rewrapSecrets } from "../src/crypto/rotate.ts";
import { findActiveSsoProvider, loadSsoClient } from "../src/sso/providers.ts";
import { dialects, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, CookieJar, startTestIdp, walkSignIn, type TestIdp } from "./helpers/oidc-provider.ts";

for (const dialect of dialects) {
  describe(`single sign-on on ${dialect}`, () => {
    let t: TestGateway;
    let idp: TestIdp;
    let ownerCookie: string;
    const post = (path: string, body: Record<string, string>, cookie: string): Promise<Response> =>
      fetch(`${t.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie },
        body: new URLSearchParams(body),
      });
    const userByEmail = async (email: string) => {
      const { db, t: tables } = t.gateway.deps.database;
      const [user] = await db.select().from(tables.users).where(eq(tables.users.email, email));
      return user;
    };
    /** A member signing in through the IdP in a fresh browser; returns that browser. */
    const ssoSignIn = async (email: string, jar = new CookieJar()) => {
      const { response, callbackUrl } = await walkSignIn(jar, { url: `${t.url}/sso/start` }, { email });
      return { jar, response, callbackUrl };
    };

    beforeAll(async () => {
      // Re-check SSO members at the IdP every second, so the revalidation test need not wait long.
      t = await startTestGateway({ dialect, env: { SSO_REVALIDATE_SECONDS: "1" } });
      await seedOwner(t);
      idp = await startTestIdp({
        redirectUris: [`${t.url}/sso/callback`],
        users: [
          { email: "admin@example.com", groups: ["eng-admins"] },
          { email: "bob@example.com", groups: ["eng-admins", "everyone"], name: "Bob Builder" },
          { email: "carol@example.com", groups: ["everyone"] },
          { email: "dave@example.com" },
          { email: "mallory@elsewhere.test" },
          { email: "unverified@example.com", emailVerified: false },
        ],
      });
      ownerCookie = await signIn(t);
    });
    afterAll(async () => {
      await idp.stop();
      await t.stop();
    });

    test("an issuer that is not an OpenID provider, or plain http off loopback, is refused with a field message", async () => {
      const base = { clientId: "x", clientSecret: "y" };
      const nobody = await post("/settings/sso", { ...base, issuer: "http://127.0.0.1:1" }, ownerCookie);
      expect(nobody.status).toBe(422);
      expect(await nobody.text()).toContain("The issuer could not be reached or is not an OpenID provider.");
      const plain = await post("/settings/sso", { ...base, issuer: "http://idp.example.com" }, ownerCookie);
      expect(plain.status).toBe(422);
      const html = await plain.text();
      expect(html).toContain("must be an https:// URL");
      expect(html).not.toContain('value="y"');
    });

    test("an admin saves the provider: it is discovered, stays pending, and its secret is never shown", async () => {
      const saved = await post(
        "/settings/sso",
        { name: "Test IdP", issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, allowedDomain: "example.com", roleMapping: "eng-admins=admin" },
        ownerCookie,
      );
      expect(saved.status).toBe(303);
      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      expect(settings).toContain("waiting for a test sign-in");
      expect(settings).toContain(`${t.url}/sso/callback`);
      expect(settings).toContain(idp.issuer);
      expect(settings).not.toContain(idp.clientSecret);
      const [row] = await t.gateway.deps.database.db.select().from(t.gateway.deps.database.t.ssoProviders);
      expect(row!.ciphertext).not.toContain(idp.clientSecret);
      expect(row!.status).toBe("pending");

      // Pending: members are not offered it, and it cannot be started.
      expect(await (await fetch(`${t.url}/sign-in`)).text()).not.toContain("Sign in with");
      expect((await fetch(`${t.url}/sso/start`, { redirect: "manual" })).status).toBe(404);
    });

    test("a test sign-in by the admin switches single sign-on on, and the sign-in page offers it", async () => {
      const { tested } = await connectProvider(t.url, ownerCookie, idp, {
        name: "Test IdP",
        allowedDomain: "example.com",
        roleMapping: "eng-admins=admin",
        clientSecret: "",
      });
      expect(tested.status).toBe(200);
      const page = await tested.text();
      expect(page).toContain("Single sign-on is on");
      expect(page).toContain("admin@example.com");
      expect(page).toContain("eng-admins");
      // Testing is not signing in: nobody was created.
      expect(await userByEmail("admin@example.com")).toBeUndefined();

      const signInPage = await (await fetch(`${t.url}/sign-in`)).text();
      expect(signInPage).toContain("Sign in with <span>Test IdP</span>");
      expect(signInPage).toContain('href="/sso/start"');
    });

    test("a member's first SSO sign-in creates them with the role their groups map to; others are members", async () => {
      const bob = await ssoSignIn("bob@example.com");
      expect(bob.response.status).toBe(303);
      expect(bob.response.headers.get("location")).toBe("/");
      const home = await bob.jar.fetch(`${t.url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain("bob@example.com");

      const carol = await ssoSignIn("carol@example.com");
      expect(carol.response.status).toBe(303);

      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      const row = (email: string) => settings.slice(settings.indexOf(`<td>${email}</td>`)).split("</tr>")[0]!;
      expect(row("bob@example.com")).toContain("SSO");
      expect(row("bob@example.com")).toContain('value="admin" selected');
      expect(row("carol@example.com")).toContain('value="member" selected');
      expect(row("carol@example.com")).not.toContain("never");
      const user = await userByEmail("bob@example.com");
      expect(user).toMatchObject({ source: "sso", name: "Bob Builder", passwordHash: null });
      expect(user!.lastSignInAt).toBeGreaterThan(0);

      // A member is not an admin: no settings for carol.
      expect((await carol.jar.fetch(`${t.url}/settings`)).status).toBe(403);
    });

    test("later sign-ins match by issuer and subject, not by email", async () => {
      const before = await userByEmail("bob@example.com");
      idp.updateUser("bob@example.com", { email: "robert@example.com" });
      try {
        const again = await ssoSignIn("robert@example.com");
        expect(again.response.status).toBe(303);
        expect(await userByEmail("robert@example.com")).toBeUndefined();
        const { db, t: tables } = t.gateway.deps.database;
        const sessions = await db.select().from(tables.sessions).where(eq(tables.sessions.userId, before!.id));
        expect(sessions.length).toBe(2);
      } finally {
        idp.updateUser("robert@example.com", { email: "bob@example.com" });
      }
    });

    test("an email outside the allowed domain, or one the IdP marks unverified, is refused with a clear page", async () => {
      const outside = await ssoSignIn("mallory@elsewhere.test");
      expect(outside.response.status).toBe(403);
      expect(await outside.response.text()).toContain("Only example.com accounts can sign in to this gateway; mallory@elsewhere.test is not one.");
      expect(outside.jar.header(t.url)).not.toContain("mgw_session");

      const unverified = await ssoSignIn("unverified@example.com");
      expect(unverified.response.status).toBe(403);
      expect(await unverified.response.text()).toContain("is not verified");
      expect(await userByEmail("mallory@elsewhere.test")).toBeUndefined();
      expect(await userByEmail("unverified@example.com")).toBeUndefined();
    });

    test("a sign-in's state works once, and only in the browser that started it", async () => {
      const first = await ssoSignIn("carol@example.com");
      expect(first.response.status).toBe(303);
      const callback = first.callbackUrl!;

      const elsewhere = await new CookieJar().fetch(callback);
      expect(elsewhere.status).toBe(400);
      expect(await elsewhere.text()).toContain("not started in this browser");

      const replay = new CookieJar();
      replay.set(t.url, "mgw_sso_state", new URL(callback).searchParams.get("state")!);
      const again = await replay.fetch(callback);
      expect(again.status).toBe(400);
      expect(await again.text()).toContain("expired or was already used");
    });

    test("when the IdP refuses a member's refresh, their next API-key request and page view are refused", async () => {
      const dave = await ssoSignIn("dave@example.com");
      expect(dave.response.status).toBe(303);
      const created = await dave.jar.fetch(`${t.url}/keys`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url },
        body: "name=laptop",
      });
      const key = (await created.text()).match(/mgw_[a-z0-9]{32}/)![0];
      const useKey = () => fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
      expect((await useKey()).status).toBe(200);

      // Past the interval the IdP is asked again; it still vouches (and rotates the refresh token).
      const { db, t: tables } = t.gateway.deps.database;
      const [tokenBefore] = await db.select().from(tables.ssoRefreshTokens);
      t.clock.advance(1100);
      expect((await useKey()).status).toBe(200);
      expect((await dave.jar.fetch(`${t.url}/`)).status).toBe(200);
      const daveId = (await userByEmail("dave@example.com"))!.id;
      const [identity] = await db.select().from(tables.ssoIdentities).where(eq(tables.ssoIdentities.userId, daveId));
      const [tokenAfter] = await db.select().from(tables.ssoRefreshTokens).where(eq(tables.ssoRefreshTokens.identityId, identity!.id));
      expect(tokenAfter!.ciphertext).not.toBe(tokenBefore!.ciphertext);

      await idp.revokeGrants("dave@example.com");
      t.clock.advance(1100);
      const refused = await useKey();
      expect(refused.status).toBe(401);
      const page = await dave.jar.fetch(`${t.url}/`);
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/sign-in");
      expect(await userByEmail("dave@example.com")).toMatchObject({ disabledReason: "idp" });
      const settings = await (await fetch(`${t.url}/settings`, { headers: { cookie: ownerCookie } })).text();
      expect(settings).toContain("signed out: the identity provider refused");

      // Signing in through the IdP again restores access; the revoked key stays revoked.
      const back = await ssoSignIn("dave@example.com", dave.jar);
      expect(back.response.status).toBe(303);
      expect((await dave.jar.fetch(`${t.url}/`)).status).toBe(200);
      expect((await useKey()).status).toBe(401);
    });

    test("admins change a member's role in settings, but never the owner's", async () => {
      const bob = (await userByEmail("bob@example.com"))!;
      const demoted = await post(`/settings/members/${bob.id}/role`, { role: "member" }, ownerCookie);
      expect(demoted.status).toBe(303);
      const fragment = await fetch(`${t.url}/settings/members/${bob.id}/role`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: t.url, cookie: ownerCookie, "hx-request": "true" },
        body: "role=owner",
      });
      expect(fragment.status).toBe(422);
      expect(await fragment.text()).toContain("Choose admin or member.");
      const owner = (await userByEmail("owner@example.com"))!;
      const refused = await post(`/settings/members/${owner.id}/role`, { role: "member" }, ownerCookie);
      expect(refused.status).toBe(422);
      expect(await refused.text()).toContain("role cannot be changed.");
      const { db, t: tables } = t.gateway.deps.database;
      const roles = await db.select().from(tables.memberships);
      expect(roles.find((m) => m.userId === bob.id)!.role).toBe("member");
      expect(roles.find((m) => m.userId === owner.id)!.role).toBe("owner");
    });

    // Last: the running gateway's keyring does not have the new key.
    test("rotate-key rewraps the provider's client secret and the members' refresh tokens", async () => {
      const { database, config } = t.gateway.deps;
      const fresh = crypto.getRandomValues(new Uint8Array(32));
      const keyring = await createKeyring(fresh, readKeyFile(keyFilePath(t.dataDir)));
      const refreshTokens = (await database.db.select().from(database.t.ssoRefreshTokens)).length;
      expect(refreshTokens).toBeGreaterThan(0);
      expect(await rewrapSecrets(database, keyring)).toBeGreaterThanOrEqual(1 + refreshTokens);
      const newOnly = await createKeyring(fresh);
      const provider = await findActiveSsoProvider(database);
      expect((await loadSsoClient({ database, config, keyring: newOnly }, provider!)).ok).toBe(true);
      expect(await findUnknownKeyVersions(database, newOnly)).toEqual([]);
    });

    test("no secret or token reaches a log line", () => {
      const logs = t.logs.join("");
      expect(logs).not.toContain(idp.clientSecret);
      expect(logs).not.toMatch(/mgw_[a-z0-9]{32}/);
    });
  });
}
