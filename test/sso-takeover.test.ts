import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { createScimUser, deleteScimUser, getScimUser } from "../src/scim/users.ts";
import { newId } from "../src/crypto/tokens.ts";
import { dialects, OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { connectProvider, CookieJar, startTestIdp, walkSignIn, type TestIdp } from "./helpers/oidc-provider.ts";

const MEMBER = { email: "member@example.com", password: "member password" };
const EVE = { email: "eve@example.com", password: "eve's own password" };
const REFUSAL = "Sign in with your password, then link single sign-on from your account page.";

/** Where the gateway sends the browser: a redirect, or a page that navigates on to another origin. */
async function destinationOf(response: Response): Promise<string> {
  const location = response.headers.get("location");
  if (response.status === 303 && location) return location;
  const refresh = (await response.text()).match(/<meta http-equiv="refresh" content="0;url=([^"]*)"/)?.[1];
  if (!refresh) throw new Error(`no destination in a ${response.status} answer`);
  return refresh.replaceAll("&amp;", "&");
}

/**
 * A hostile admin (Eve) points SSO at an identity provider she runs and signs in "with SSO" as
 * people whose email she knows. Only accounts SSO or SCIM made may be linked by a first sign-in; a
 * password account is linked only by its holder, from their own account page.
 */
