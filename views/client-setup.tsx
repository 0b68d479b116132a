/**
 * Ready-to-paste setup of the gateway in each common MCP client, in that client's own format
 * (checked against each client's documentation, December 2026):
 * - Claude Code: `claude mcp add --transport http NAME URL --header "…"`.
 * - Claude Desktop: remote servers with a header go through the `mcp-remote` bridge in
 *   claude_desktop_config.json; URL-only (OAuth) is Settings → Connectors → Add custom connector.
 * - Cursor: ~/.cursor/mcp.json, `mcpServers.NAME.url` + `headers`.
 * - VS Code: .vscode/mcp.json, `servers.NAME` with `type: "http"`; without a key at hand the key is
 *   asked for once through an `inputs` prompt (kept as a secret by VS Code).
 * - Windsurf: ~/.codeium/windsurf/mcp_config.json, `serverUrl` (not `url`) + `headers`.
 * - Codex CLI: ~/.codex/config.toml `[mcp_servers.NAME]` with `url`; it refuses an inline token,
 *   so the key sits in an environment variable named by `bearer_token_env_var`.
 * - Gemini CLI: ~/.gemini/settings.json, `httpUrl` (its `url` means the old SSE transport) + `headers`.
 */

export type ClientSetup = {
  id: string;
  name: string;
  /** Where the snippet goes. */
  where: string;
  /** With the gateway API key (or a placeholder for it). */
  withKey: string;
  /** URL only: the client signs in through the gateway's OAuth; null where the client cannot. */
  oauth: string | null;
  /** Where the URL-only variant goes, when not where the keyed one goes. */
  oauthWhere?: string;
};

/** The name the gateway gets in each client's list of servers. */
const SERVER_NAME = "gateway";
const PLACEHOLDER = "<your key>";
const KEY_ENV = "MCP_GATEWAY_KEY";

