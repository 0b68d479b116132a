/**
 * "What just happened" after an action that redirects: the redirect carries a short code in
 * `?done=`, and the page it lands on shows the matching sentence. Only codes from this table are
 * shown, so a crafted link can show nothing but our own words; it works the same with and
 * without JavaScript (htmx follows HX-Redirect to the same address).
 */
const FLASH_MESSAGES = {
  added: "Server added.",
  picked: "Saved: the tools you picked are exposed at your endpoint.",
  saved: "Settings saved.",
  approved: "Approved: clients see the new definition now.",
  rejected: "Rejected: it is turned off, and clients never see the change.",
  reauthorized: "New credential saved: the server accepted it.",
  removed: "Connection removed: its tools are gone from the gateway and its stored credential is deleted.",
  "key-revoked": "Key revoked: clients using it stop working at once.",
  "grant-revoked": "App access revoked: it stops working at once.",
  "profile-saved": "Profile saved: keys and apps limited to it see its items at once.",
  "profile-deleted": "Profile deleted.",
  "app-profile-set": "Saved: the app sees what its profile allows from its next request.",
} as const;

export type FlashCode = keyof typeof FLASH_MESSAGES;

export function withFlash(path: string, code: FlashCode): string {
  return `${path}${path.includes("?") ? "&" : "?"}done=${code}`;
}

/** The sentence for the request's `?done=` code, or null. */
export function flashMessage(request: Request): string | null {
  const code = new URL(request.url).searchParams.get("done");
  return code !== null && Object.hasOwn(FLASH_MESSAGES, code) ? FLASH_MESSAGES[code as FlashCode] : null;
}
