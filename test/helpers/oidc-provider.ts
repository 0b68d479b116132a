import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from "jose";
import Provider, { errors, type Configuration } from "oidc-provider";
import { nextLocation } from "./continue.ts";

/**
 * A real OpenID provider (panva's oidc-provider) on 127.0.0.1:0 through node:http: users with
 * email, email_verified and groups; a plain login form at /interaction/:uid (POST email and
 * password); consent granted without asking; client_secret_post; rotating refresh tokens;
 * revokeGrants(email) so that the user's refresh tokens are refused with invalid_grant; RFC 8693
 * token exchange of a user's ID token for an ID-JAG (Enterprise-Managed Authorization, SEP-990).
 */

export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_JAG_TYPE = "urn:ietf:params:oauth:token-type:id-jag";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";

/** What the IdP put in an ID-JAG it issued (for assertions). */
export type IssuedIdJag = { sub: string; aud: string; resource: string; clientId: string };

export type IdpUser = { email: string; password?: string; emailVerified?: boolean; groups?: string[]; name?: string };

export type TestIdp = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  addUser(user: IdpUser): void;
  /** Changes what the IdP says about a user (their subject stays). */
  updateUser(email: string, changes: Partial<IdpUser>): void;
  /** Destroys every grant the user gave, as an IdP does when an account is disabled. */
  revokeGrants(email: string): Promise<void>;
  /** Every ID-JAG issued by token exchange, in order. */
  idJags: IssuedIdJag[];
  stop(): Promise<void>;
};

export const IDP_PASSWORD = "idp password";

type Account = IdpUser & { sub: string };

/**
 * `idJagClientId`: the client id the ID-JAG names, i.e. the gateway's client at the upstream's
 * authorization server (a real IdP keeps that mapping per audience).
 */
export async function startTestIdp(options: { redirectUris: string[]; users?: IdpUser[]; idJagClientId?: string }): Promise<TestIdp> {
  const accounts = new Map<string, Account>();
  const grantsBySub = new Map<string, Set<string>>();
  let counter = 0;
  const addUser = (user: IdpUser): void => {
    const sub = `user-${++counter}`;
    accounts.set(sub, { ...user, sub });
  };
  for (const user of options.users ?? []) addUser(user);
  const byEmail = (email: string): Account | undefined => [...accounts.values()].find((a) => a.email === email);

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = "mcp-gateway";
  const clientSecret = "test-client-secret-that-is-long-enough-for-hs256";
  const key = await signingKey();
  const idJags: IssuedIdJag[] = [];

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code", "refresh_token", TOKEN_EXCHANGE],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    scopes: ["openid", "offline_access", "email", "profile", "groups"],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ["test-idp-cookie-key"] },
    jwks: { keys: [key.jwk] },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 86_400, Grant: 86_400, RefreshToken: 86_400 },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    // Like Okta and Entra, and unlike oidc-provider's strict default (offline_access only with
    // prompt=consent): any client allowed the refresh_token grant gets one, outliving the session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    expiresWithSession: async () => false,
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: account.email, email_verified: account.emailVerified ?? true, groups: account.groups ?? [], name: account.name ?? account.email };
        },
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  // RFC 8693 with the ID-JAG profile: the subject token is a user's ID token this IdP issued to the
  // requesting client; the answer is a short-lived JWT for the audience (the upstream's AS).
  type ExchangeParams = { subject_token?: string; subject_token_type?: string; requested_token_type?: string; audience?: string };
  provider.registerGrantType<ExchangeParams>(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const { params, client } = ctx.oidc;
      if (params.requested_token_type !== ID_JAG_TYPE || params.subject_token_type !== ID_TOKEN_TYPE) throw new errors.InvalidRequest("only ID token to ID-JAG exchanges are supported");
      const resource = typeof params.resource === "string" ? params.resource : "";
      if (!params.audience || !resource || !params.subject_token) throw new errors.InvalidRequest("audience, resource and subject_token are required");
      let sub: string;
      try {
        const verified = await jwtVerify(params.subject_token, key.publicKey, { issuer, audience: client.clientId });
        sub = String(verified.payload.sub);
      } catch {
        throw new errors.InvalidGrant("the subject token is not a valid ID token for this client");
      }
      if (!accounts.has(sub)) throw new errors.InvalidGrant("unknown subject");
      const jagClientId = options.idJagClientId ?? "mcp-gateway-upstream";
      const jag = await new SignJWT({ client_id: jagClientId, resource, ...(params.scope ? { scope: params.scope } : {}) })
        .setProtectedHeader({ alg: "RS256", kid: "test-idp", typ: "oauth-id-jag+jwt" })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(params.audience)
        .setIssuedAt()
        .setExpirationTime("5m")
        .setJti(randomUUID())
        .sign(key.privateKey);
      idJags.push({ sub, aud: params.audience, resource, clientId: jagClientId });
      ctx.body = { access_token: jag, issued_token_type: ID_JAG_TYPE, token_type: "N_A", expires_in: 300 };
    },
    ["subject_token", "subject_token_type", "requested_token_type", "audience", "resource", "scope"],
  );

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === "login") {
      if (req.method === "POST" && action === "login") {
        const form = new URLSearchParams(await readBody(req));
        const account = byEmail(form.get("email") ?? "");
        if (account && form.get("password") === (account.password ?? IDP_PASSWORD)) {
          await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
          return;
        }
        return sendLoginForm(res, uid, "Unknown email or wrong password.");
      }
      return sendLoginForm(res, uid, null);
    }
    // Consent: grant what the client asked for, and remember the grant so it can be revoked.
    const accountId = details.session!.accountId;
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant!.save();
    if (!grantsBySub.has(accountId)) grantsBySub.set(accountId, new Set());
    grantsBySub.get(accountId)!.add(grantId);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const match = req.url?.match(/^\/interaction\/([\w-]+)(?:\/(\w+))?/);
    if (!match) return callback(req, res);
    interaction(req, res, match[1]!, match[2]).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(error instanceof Error ? error.message : String(error));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    addUser,
    updateUser(email, changes) {
      const account = byEmail(email);
      if (!account) throw new Error(`no IdP user ${email}`);
      Object.assign(account, changes);
    },
    async revokeGrants(email) {
      const account = byEmail(email);
      for (const grantId of grantsBySub.get(account?.sub ?? "") ?? []) {
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
      }
    },
    idJags,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function signingKey(): Promise<{ jwk: Record<string, unknown>; privateKey: CryptoKey; publicKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { jwk: { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: "test-idp" }, privateKey, publicKey };
}

