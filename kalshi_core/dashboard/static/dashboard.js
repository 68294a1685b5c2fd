// kalshi-core dashboard: live sections over server-sent events, and the controls' dialog.
// Plain script, no build step. The token stays in this tab's sessionStorage only.
"use strict";

function connect() {
  const state = document.getElementById("live-state");
  if (!state || !window.EventSource) return;
  const events = new EventSource("/events" + window.location.search);
  events.addEventListener("open", () => { state.textContent = "Live: updating as the bot trades."; });
  events.addEventListener("error", () => { state.textContent = "Live updates lost; reconnecting…"; });
  events.addEventListener("update", (event) => {
    const parts = JSON.parse(event.data);
    for (const [id, html] of Object.entries(parts)) {
      const section = document.getElementById(id);
      if (section) section.innerHTML = html;
    }
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
}

async function press(action, token, concession) {
  const body = { confirm: action };
  if (action === "flatten") body.concession_cents = Number(concession);
  const response = await fetch("/api/controls/" + encodeURIComponent(action), {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Dashboard-Token": token },
    body: JSON.stringify(body),
    credentials: "omit",
  });
  const answer = await response.json().catch(() => ({ error: "no answer" }));
  return { ok: response.ok, status: response.status, answer };
}

function controls() {
  const dialog = document.getElementById("confirm");
  if (!dialog) return;
  const form = document.getElementById("confirm-form");
  const token = document.getElementById("token");
  const result = document.getElementById("control-result");
  let action = null;
  let opener = null;
  for (const button of document.querySelectorAll("button.control")) {
    button.addEventListener("click", () => {
      action = button.dataset.action;
      opener = button;
      document.getElementById("confirm-h").textContent = "Confirm: " + button.textContent;
      document.getElementById("confirm-effect").textContent = button.dataset.effect;
      document.getElementById("concession-row").hidden = action !== "flatten";
      document.getElementById("confirm-go").textContent = "Confirm " + button.textContent.toLowerCase();
      token.value = sessionStorage.getItem("kalshi-dashboard-token") || "";
      dialog.showModal();
      token.focus();
    });
  }
  document.getElementById("confirm-cancel").addEventListener("click", () => dialog.close("cancel"));
  dialog.addEventListener("close", () => { if (opener) opener.focus(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const concession = document.getElementById("concession").value;
    dialog.close("go");
    const done = await press(action, token.value, concession);
    if (done.ok) {
      sessionStorage.setItem("kalshi-dashboard-token", token.value);
      result.textContent = `${action}: done, stop level now ${done.answer.level}` + (done.answer.changed ? "." : " (it was already there).");
    } else {
      result.textContent = `${action} refused (${done.status}): ${done.answer.error}`;
    }
    result.dataset.status = String(done.status);
  });
}

document.addEventListener("DOMContentLoaded", () => { connect(); controls(); });
