// The resources of the conformance fixture upstream (conformance-upstream.ts): what the suite's
// resources-* scenarios read, list and subscribe to.
import { ResourceNotFoundError, type ReadResourceResult, type Resource, type ResourceTemplateType } from "@modelcontextprotocol/server";

// 1x1 red PNG (the same as the fixture's image tools).
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

export const RESOURCES: Resource[] = [
  { uri: "test://static-text", name: "Static text", description: "A static text resource.", mimeType: "text/plain" },
  { uri: "test://static-binary", name: "Static binary", description: "A static PNG image.", mimeType: "image/png" },
  { uri: "test://watched-resource", name: "Watched resource", description: "A resource clients may subscribe to.", mimeType: "text/plain" },
];

export const RESOURCE_TEMPLATES: ResourceTemplateType[] = [
  { uriTemplate: "test://template/{id}/data", name: "Template data", description: "Data for one id.", mimeType: "application/json" },
];

const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

export function readResource(uri: string): ReadResourceResult {
  switch (uri) {
    case "test://static-text":
      return { contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }] };
    case "test://static-binary":
      return { contents: [{ uri, mimeType: "image/png", blob: PNG_BASE64 }] };
    case "test://watched-resource":
      return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content." }] };
  }
  const id = TEMPLATE.exec(uri)?.[1];
  if (id !== undefined) {
    const value = decodeURIComponent(id);
    return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }) }] };
  }
  throw new ResourceNotFoundError(uri);
}
