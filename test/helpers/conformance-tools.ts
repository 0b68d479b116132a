// The tools of the conformance fixture upstream (conformance-upstream.ts): what the suite's
// tools-call-*, elicitation-* and json-schema scenarios call and list. Tools that need the client's
// input are written once with inputRequired(): on a 2025 session the SDK's legacy shim sends the
// client real sampling/elicitation requests and calls the handler again with the answers.
import { inputRequired, inputResponse, type CallToolResult, type InputRequiredResult, type ServerContext, type Tool } from "@modelcontextprotocol/server";

// 1x1 red PNG; a 1-sample silent WAV.
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==";

const noArguments = { type: "object", properties: {} } as const;

type Answer = CallToolResult | InputRequiredResult;
type Run = (args: Record<string, unknown>, ctx: ServerContext) => Answer | Promise<Answer>;
type FixtureTool = { definition: Tool; run: Run };

const text = (value: string) => ({ type: "text" as const, text: value });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What an elicitation answer was, in the words the scenarios ask for. */
function describeElicitation(ctx: ServerContext, key: string): string | null {
  const answer = inputResponse(ctx.mcpReq.inputResponses, key);
  if (answer.kind !== "elicit") return null;
  return `action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
}

export const TOOLS: FixtureTool[] = [
  {
    definition: { name: "test_simple_text", description: "Returns simple text content.", inputSchema: noArguments },
    run: () => ({ content: [text("This is a simple text response for testing.")] }),
  },
  {
    definition: { name: "test_image_content", description: "Returns a PNG image.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }] }),
  },
  {
    definition: { name: "test_audio_content", description: "Returns a WAV audio clip.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }] }),
  },
  {
    definition: { name: "test_embedded_resource", description: "Returns an embedded text resource.", inputSchema: noArguments },
    run: () => ({ content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }] }),
  },
  {
    definition: { name: "test_multiple_content_types", description: "Returns text, an image and a resource.", inputSchema: noArguments },
    run: () => ({
      content: [
        text("Multiple content types test:"),
        { type: "image", data: PNG_BASE64, mimeType: "image/png" },
        { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
      ],
    }),
  },
  {
    definition: { name: "test_tool_with_logging", description: "Sends three log messages while it runs.", inputSchema: noArguments },
    run: async (_, ctx) => {
      for (const [i, data] of ["Tool execution started", "Tool processing data", "Tool execution completed"].entries()) {
        if (i > 0) await sleep(50);
        await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", logger: "conformance-upstream", data } });
      }
      return { content: [text("Tool with logging executed successfully")] };
    },
  },
  {
    definition: { name: "test_error_handling", description: "Always answers with a tool error.", inputSchema: noArguments },
    run: () => ({ isError: true, content: [text("This tool intentionally returns an error for testing")] }),
  },
  {
    definition: { name: "test_tool_with_progress", description: "Reports progress 0, 50 and 100 of 100.", inputSchema: noArguments },
    run: async (_, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await sleep(50);
        if (progressToken !== undefined) await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress, total: 100 } });
      }
      return { content: [text("Tool with progress executed successfully")] };
    },
  },
  {
    definition: {
      name: "test_sampling",
      description: "Asks the client's model to answer the prompt (sampling/createMessage).",
      inputSchema: { type: "object", properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } }, required: ["prompt"] },
    },
    run: (args, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "sample");
      if (answer.kind === "sampling") {
        const content = answer.result.content;
        const said = !Array.isArray(content) && content.type === "text" ? content.text : JSON.stringify(content);
        return { content: [text(`LLM response: ${said}`)] };
      }
      const prompt = String(args.prompt ?? "");
      return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: "user", content: text(prompt) }], maxTokens: 100 }) } });
    },
  },
  {
    definition: {
      name: "test_elicitation",
      description: "Asks the user for a username and an email (elicitation/create).",
      inputSchema: { type: "object", properties: { message: { type: "string", description: "The message to show the user" } }, required: ["message"] },
    },
    run: (args, ctx) => {
      const answer = describeElicitation(ctx, "user");
      if (answer !== null) return { content: [text(`User response: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: { username: { type: "string" as const, description: "User's response" }, email: { type: "string" as const, description: "User's email address" } },
        required: ["username", "email"],
      };
      return inputRequired({ inputRequests: { user: inputRequired.elicit({ message: String(args.message ?? ""), requestedSchema }) } });
    },
  },
  {
    definition: { name: "test_elicitation_sep1034_defaults", description: "Elicits a form whose fields all have defaults (SEP-1034).", inputSchema: noArguments },
    run: (_, ctx) => {
      const answer = describeElicitation(ctx, "defaults");
      if (answer !== null) return { content: [text(`Elicitation completed: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: {
          name: { type: "string" as const, description: "User name", default: "John Doe" },
          age: { type: "integer" as const, description: "User age", default: 30 },
          score: { type: "number" as const, description: "User score", default: 95.5 },
          status: { type: "string" as const, description: "User status", enum: ["active", "inactive", "pending"], default: "active" },
          verified: { type: "boolean" as const, description: "Verification status", default: true },
        },
      };
      return inputRequired({ inputRequests: { defaults: inputRequired.elicit({ message: "Please review and update the form fields with defaults", requestedSchema }) } });
    },
  },
  {
    definition: { name: "test_elicitation_sep1330_enums", description: "Elicits a form with every enum variant (SEP-1330).", inputSchema: noArguments },
    run: (_, ctx) => {
      const answer = describeElicitation(ctx, "enums");
      if (answer !== null) return { content: [text(`Elicitation completed: ${answer}`)] };
      const requestedSchema = {
        type: "object" as const,
        properties: {
          untitledSingle: { type: "string" as const, description: "Untitled single-select", enum: ["option1", "option2", "option3"] },
          titledSingle: {
            type: "string" as const,
            description: "Titled single-select",
            oneOf: [
              { const: "value1", title: "First Option" },
              { const: "value2", title: "Second Option" },
              { const: "value3", title: "Third Option" },
            ],
          },
          legacyEnum: { type: "string" as const, description: "Legacy titled enum", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
          untitledMulti: { type: "array" as const, description: "Untitled multi-select", items: { type: "string" as const, enum: ["option1", "option2", "option3"] } },
          titledMulti: {
            type: "array" as const,
            description: "Titled multi-select",
            items: {
              anyOf: [
                { const: "value1", title: "First Choice" },
                { const: "value2", title: "Second Choice" },
                { const: "value3", title: "Third Choice" },
              ],
            },
          },
        },
      };
      return inputRequired({ inputRequests: { enums: inputRequired.elicit({ message: "Please select options", requestedSchema }) } });
    },
  },
  {
    definition: {
      name: "json_schema_2020_12_tool",
      description: "Tool with JSON Schema 2020-12 features",
      inputSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
        properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
        additionalProperties: false,
      },
    },
    run: (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  },
  {
    // The suite's SSE-polling scenario (pending in 0.1.16) calls it; it answers at once here.
    definition: { name: "test_reconnection", description: "Answers after a short wait (SSE polling scenario).", inputSchema: noArguments },
    run: async () => {
      await sleep(50);
      return { content: [text("Reconnection test completed successfully")] };
    },
  },
];
