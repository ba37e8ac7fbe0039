// The sign-in form: posts the name and password as JSON; the hub answers with a session cookie (HttpOnly).
const form = document.getElementById("login");
const error = document.getElementById("login-error");
const ended = new URLSearchParams(location.search).get("ended");
if (ended) error.textContent = `You were signed out: ${ended}. Sign in again to go on.`; // text, never markup
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const body = { user: document.getElementById("user").value.trim(), password: document.getElementById("password").value };
  let reply;
  try {
    reply = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) {
    error.textContent = "the hub did not answer";
    return;
  }
  if (reply.ok) { location.assign("/"); return; }
  error.textContent = (await reply.json().catch(() => ({}))).error || `sign-in failed (${reply.status})`;
});
