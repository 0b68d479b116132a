import { describe, expect, test } from "bun:test";
import { continueTo } from "./continue-to.tsx";
import { HttpError } from "./http.ts";

const request = (method: string, headers: Record<string, string> = {}): Request => new Request("http://127.0.0.1:3000/settings/sso/test", { method, headers });

describe("sending the browser to another origin", () => {
  test("a form's answer is a page that forwards by itself and by a link, cached nowhere and sending no referrer", async () => {
    const destination = "https://idp.example/authorize?client_id=a&state=s1&redirect_uri=https%3A%2F%2Fgw.example%2Fcb";
    const response = continueTo(request("POST"), destination, { "set-cookie": "mgw_sso=x; Path=/" });
    expect(response.status).toBe(200);
    expect(response.headers.get("location")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("set-cookie")).toBe("mgw_sso=x; Path=/");
    // The page keeps the default CSP (set once for every response), so none is set here.
    expect(response.headers.get("content-security-policy")).toBeNull();
    const page = await response.text();
    expect(page).toContain(`<meta http-equiv="refresh" content="0;url=${destination}"`);
    expect(page).toContain(`href="${destination}"`);
    expect(page).toContain("Continuing to <span>https://idp.example</span>");
  });

  test("a link's answer stays a plain redirect, and an htmx request gets HX-Redirect instead of a redirect fetch would follow", () => {
    const get = continueTo(request("GET"), "https://idp.example/authorize");
    expect(get.status).toBe(303);
    expect(get.headers.get("location")).toBe("https://idp.example/authorize");
    const htmx = continueTo(request("POST", { "hx-request": "true" }), "https://idp.example/authorize");
    expect(htmx.status).toBe(204);
    expect(htmx.headers.get("hx-redirect")).toBe("https://idp.example/authorize");
    expect(htmx.headers.get("location")).toBeNull();
  });

  test("a destination that is not http(s) is refused, and a quote in one cannot leave its attribute", async () => {
    expect(() => continueTo(request("POST"), "javascript:alert(1)")).toThrow(HttpError);
    expect(() => continueTo(request("GET"), "data:text/html,hi")).toThrow(HttpError);
    const page = await continueTo(request("POST"), 'https://idp.example/a"b?c="d').text();
    expect(page).not.toContain('"d');
    expect(page).not.toContain('a"b');
  });
});
