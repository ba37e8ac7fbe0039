// The page's copy of the index: records by id, kept fresh from /api/streams and /api/events.
import { signedOut } from "./signed_out.js";

export class Store extends EventTarget {
  constructor() {
    super();
    this.records = new Map();
    this.ui = null;
    this.changes = [];
    this.outages = new Map(); // open grouped outages by key: many cameras of one site or tag down together
  }

  async load() {
    const me = await fetch("/api/me", { cache: "no-store" });
    if (me.status === 401) { location.assign("/login"); await new Promise(() => {}); } // signed out (or the session ended)
    this.me = await me.json();
    this.ui = await (await fetch("/api/ui")).json();
    await this.refresh();
  }

  // A state-changing request: it carries the session's CSRF token, as the hub requires.
  send(method, url, body) {
    const headers = { "X-CSRF-Token": this.me.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  // Sensitive cameras (childcare by default) show pictures only after the operator says why (the audit keeps it).
  needsReason(record) {
    const sensitive = this.me.sensitive.categories.includes(record.category)
      || (record.tags || []).some((t) => this.me.sensitive.tags.includes(t));
    return sensitive && !this.me.opened.includes(record.id);
  }

  async open(record, suggested = "") {
    const reason = window.prompt(`"${record.name}" is a sensitive camera. Why do you need to open it? (kept in the audit trail)`, suggested);
    if (!reason || !reason.trim()) return false;
    const reply = await this.send("POST", `/api/streams/${encodeURIComponent(record.id)}/open`, { reason: reason.trim() });
    if (!reply.ok) { window.alert((await reply.json()).error); return false; }
    this.me.opened.push(record.id);
    return true;
  }

  async refresh() {
    const reply = await fetch("/api/streams");
    if (reply.status === 401) { signedOut((await reply.json().catch(() => ({}))).ended || "session ended"); return; }
    const body = await reply.json();
    const seen = new Set();
    for (const record of body.streams) {
      seen.add(record.id);
      const old = this.records.get(record.id);
      if (old) keepNewer(old, record);
      this.records.set(record.id, record);
      if (!old || old.state !== record.state || !samePosition(old.position, record.position)
          || JSON.stringify(old.muted) !== JSON.stringify(record.muted)) this.emit("record", record);
    }
    for (const id of [...this.records.keys()]) if (!seen.has(id)) { this.records.delete(id); this.emit("removed", { id }); }
    this.emit("refreshed", {});
  }

  unfollow() {
    this.source?.close();
  }

  follow() {
    const source = new EventSource("/api/events");
    this.source = source;
    source.addEventListener("open", () => this.emit("connection", { ok: true }));
    source.addEventListener("error", () => this.emit("connection", { ok: false }));
    source.addEventListener("state", (event) => {
      const data = JSON.parse(event.data);
      const record = this.records.get(data.id);
      if (!record) return;
      record.state = data.state;
      record.reasons = data.reasons;
      record.since = data.at;
      this.changes.unshift({ ...data, name: record.name });
      this.changes.length = Math.min(this.changes.length, 50);
      this.emit("record", record);
      this.emit("change", data);
    });
    source.addEventListener("position", (event) => {
      const data = JSON.parse(event.data);
      const record = this.records.get(data.id);
      if (!record) return;
      record.position = { lat: data.lat, lon: data.lon, at: data.at };
      this.emit("record", record);
      this.emit("position", record);
    });
    // The hub's own load: on connecting ("hello") and whenever its shedding level changes ("hub").
    source.addEventListener("hello", (event) => {
      const hello = JSON.parse(event.data);
      this.outages = new Map((hello.outages || []).map((o) => [o.key, o]));
      this.emit("outages", {});
      this.emit("hub", hello.hub || {});
      this.emit("cluster", hello.cluster || {});
    });
    source.addEventListener("outage", (event) => {
      const data = JSON.parse(event.data);
      if (data.open) this.outages.set(data.key, data); else this.outages.delete(data.key);
      this.changes.unshift({ outage: true, at: Date.now() / 1000, title: data.title, open: data.open });
      this.changes.length = Math.min(this.changes.length, 50);
      this.emit("outages", data);
    });
    source.addEventListener("hub", (event) => this.emit("hub", JSON.parse(event.data)));
    source.addEventListener("cluster", (event) => this.emit("cluster", JSON.parse(event.data)));
    for (const type of ["incident", "staff"]) source.addEventListener(type, (event) => this.emit(type, JSON.parse(event.data)));
    source.addEventListener("removed", (event) => this.forget([JSON.parse(event.data).id]));
    // The hub ends the stream when the session or token behind it ends, and says why.
    source.addEventListener("closed", (event) => { source.close(); signedOut(JSON.parse(event.data).reason); });
  }

  // Streams this page may no longer show (gone from the config, or rights taken away).
  forget(ids) {
    for (const id of ids) if (this.records.delete(id)) this.emit("removed", { id });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // Operators' picture-check actions; each asks for a reason, which the audit trail keeps.
  async acceptReference(record) {
    const reason = window.prompt(`Accept what "${record.name}" shows now as its reference view (after a deliberate move)? Why:`);
    if (!reason || !reason.trim()) return false;
    return this.report(await this.send("POST", `/api/streams/${encodeURIComponent(record.id)}/reference`, { reason: reason.trim() }));
  }

  async mute(record, check) {
    const minutes = Number(window.prompt(`Mute "${check}" on "${record.name}" for how many minutes?`, "120"));
    if (!minutes) return false;
    const reason = window.prompt("Why (kept in the audit trail and shown to everybody)?");
    if (!reason || !reason.trim()) return false;
    return this.report(await this.send("PUT", `/api/streams/${encodeURIComponent(record.id)}/mutes/${check}`, { minutes, reason: reason.trim() }));
  }

  async unmute(record, check) {
    return this.report(await this.send("DELETE", `/api/streams/${encodeURIComponent(record.id)}/mutes/${check}`));
  }

  async report(reply) {
    if (!reply.ok) { window.alert((await reply.json()).error); return false; }
    await this.refresh();
    return true;
  }

  // Ids of the cameras folded into an open grouped outage.
  inOutage() {
    return new Set([...this.outages.values()].flatMap((o) => o.streams));
  }

  matches(record, query) {
    if (!query) return true;
    const q = query.toLowerCase();
    return [record.name, record.id, record.site, ...(record.tags || [])].some((v) => (v || "").toLowerCase().includes(q));
  }
}

function samePosition(a, b) {
  if (!a || !b) return a === b;
  return a.lat === b.lat && a.lon === b.lon && a.at === b.at;
}

// A list may be a moment older than the events already applied (the hub's read door answers from a copy
// at most a tenth of a second behind): what the page learned later wins.
function keepNewer(old, record) {
  if ((old.since ?? -Infinity) > (record.since ?? -Infinity)) {
    record.state = old.state;
    record.reasons = old.reasons;
    record.since = old.since;
  }
  if ((old.position?.at ?? -Infinity) > (record.position?.at ?? -Infinity)) record.position = old.position;
}
