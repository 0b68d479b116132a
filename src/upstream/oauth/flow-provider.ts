import type {
  OAuthClientInformationContext,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  OAuthTokens,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import type { ConnectionRow } from "../../connections/types.ts";
import { generateToken } from "../../crypto/tokens.ts";
import type { OAuthManager } from "./manager.ts";
import type { ClientSource, OAuthData } from "./data.ts";
import { AuthorizationServerRefused } from "./errors.ts";
import type { FlowSecret } from "./flows.ts";

export type FlowProviderOptions = {
  manager: OAuthManager;
  connection: Pick<ConnectionRow, "id" | "workspaceId">;
  /** The stored credential as the flow began (client identity, earlier discovery). */
  data: OAuthData;
  redirectUrl: string;
  clientMetadata: OAuthClientMetadata;
  /** Our Client ID Metadata Document URL, only when it is https. */
  clientMetadataUrl: string | null;
  /** On the callback leg: what the start leg sealed in `oauth_flows`. */
  pending?: FlowSecret;
};

/**
 * The `OAuthClientProvider` the SDK's `auth()` drives for one interactive authorization. The start
 * leg records what it learns (client registration into the connection's credential; state, PKCE
 * verifier and discovery for `oauth_flows`) and captures the authorization URL instead of
 * navigating; the callback leg replays the sealed flow so the SDK can redeem the code.
 */
export class FlowProvider implements OAuthClientProvider {
  readonly clientMetadataUrl: string | undefined;
  authorizationUrl: URL | null = null;
  verifier: string | null = null;
  discovery: OAuthDiscoveryState | undefined;
  tokensReceived: (OAuthTokens & { issuer?: string }) | null = null;
  private stateValue: string | null = null;
  private client: StoredOAuthClientInformation | undefined;
  private source: ClientSource | undefined;

  constructor(private readonly options: FlowProviderOptions) {
    this.clientMetadataUrl = options.clientMetadataUrl ?? undefined;
    this.discovery = options.pending?.discovery;
    const { client, clientSource } = options.data;
    // A metadata-document identity only holds while we still serve that document at that URL.
    const stale = clientSource === "metadata_document" && client?.client_id !== options.clientMetadataUrl;
    this.client = stale ? undefined : client;
    this.source = stale ? undefined : clientSource;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.options.clientMetadata;
  }

  state(): string {
    this.stateValue ??= generateToken(32);
    return this.stateValue;
  }

  get stateIssued(): string | null {
    return this.stateValue;
  }

  clientInformation(_ctx?: OAuthClientInformationContext): StoredOAuthClientInformation | undefined {
    return this.client;
  }

  async saveClientInformation(info: StoredOAuthClientInformation): Promise<void> {
    const source: ClientSource =
      this.source === "operator" && info.client_id === this.client?.client_id
        ? "operator"
        : info.client_id === this.options.clientMetadataUrl
          ? "metadata_document"
          : "registration";
    this.client = info;
    this.source = source;
    await this.options.manager.update(this.options.connection, (data) => ({ ...data, client: info, clientSource: source }));
  }

  // An authorization always starts from nothing: stored tokens are what is being replaced.
  tokens(): StoredOAuthTokens | undefined {
    return undefined;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.tokensReceived = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    const verifier = this.options.pending?.codeVerifier;
    if (!verifier) throw new Error("no PKCE verifier for this authorization");
    return verifier;
  }

  /** MCP requires PKCE with S256; an authorization server that does not advertise it is refused. */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    const methods = state.authorizationServerMetadata?.code_challenge_methods_supported;
    if (!methods?.includes("S256")) {
      const where = state.authorizationServerMetadata?.issuer ?? state.authorizationServerUrl;
      throw new AuthorizationServerRefused(
        state.authorizationServerMetadata
          ? `the authorization server ${where} does not advertise PKCE with S256 (code_challenge_methods_supported), which MCP requires; the gateway will not authorize against it`
          : `no authorization server metadata was found for this server (tried ${where}); the gateway needs it to check PKCE support`,
      );
    }
    this.discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  async invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): Promise<void> {
    if ((scope === "all" || scope === "client") && this.source !== "operator") {
      this.client = undefined;
      await this.options.manager.update(this.options.connection, (data) => ({ ...data, client: undefined, clientSource: undefined }));
    }
  }
}