function sendLoginForm(res: ServerResponse, uid: string, error: string | null): void {
  res.statusCode = 200;
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(`<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1>${error ? `<p id="error">${error}</p>` : ""}
<form method="post" action="/interaction/${uid}/login">
<label>Email <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/** Cookies per origin, enough to walk redirects between the gateway and the IdP. */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  header(url: string | URL): string {
    const jar = this.jars.get(new URL(url).origin);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join("; ") : "";
  }

  set(url: string | URL, name: string, value: string): void {
    const origin = new URL(url).origin;
    if (!this.jars.has(origin)) this.jars.set(origin, new Map());
    this.jars.get(origin)!.set(name, value);
  }

  store(url: string | URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const at = pair!.indexOf("=");
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (expired) this.jars.get(new URL(url).origin)?.delete(name);
      else this.set(url, name, value);
    }
  }

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    this.store(url, response);
    return response;
  }
}

/**
 * Follows a sign-in from its first request at the gateway (a redirect, or the page that continues to the IdP), through the IdP's login form (as
 * `email`), back to the gateway's /sso/callback; returns the callback's response.
 */
export async function walkSignIn(
  jar: CookieJar,
  start: { url: string; init?: RequestInit },
  login: { email: string; password?: string },
): Promise<{ response: Response; callbackUrl: string | null }> {
  let url = new URL(start.url);
  let response = await jar.fetch(url, start.init);
  for (let hops = 0; hops < 20; hops++) {
    // A redirect, or the page with which the gateway answers a form bound for the IdP.
    const location = await nextLocation(response);
    if (location) {
      url = new URL(location, url);
      response = await jar.fetch(url);
      if (url.pathname === "/sso/callback") return { response, callbackUrl: url.href };
      continue;
    }
    const uid = url.pathname.match(/^\/interaction\/([\w-]+)$/)?.[1];
    if (response.status === 200 && uid) {
      const body = new URLSearchParams({ email: login.email, password: login.password ?? IDP_PASSWORD });
      url = new URL(`/interaction/${uid}/login`, url);
      response = await jar.fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
      continue;
    }
    return { response, callbackUrl: null };
  }
  throw new Error("too many redirects while signing in");
}

/**
 * An admin (signed in with `adminCookie`) saves the IdP in workspace settings and approves it with a
 * test sign-in as `tester`. Returns the save response and the test sign-in's result page.
 */
export async function connectProvider(
  gatewayUrl: string,
  adminCookie: string,
  idp: TestIdp,
  fields: Record<string, string> = {},
  tester: { email: string; password?: string } = { email: "admin@example.com" },
): Promise<{ saved: Response; tested: Response }> {
  const jar = new CookieJar();
  const [name, value] = adminCookie.split("=") as [string, string];
  jar.set(gatewayUrl, name, value);
  const form = { "content-type": "application/x-www-form-urlencoded", origin: gatewayUrl };
  const saved = await jar.fetch(`${gatewayUrl}/settings/sso`, {
    method: "POST",
    headers: form,
    body: new URLSearchParams({ name: "Test IdP", issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, ...fields }),
  });
  const { response: tested } = await walkSignIn(jar, { url: `${gatewayUrl}/settings/sso/test`, init: { method: "POST", headers: form, body: "" } }, tester);
  return { saved, tested };
}

/**
 * A signed-in user (their session cookie `cookie`, as "name=value") links the workspace's SSO from
 * their account page, signing in at the IdP as `login`. Returns the callback's response.
 */
export async function linkFromAccount(gatewayUrl: string, cookie: string, login: { email: string; password?: string }): Promise<Response> {
  const jar = new CookieJar();
  const [name, value] = cookie.split("=") as [string, string];
  jar.set(gatewayUrl, name, value);
  const init = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: gatewayUrl }, body: "" };
  const { response } = await walkSignIn(jar, { url: `${gatewayUrl}/account/sso/link`, init }, login);
  return response;
}