/** `${name}` as the client's own placeholder syntax (expanded by the client, not by us). */
function clientVar(prefix: string, name: string): string {
  return `${prefix}$${"{"}${name}}`;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A TOML basic string: the URL is ours, but quote it properly all the same. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** A single-quoted POSIX shell word. */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** `key` null: the endpoint card, where no key is at hand (placeholders, or a prompt where the client has one). */
export function clientSetups(mcpUrl: string, key: string | null): ClientSetup[] {
  const bearer = `Bearer ${key ?? PLACEHOLDER}`;
  const header = { Authorization: bearer };
  // mcp-remote refuses plain http except to localhost unless told.
  const allowHttp = mcpUrl.startsWith("http://") ? ["--allow-http"] : [];
  return [
    {
      id: "claude-code",
      name: "Claude Code",
      where: "Run in a terminal:",
      withKey: `claude mcp add --transport http ${SERVER_NAME} ${mcpUrl} --header "Authorization: ${bearer}"`,
      oauth: `claude mcp add --transport http ${SERVER_NAME} ${mcpUrl}`,
    },
    {
      id: "claude-desktop",
      name: "Claude Desktop",
      where: "Settings → Developer → Edit Config (claude_desktop_config.json), then restart Claude Desktop; it needs Node.js for the mcp-remote bridge:",
      withKey: json({
        // The header goes through an env variable the bridge expands: a space inside an argument breaks on Windows.
        mcpServers: { [SERVER_NAME]: { command: "npx", args: ["-y", "mcp-remote", mcpUrl, ...allowHttp, "--header", clientVar("Authorization:", "AUTH_HEADER")], env: { AUTH_HEADER: bearer } } },
      }),
      oauth: mcpUrl,
      oauthWhere: "Or, with no key and no bridge: Settings → Connectors → Add custom connector, with this URL (Claude signs in to the gateway in a browser; the gateway must be reachable over https from Anthropic's side):",
    },
    {
      id: "cursor",
      name: "Cursor",
      where: "~/.cursor/mcp.json (or .cursor/mcp.json in a project):",
      withKey: json({ mcpServers: { [SERVER_NAME]: { url: mcpUrl, headers: header } } }),
      oauth: json({ mcpServers: { [SERVER_NAME]: { url: mcpUrl } } }),
    },
    {
      id: "vscode",
      name: "VS Code",
      where: ".vscode/mcp.json (or MCP: Open User Configuration):",
      withKey:
        key === null
          ? json({
              inputs: [{ type: "promptString", id: "gateway-key", description: "MCP Gateway API key", password: true }],
              servers: { [SERVER_NAME]: { type: "http", url: mcpUrl, headers: { Authorization: clientVar("Bearer ", "input:gateway-key") } } },
            })
          : json({ servers: { [SERVER_NAME]: { type: "http", url: mcpUrl, headers: header } } }),
      oauth: json({ servers: { [SERVER_NAME]: { type: "http", url: mcpUrl } } }),
    },
    {
      id: "windsurf",
      name: "Windsurf",
      where: "~/.codeium/windsurf/mcp_config.json, then refresh the MCP list:",
      withKey: json({ mcpServers: { [SERVER_NAME]: { serverUrl: mcpUrl, headers: header } } }),
      oauth: json({ mcpServers: { [SERVER_NAME]: { serverUrl: mcpUrl } } }),
    },
    {
      id: "codex",
      name: "Codex CLI",
      where: `~/.codex/config.toml; Codex reads the key from an environment variable (set it in the shell that starts Codex):`,
      withKey: `export ${KEY_ENV}=${shellWord(key ?? PLACEHOLDER)}\n\n[mcp_servers.${SERVER_NAME}]\nurl = ${tomlString(mcpUrl)}\nbearer_token_env_var = "${KEY_ENV}"`,
      oauth: `[mcp_servers.${SERVER_NAME}]\nurl = ${tomlString(mcpUrl)}\n\n# then sign in: codex mcp login ${SERVER_NAME}`,
    },
    {
      id: "gemini",
      name: "Gemini CLI",
      where: "~/.gemini/settings.json:",
      withKey: json({ mcpServers: { [SERVER_NAME]: { httpUrl: mcpUrl, headers: header } } }),
      oauth: json({ mcpServers: { [SERVER_NAME]: { httpUrl: mcpUrl } } }),
    },
  ];
}

/**
 * One collapsed section per client (native `<details>`: no script needed to open one). `idPrefix`
 * keeps ids unique when the card and a new key show on one page.
 */
export function ClientSetupList(props: { mcpUrl: string; apiKey: string | null; idPrefix: string }): JSX.Element {
  const setups = clientSetups(props.mcpUrl, props.apiKey);
  return (
    <div class="client-setups stack">
      {setups.map((setup) => {
        const keyId = `${props.idPrefix}-${setup.id}-key`;
        const oauthId = `${props.idPrefix}-${setup.id}-oauth`;
        return (
          <details class="client-setup" id={`${props.idPrefix}-${setup.id}`}>
            <summary safe>{setup.name}</summary>
            <p class="hint" safe>
              {setup.where}
            </p>
            <p class="hint">{props.apiKey ? "With the key just made (it is in this text: keep the file private):" : `With an API key (replace ${PLACEHOLDER}):`}</p>
            <div class="copy-row">
              <pre id={keyId} safe>
                {setup.withKey}
              </pre>
              <button type="button" class="secondary small" data-copy={keyId}>
                Copy <span class="visually-hidden" safe>{`${setup.name} setup`}</span>
              </button>
            </div>
            {setup.oauth ? (
              <>
                <p class="hint" safe>
                  {setup.oauthWhere ?? "Or with the URL only: the client signs in to the gateway in a browser (OAuth), no key to paste:"}
                </p>
                <div class="copy-row">
                  <pre id={oauthId} safe>
                    {setup.oauth}
                  </pre>
                  <button type="button" class="secondary small" data-copy={oauthId}>
                    Copy <span class="visually-hidden" safe>{`${setup.name} sign-in setup`}</span>
                  </button>
                </div>
              </>
            ) : (
              ""
            )}
          </details>
        );
      })}
    </div>
  );
}
