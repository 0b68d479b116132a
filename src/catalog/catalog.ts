/**
 * The catalog of well-known MCP servers: data only. Each entry was checked against the provider's
 * own documentation (cited beside it) for its Streamable HTTP URL and the sign-in it expects.
 * Endpoints move; a stale one fails to connect with a plain message, and an operator can correct or
 * add entries in DATA_DIR/catalog.json (see load.ts and the README).
 */

/** How a catalog server expects to be signed in to. The first sign-in listed is the suggested one. */
export type CatalogSignIn =
  | { kind: "none" }
  /** MCP OAuth. `clientRequired`: the provider has no Dynamic Client Registration, so an operator registers an app and enters its client id/secret. */
  | { kind: "oauth"; clientRequired?: boolean; help?: string }
  /** An API key sent as `Authorization: Bearer <key>`. */
  | { kind: "bearer"; label: string; help?: string }
  /** An API key in a custom header. */
  | { kind: "header"; header: string; label: string; help?: string }
  /** An API key the server takes inside its URL, at `{key}`; stored sealed, never in the URL we keep. */
  | { kind: "url"; label: string; help?: string };

export type CatalogOption = CatalogSignIn & {
  /** A different URL for this sign-in (Firecrawl's keyed URL differs from its OAuth one). */
  url?: string;
};

export type CatalogEntry = {
  /** Also the suggested connection name (the tool prefix). */
  id: string;
  name: string;
  description: string;
  url: string;
  /** The provider page this entry was checked against. */
  docs: string;
  signIn: CatalogOption[];
};

export const BUILT_IN_CATALOG: CatalogEntry[] = [
  {
    // https://github.com/cloudflare/mcp (README: "MCP URL: https://mcp.cloudflare.com/mcp", "Option 1: OAuth
    // (Recommended)", "Option 2: API Token … Bearer Token"), and
    // https://developers.cloudflare.com/agents/model-context-protocol/mcp-servers-for-cloudflare/
    id: "cloudflare",
    name: "Cloudflare API",
    description: "The whole Cloudflare API (DNS, Workers, R2, Zero Trust, …) through a few code-mode tools.",
    url: "https://mcp.cloudflare.com/mcp",
    docs: "https://github.com/cloudflare/mcp",
    signIn: [
      { kind: "oauth" },
      { kind: "bearer", label: "Cloudflare API token", help: "Create one at dash.cloudflare.com/profile/api-tokens with the permissions the agent needs." },
    ],
  },
  {
    // https://github.com/cloudflare/mcp-server-cloudflare (README table: "Documentation server …
    // https://docs.mcp.cloudflare.com/mcp"; streamable-http on /mcp) and the developers.cloudflare.com page above.
    id: "cloudflare-docs",
    name: "Cloudflare Docs",
    description: "Up-to-date reference information from Cloudflare's developer documentation. No sign-in.",
    url: "https://docs.mcp.cloudflare.com/mcp",
    docs: "https://github.com/cloudflare/mcp-server-cloudflare",
    signIn: [{ kind: "none" }],
  },
  {
    // https://docs.firecrawl.dev/mcp-server ("Remote hosted URL … https://mcp.firecrawl.dev/{FIRECRAWL_API_KEY}/v2/mcp";
    // keyless free tier at https://mcp.firecrawl.dev/v2/mcp) and
    // https://docs.firecrawl.dev/developer-guides/mcp-setup-guides/oauth (OAuth on the keyless URL,
    // Dynamic Client Registration, refresh tokens rotate on every use).
    id: "firecrawl",
    name: "Firecrawl",
    description: "Search the web, scrape pages into clean markdown, crawl and map sites.",
    url: "https://mcp.firecrawl.dev/{key}/v2/mcp",
    docs: "https://docs.firecrawl.dev/mcp-server",
    signIn: [
      { kind: "url", label: "Firecrawl API key", help: "From firecrawl.dev/app/api-keys (starts with fc-). Firecrawl takes it inside the URL; the gateway keeps it sealed, never in the stored URL." },
      { kind: "oauth", url: "https://mcp.firecrawl.dev/v2/mcp" },
    ],
  },
  {
    // https://github.com/github/github-mcp-server/blob/main/docs/remote-server.md ("URL:
    // https://api.githubcopilot.com/mcp/") and docs/host-integration.md ("you may also supply any valid
    // access token … a pre-generated Personal Access Token"; "Dynamic Client Registration is NOT supported").
    id: "github",
    name: "GitHub",
    description: "Repositories, code, issues, pull requests, Actions and security alerts.",
    url: "https://api.githubcopilot.com/mcp/",
    docs: "https://github.com/github/github-mcp-server/blob/main/docs/remote-server.md",
    signIn: [
      { kind: "bearer", label: "GitHub personal access token", help: "A fine-grained token from github.com/settings/personal-access-tokens with the repositories and permissions the agent needs." },
      {
        kind: "oauth",
        clientRequired: true,
        help: "GitHub has no dynamic client registration: register a GitHub App or OAuth App with the callback URL below and enter its client id and secret.",
      },
    ],
  },
  {
    // https://linear.app/docs/mcp ("Both transports use OAuth 2.1 with dynamic client registration …
    // HTTP: https://mcp.linear.app/mcp"). The API-key sign-in (a personal key as "Authorization: Bearer")
    // is from https://integrations.sh/linear.app/linear/, not from Linear's own page: offered second.
    id: "linear",
    name: "Linear",
    description: "Find, create and update Linear issues, projects and comments.",
    url: "https://mcp.linear.app/mcp",
    docs: "https://linear.app/docs/mcp",
    signIn: [
      { kind: "oauth" },
      { kind: "bearer", label: "Linear API key", help: "A personal API key from Linear's Settings → Security & access." },
    ],
  },
  {
    // https://developers.notion.com/docs/mcp ("Notion MCP is a remote MCP server hosted by Notion. After
    // you authorize a connection with OAuth …"); endpoint https://mcp.notion.com/mcp (Streamable HTTP).
    id: "notion",
    name: "Notion",
    description: "Search, read, create and update Notion pages and databases.",
    url: "https://mcp.notion.com/mcp",
    docs: "https://developers.notion.com/docs/mcp",
    signIn: [{ kind: "oauth" }],
  },
];

/** The URL a sign-in uses: its own, or the entry's. */
export function urlFor(entry: CatalogEntry, option: CatalogOption): string {
  return option.url ?? entry.url;
}