for (const dialect of dialects) {
  describe(`SSO cannot take over an account by email on ${dialect}`, () => {
    let t: TestGateway;
    let idp: TestIdp;
    let otherIdp: TestIdp;
    let workspaceId: string;
    let eveCookie: string;
    const form = (): Record<string, string> => ({ "content-type": "application/x-www-form-urlencoded", origin: t.url });

    const userByEmail = async (email: string) => {
      const { db, t: tables } = t.gateway.deps.database;
      const [user] = await db.select().from(tables.users).where(eq(tables.users.email, email));
      return user!;
    };
    const identitiesOf = async (userId: string) => {
      const { db, t: tables } = t.gateway.deps.database;
      return db.select().from(tables.ssoIdentities).where(eq(tables.ssoIdentities.userId, userId));
    };
    const sessionsOf = async (userId: string) => {
      const { db, t: tables } = t.gateway.deps.database;
      return db.select().from(tables.sessions).where(eq(tables.sessions.userId, userId));
    };
    const ssoSignIn = (email: string, jar = new CookieJar()) => walkSignIn(jar, { url: `${t.url}/sso/start` }, { email });
    /** A password user, signed in in `jar`, links the workspace's SSO from their account page as `idpEmail`. */
    const linkFromAccount = async (jar: CookieJar, idpEmail: string) => walkSignIn(jar, { url: `${t.url}/account/sso/link`, init: { method: "POST", headers: form(), body: "" } }, { email: idpEmail });
    const passwordJar = async (email: string, password: string): Promise<CookieJar> => {
      const jar = new CookieJar();
      const [name, value] = (await signIn(t, email, password)).split("=") as [string, string];
      jar.set(t.url, name, value);
      return jar;
    };
    const addPasswordUser = async (email: string, password: string, role: "admin" | "member"): Promise<string> => {
      const { database } = t.gateway.deps;
      const userId = newId();
      const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
      await database.db.insert(database.t.users).values({ id: userId, email, name: email, passwordHash, createdAt: Date.now() });
      await database.db.insert(database.t.memberships).values({ workspaceId, userId, role, createdAt: Date.now() });
      return userId;
    };

    beforeAll(async () => {
      t = await startTestGateway({ dialect });
      workspaceId = (await seedOwner(t)).workspaceId;
      await addPasswordUser(MEMBER.email, MEMBER.password, "member");
      await addPasswordUser(EVE.email, EVE.password, "admin");
      const users = [{ email: EVE.email }, { email: OWNER.email }, { email: MEMBER.email }, { email: "sam@example.com" }, { email: "rita@example.com" }, { email: "newbie@example.com" }];
      idp = await startTestIdp({ redirectUris: [`${t.url}/sso/callback`], users });
      otherIdp = await startTestIdp({ redirectUris: [`${t.url}/sso/callback`], users });
      // Eve, an admin, configures an IdP she controls and switches it on with a test sign-in.
      eveCookie = await signIn(t, EVE.email, EVE.password);
      const { tested } = await connectProvider(t.url, eveCookie, idp, {}, { email: EVE.email });
      expect(tested.status).toBe(200);
    });
    afterAll(async () => {
      await Promise.all([idp.stop(), otherIdp.stop()]);
      await t.stop();
    });

    test("an SSO sign-in with the owner's email is refused, and the owner's account is untouched", async () => {
      const owner = await userByEmail(OWNER.email);
      const sessionsBefore = (await sessionsOf(owner.id)).length;
      const jar = new CookieJar();
      const { response } = await ssoSignIn(OWNER.email, jar);
      expect(response.status).toBe(403);
      const page = await response.text();
      expect(page).toContain(REFUSAL);
      // Says no more than needed: not whose account it is, nor its role.
      expect(page).not.toContain("owner");
      expect(jar.header(t.url)).not.toContain("mgw_session");
      expect(await identitiesOf(owner.id)).toEqual([]);
      expect((await sessionsOf(owner.id)).length).toBe(sessionsBefore);
      expect(await userByEmail(OWNER.email)).toEqual(owner);
      // The owner's password still works.
      expect(await signIn(t)).toContain("mgw_session=");
    });

    test("an SSO sign-in with a member's email is refused, and the member's account is untouched", async () => {
      const member = await userByEmail(MEMBER.email);
      const jar = new CookieJar();
      const { response } = await ssoSignIn(MEMBER.email, jar);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain(REFUSAL);
      expect(jar.header(t.url)).not.toContain("mgw_session");
      expect(await identitiesOf(member.id)).toEqual([]);
      expect(await sessionsOf(member.id)).toEqual([]);
      expect(await userByEmail(MEMBER.email)).toEqual(member);
    });

    test("an account SCIM provisioned is linked on its first SSO sign-in; a new person gets a new account", async () => {
      const made = await createScimUser(t.gateway.deps.database, workspaceId, { userName: "sam@example.com", email: "sam@example.com", givenName: "Sam", familyName: "S", displayName: "Sam S", externalId: null, active: true });
      expect(made.ok).toBe(true);
      const sam = await userByEmail("sam@example.com");
      const { response } = await ssoSignIn("sam@example.com");
      expect(response.status).toBe(303);
      expect((await identitiesOf(sam.id)).length).toBe(1);

      const { response: fresh } = await ssoSignIn("newbie@example.com");
      expect(fresh.status).toBe(303);
      expect(await userByEmail("newbie@example.com")).toMatchObject({ source: "sso", passwordHash: null });
    });

    test("a password account the directory removes and provisions again still cannot be taken over by SSO", async () => {
      const rita = await addPasswordUser("rita@example.com", "rita's password", "member");
      const { database } = t.gateway.deps;
      const removed = await deleteScimUser(database, workspaceId, (await getScimUser(database, workspaceId, rita))!);
      expect(removed.ok).toBe(true);
      const back = await createScimUser(database, workspaceId, { userName: "rita@example.com", email: "rita@example.com", givenName: "Rita", familyName: "R", displayName: "Rita R", externalId: null, active: true });
      expect(back.ok).toBe(true);
      const { response } = await ssoSignIn("rita@example.com");
      expect(response.status).toBe(403);
      expect(await response.text()).toContain(REFUSAL);
      expect(await identitiesOf(rita)).toEqual([]);
    });

    test("a signed-in member links SSO from their own account page, and signs in through it from then on", async () => {
      const member = await userByEmail(MEMBER.email);
      const jar = await passwordJar(MEMBER.email, MEMBER.password);
      const account = await jar.fetch(`${t.url}/account`);
      expect(account.status).toBe(200);
      const before = await account.text();
      expect(before).toContain('action="/account/sso/link"');
      expect(before).toContain("Not linked");

      const { response } = await linkFromAccount(jar, MEMBER.email);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/account");
      expect((await identitiesOf(member.id)).length).toBe(1);
      const after = await (await jar.fetch(`${t.url}/account`)).text();
      expect(after).toContain("Linked");
      expect(after).toContain(MEMBER.email);

      // Now the identity is the member's: an SSO sign-in lands in their account.
      const browser = new CookieJar();
      const signedIn = await ssoSignIn(MEMBER.email, browser);
      expect(signedIn.response.status).toBe(303);
      const home = await browser.fetch(`${t.url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain(MEMBER.email);
    });

    test("linking needs a session: without one, from another site, or finished in another person's session, nothing is linked", async () => {
      const anonymous = await fetch(`${t.url}/account/sso/link`, { method: "POST", redirect: "manual", headers: form(), body: "" });
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get("location")).toStartWith("/sign-in");

      const owner = await userByEmail(OWNER.email);
      const ownerJar = await passwordJar(OWNER.email, OWNER.password);
      const crossSite = await ownerJar.fetch(`${t.url}/account/sso/link`, { method: "POST", headers: { ...form(), origin: "https://evil.example" }, body: "" });
      expect(crossSite.status).toBe(403);

      // Eve starts a link in her browser, then has the owner's browser finish it: refused.
      const eveJar = await passwordJar(EVE.email, EVE.password);
      const started = await eveJar.fetch(`${t.url}/account/sso/link`, { method: "POST", headers: form(), body: "" });
      const toIdp = await destinationOf(started);
      expect(new URL(toIdp).origin).toBe(idp.issuer);
      const state = new URL(toIdp).searchParams.get("state")!;
      const [name, value] = (await signIn(t)).split("=") as [string, string];
      const victim = new CookieJar();
      victim.set(t.url, name, value);
      victim.set(t.url, "mgw_sso_state", state);
      const { response } = await walkSignIn(victim, { url: toIdp }, { email: EVE.email });
      expect(response.status).toBe(403);
      expect(await identitiesOf(owner.id)).toEqual([]);
    });

    test("an identity already linked to one account cannot be linked to another", async () => {
      const eve = await userByEmail(EVE.email);
      const jar = await passwordJar(EVE.email, EVE.password);
      const { response } = await linkFromAccount(jar, MEMBER.email);
      expect(response.status).toBe(409);
      expect(await response.text()).toContain("already linked to another account");
      expect(await identitiesOf(eve.id)).toEqual([]);
    });

    test("the owner links explicitly from their account page; unlinking removes it", async () => {
      const owner = await userByEmail(OWNER.email);
      const jar = await passwordJar(OWNER.email, OWNER.password);
      expect((await linkFromAccount(jar, OWNER.email)).response.status).toBe(303);
      expect((await identitiesOf(owner.id)).length).toBe(1);
      const unlinked = await jar.fetch(`${t.url}/account/sso/unlink`, { method: "POST", headers: form(), body: "" });
      expect(unlinked.status).toBe(303);
      expect(await identitiesOf(owner.id)).toEqual([]);
      expect((await ssoSignIn(OWNER.email)).response.status).toBe(403);
      expect((await linkFromAccount(jar, OWNER.email)).response.status).toBe(303);
    });

    test("changing the provider's client id or issuer unlinks every identity bound to it", async () => {
      const { db, t: tables } = t.gateway.deps.database;
      const linked = await db.select().from(tables.ssoIdentities);
      expect(linked.length).toBeGreaterThanOrEqual(3);
      const save = (fields: Record<string, string>) => fetch(`${t.url}/settings/sso`, { method: "POST", redirect: "manual", headers: { ...form(), cookie: eveCookie }, body: new URLSearchParams(fields) });

      // Another name is not another provider: links stay.
      expect((await save({ name: "Renamed", issuer: idp.issuer, clientId: idp.clientId, clientSecret: "" })).status).toBe(303);
      expect((await db.select().from(tables.ssoIdentities)).length).toBe(linked.length);

      expect((await save({ name: "Renamed", issuer: idp.issuer, clientId: "another-client", clientSecret: "" })).status).toBe(303);
      expect(await db.select().from(tables.ssoIdentities)).toEqual([]);
      expect(await db.select().from(tables.ssoRefreshTokens)).toEqual([]);

      // Back to the first client and switched on again: the owner is not linked implicitly.
      const { tested } = await connectProvider(t.url, eveCookie, idp, { clientSecret: "" }, { email: EVE.email });
      expect(tested.status).toBe(200);
      expect((await ssoSignIn(OWNER.email)).response.status).toBe(403);
      // An account SSO made is linked again by its next sign-in.
      expect((await ssoSignIn("newbie@example.com")).response.status).toBe(303);
      const owner = await userByEmail(OWNER.email);
      const ownerJar = await passwordJar(OWNER.email, OWNER.password);
      expect((await linkFromAccount(ownerJar, OWNER.email)).response.status).toBe(303);
      expect((await identitiesOf(owner.id)).length).toBe(1);

      const { saved } = await connectProvider(t.url, eveCookie, otherIdp, {}, { email: EVE.email });
      expect(saved.status).toBe(303);
      expect(await db.select().from(tables.ssoIdentities)).toEqual([]);
      expect((await ssoSignIn(OWNER.email)).response.status).toBe(403);
    });
  });
}
