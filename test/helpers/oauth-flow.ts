import { api } from "./client.ts";

export type AuthorizeOutcome = {
  /** The authorization request as the authorization server received it. */
  authorizationUrl: URL;
  /** Where the authorization server sent the browser back (our callback, with code, state, iss). */
  callbackUrl: string;
  /** The gateway's answer to the callback. */
  callback: Response;
};

/**
 * What a person does after pressing Connect, done with fetch: start the flow (through the API, as
 * the connection's admin), follow the authorization server's redirect (it approves at once), and
 * land on the gateway's callback in a browser that is signed in to the dashboard (`cookie`).
 */
export async function authorizeConnection(
  gatewayUrl: string,
  key: string,
  cookie: string,
  connectionId: string,
  options: { fetchCallback?: (url: string, init: RequestInit) => Promise<Response> } = {},
): Promise<AuthorizeOutcome> {
  const started = await api(gatewayUrl, key)("POST", `/api/v1/connections/${connectionId}/oauth/start`);
  if (started.status !== 200) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.json)}`);
  const authorizationUrl = new URL(started.json.authorizationUrl as string);
  const approved = await fetch(authorizationUrl, { redirect: "manual" });
  const callbackUrl = approved.headers.get("location");
  if (approved.status !== 302 || !callbackUrl) throw new Error(`the authorization server answered ${approved.status}: ${await approved.text()}`);
  const fetchCallback = options.fetchCallback ?? ((url, init) => fetch(url, init));
  const callback = await fetchCallback(callbackUrl, { headers: { cookie }, redirect: "manual" });
  return { authorizationUrl, callbackUrl, callback };
}
