// Marks the page as scripted: CSS shows what needs this script (Copy buttons) only then.
document.documentElement.classList.add("js");

// Copy buttons: <button data-copy="element-id">. Our only script besides htmx (the CSP allows no inline code).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = label), 1500);
  });
});

// OAuth Connect / Re-authorize: <form data-oauth-popup> opens the provider in a popup. The popup
// is opened during the click (so blockers let it through), then pointed at the authorization URL
// the gateway returns. When the popup is blocked, or without this script, the form posts normally
// and the whole page goes to the provider and back.
const OAUTH_MESSAGE = "mcp-gateway:oauth";

document.addEventListener("submit", (event) => {
  const form = event.target instanceof HTMLFormElement && event.target.matches("[data-oauth-popup]") ? event.target : null;
  if (!form) return;
  const popup = window.open("", "mcp-gateway-oauth", "popup,width=560,height=720");
  if (!popup) return;
  event.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  popup.document.title = "Connecting…";
  fetch(form.action, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
  })
    .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
    .then(({ ok, body }) => {
      if (!ok || !body.authorizationUrl || !/^https?:\/\//.test(body.authorizationUrl)) throw new Error(body.message || "The authorization could not start.");
      popup.location.href = body.authorizationUrl;
      watchPopup(popup);
    })
    .catch((error) => {
      popup.close();
      if (button) button.disabled = false;
      showOAuthError(form, error.message);
    });
});

// The popup may lose its link to us (a provider can cut it); when it closes, show the new state.
function watchPopup(popup) {
  const timer = setInterval(() => {
    if (!popup.closed) return;
    clearInterval(timer);
    location.reload();
  }, 500);
}

function showOAuthError(form, message) {
  let note = form.parentElement.querySelector(".oauth-error");
  if (!note) {
    note = document.createElement("p");
    note.className = "field-error oauth-error";
    note.setAttribute("role", "alert");
    form.after(note);
  }
  note.textContent = message;
}

// The callback page, inside the popup: tell the page that opened it, then close. Outside a popup
// (or cut off from its opener) it stays, with its link back.
window.addEventListener("DOMContentLoaded", () => {
  const result = document.querySelector("[data-oauth-result]");
  if (!result || !window.opener || window.opener === window) return;
  try {
    window.opener.postMessage({ type: OAUTH_MESSAGE, result: result.getAttribute("data-oauth-result"), connection: result.getAttribute("data-connection-id") }, location.origin);
  } catch {
    return;
  }
  if (result.getAttribute("data-oauth-result") === "connected") window.close();
});

window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || !event.data || event.data.type !== OAUTH_MESSAGE) return;
  location.reload();
});

// Filter boxes: <input data-filter-items="#list"> hides the list's [data-filter-text] rows that do not
// contain every typed word (hidden checkboxes still submit), and groups left empty. Without this
// script every row stays shown.
document.addEventListener("input", (event) => {
  const input = event.target instanceof HTMLInputElement && event.target.matches("[data-filter-items]") ? event.target : null;
  const list = input ? document.querySelector(input.getAttribute("data-filter-items")) : null;
  if (!input || !list) return;
  const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const row of list.querySelectorAll("[data-filter-text]")) {
    const text = row.getAttribute("data-filter-text");
    row.hidden = !words.every((word) => text.includes(word));
  }
  for (const group of list.querySelectorAll("[data-filter-group]")) {
    group.hidden = group.querySelector("[data-filter-text]:not([hidden])") === null && group.querySelector("[data-filter-text]") !== null;
  }
});
