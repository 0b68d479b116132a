import type { Viewer } from "../src/web/viewer.ts";
import { Layout } from "./layout.tsx";

export type OAuthConnectionView = { id: string; name: string; status: string; lastSyncedAt: number | null };

/** Connect the first time; afterwards (a revoked grant, more scope) it is Re-authorize. */
function neverConnected(connection: OAuthConnectionView): boolean {
  return connection.status === "needs_reauth" && connection.lastSyncedAt === null;
}

/**
 * Connect / Re-authorize for an OAuth connection. A real form that works without JavaScript (the
 * gateway answers with a page that forwards to the provider, src/web/continue-to.tsx); with JavaScript, public/app.js opens
 * the provider in a popup instead and reloads this page when the popup reports back.
 */
export function OAuthConnectButton(props: { connection: OAuthConnectionView; label?: string; action?: string }): JSX.Element {
  const label = props.label ?? (neverConnected(props.connection) ? "Connect" : "Re-authorize");
  return (
    <form method="post" action={props.action ?? `/connections/${encodeURIComponent(props.connection.id)}/oauth/start`} class="inline oauth-connect" data-oauth-popup="">
      <button type="submit">
        <span safe>{label}</span>
        <span class="visually-hidden" safe>
          {` ${props.connection.name}`}
        </span>
      </button>
    </form>
  );
}

export type OAuthResultProps = {
  user: Viewer | null;
  ok: boolean;
  message: string;
  connection: { id: string; name: string } | null;
};

/**
 * The callback's answer in a popup: public/app.js tells the window that opened it (which reloads)
 * and closes it. Without JavaScript, or when the provider cut the link to the opener, it says what
 * happened and links back.
 */
export function OAuthResultPage(props: OAuthResultProps): JSX.Element {
  const back = props.connection ? `/connections/${encodeURIComponent(props.connection.id)}` : "/";
  return (
    <Layout title={props.ok ? "Connected" : "Authorization failed"} user={props.user}>
      <section
        class="card narrow stack"
        id="oauth-result"
        data-oauth-result={props.ok ? "connected" : "failed"}
        data-connection-id={props.connection?.id ?? ""}
        data-return-to={back}
      >
        <h1>{props.ok ? "Connected" : "Authorization failed"}</h1>
        <p safe>{props.message}</p>
        <p>
          <a href={back}>Back to {props.connection ? <span safe>{props.connection.name}</span> : "the dashboard"}</a>
        </p>
      </section>
    </Layout>
  );
}

/** On a connection's page: what OAuth connections have instead of a token to replace. */
export function OAuthSection(props: { connection: OAuthConnectionView }): JSX.Element {
  const waiting = neverConnected(props.connection);
  return (
    <section class="card stack" aria-labelledby="oauth-title" id="oauth-section">
      <h2 id="oauth-title">Authorization</h2>
      <p>
        {waiting
          ? "This server signs in with OAuth. Connect opens the provider, where you approve access for the gateway."
          : props.connection.status === "needs_reauth"
            ? "The provider no longer accepts the gateway's authorization (the reason is above). Re-authorize opens the provider to approve access again."
            : "Signed in with OAuth; the gateway refreshes the token itself. Re-authorize to approve again, for example to grant a permission a tool asked for."}
      </p>
      <p>
        <OAuthConnectButton connection={props.connection} />
      </p>
    </section>
  );
}
