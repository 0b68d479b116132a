import { Elysia, type AnyElysia } from "elysia";
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import cssPath from "../../public/app.css" with { type: "file" };
import jsPath from "../../public/app.js" with { type: "file" };
import faviconPath from "../../public/favicon.svg" with { type: "file" };

// Embedded in the binary by `bun build --compile`; served with a short cache so upgrades show.
export function assetRoutes(): AnyElysia {
  const serve = (path: string, type: string) => () =>
    new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": "public, max-age=300" } });
  return new Elysia({ name: "assets" })
    .get("/assets/htmx.min.js", serve(htmxPath, "text/javascript; charset=utf-8"))
    .get("/assets/app.css", serve(cssPath, "text/css; charset=utf-8"))
    .get("/assets/app.js", serve(jsPath, "text/javascript; charset=utf-8"))
    .get("/assets/favicon.svg", serve(faviconPath, "image/svg+xml"))
    // Browsers ask for /favicon.ico whatever the page links; the SVG answers it (every modern browser takes it).
    .get("/favicon.ico", serve(faviconPath, "image/svg+xml"));
}
