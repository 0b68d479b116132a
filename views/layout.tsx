
export type NavItem = "connections" | "keys" | "profiles" | "log" | "settings" | "members" | "account";
export type LayoutProps = {
  title: string;
  user?: { email: string; role: string } | null;
  active?: NavItem;
  /** An http(s) URL the page navigates to at once (meta refresh): see views/continue.tsx. */
  refreshTo?: string;
  /** What the last action did (src/web/flash.ts), shown above the page. */
  flash?: string | null;
  children?: JSX.Element | JSX.Element[] | string;
};

/** The page shell. Only our own script and stylesheet: the CSP allows nothing else. */
export function Layout(props: LayoutProps): JSX.Element {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* No settle step: it copies each swapped element's old `style` attribute onto the new one
            (Chromium leaves `style=""` on inputs), and under our CSP (style-src 'self') every copy is a
            blocked inline style and a console error. The dashboard has no settle transitions. */}
        <meta name="htmx-config" content='{"defaultSettleDelay":0}' />
        {props.refreshTo ? <meta http-equiv="refresh" content={`0;url=${props.refreshTo}`} /> : ""}
        <title safe>{props.title} · MCP Gateway</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/htmx.min.js" defer></script>
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href="/">MCP Gateway</a>
          {props.user ? (
            <nav aria-label="Main">
              <a href="/" aria-current={props.active === "connections" ? "page" : undefined}>Connections</a>
              <a href="/keys" aria-current={props.active === "keys" ? "page" : undefined}>API keys</a>
              <a href="/access-log" aria-current={props.active === "log" ? "page" : undefined}>Access log</a>
              {props.user.role === "owner" || props.user.role === "admin" ? (
                <>
                  <a href="/profiles" aria-current={props.active === "profiles" ? "page" : undefined}>Profiles</a>
                  <a href="/members" aria-current={props.active === "members" ? "page" : undefined}>Members</a>
                  <a href="/settings" aria-current={props.active === "settings" ? "page" : undefined}>Settings</a>
                </>
              ) : (
                ""
              )}
              <a href="/account" aria-current={props.active === "account" ? "page" : undefined}>Account</a>
              <form method="post" action="/sign-out" class="inline">
                <button type="submit" class="link">Sign out <span class="muted" safe>({props.user.email})</span></button>
              </form>
            </nav>
          ) : (
            ""
          )}
        </header>
        <main id="main" tabindex="-1">
          {props.flash ? (
            <p class="flash" role="status" safe>
              {props.flash}
            </p>
          ) : (
            ""
          )}
          {props.children as "safe"}
        </main>
      </body>
    </html>
  );
}

export function FieldError(props: { errors: Record<string, string>; field: string }): JSX.Element {
  const message = props.errors[props.field];
  if (!message) return "";
  return (
    <p class="field-error" id={`${props.field}-error`} role="alert" safe>
      {message}
    </p>
  );
}
