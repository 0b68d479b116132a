import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
  type OAuthDiscoveryState,
  type OAuthClientProvider,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";

/**
 * What an MCP client such as Claude Code keeps for one server: its registration, tokens and the
 * PKCE verifier. "Opening the browser" records the authorization URL for the test to walk.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  client: StoredOAuthClientInformation | undefined;
  saved: StoredOAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | null = null;
  discovery: OAuthDiscoveryState | undefined;

  constructor(
    readonly redirect = "http://127.0.0.1:53682/callback",
    readonly name = "Test Agent",
  ) {}

  get redirectUrl(): string {
    return this.redirect;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.client;
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.client = info;
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }

  // Binds the callback leg to the authorization server the redirect leg found (SEP-2352).
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }
}

export function mcpTransport(gatewayUrl: string, provider: OAuthClientProvider): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/api/v1/mcp`), { authProvider: provider });
}

export function newClient(): Client {
  return new Client({ name: "oauth-test-client", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } } as ConstructorParameters<typeof Client>[1]);
}

/**
 * The client's first contact by URL alone: the 401 sends it through discovery and registration to
 * the authorization URL (captured by the provider). Returns the transport, to finish auth on.
 */
export async function beginByUrl(gatewayUrl: string, provider: TestOAuthProvider): Promise<StreamableHTTPClientTransport> {
  const transport = mcpTransport(gatewayUrl, provider);
  const error = await newClient()
    .connect(transport)
    .then(() => null, (e: unknown) => e);
  if (!(error instanceof UnauthorizedError)) throw new Error(`expected UnauthorizedError, got ${String(error)}`);
  if (!provider.authorizationUrl) throw new Error("the client was not sent to authorize");
  return transport;
}

/** Connected with the provider's saved tokens. */
export async function connectWithTokens(gatewayUrl: string, provider: TestOAuthProvider): Promise<Client> {
  const client = newClient();
  await client.connect(mcpTransport(gatewayUrl, provider));
  return client;
}
