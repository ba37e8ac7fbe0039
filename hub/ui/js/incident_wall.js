// The wall comes to a serious incident: while an incident of at least the hub's `wall_severity` waits to be
// acknowledged, the wall shows the online cameras near it (nearest first, those whose view covers the spot
// first), and the operator's own wall comes back when it is acknowledged. Sensitive cameras (childcare) are
// offered, never switched on: opening one asks for a reason, prefilled with the incident's id.
// Several at once: the most serious (then the oldest) is shown; the wall the operator had before the first
// one comes back after the last. The wall the operator had is kept in localStorage, so a reload mid-incident
// neither loses it nor shows the operator's wall while the incident still waits.
import { el } from "./dom.js";
import { queueOrder } from "./incidents.js";

const SAVED = "hub.incidentWall";

export class IncidentWall {
  constructor(store, wall, incidents, showWall) {
    this.store = store;
    this.wall = wall;
    this.incidents = incidents;
    this.showWall = showWall;
    this.banner = document.getElementById("incident-alert");
    this.dismissed = new Set(); // incidents the operator sent away from the wall by hand
    this.saved = JSON.parse(localStorage.getItem(SAVED) || "null"); // { previous, problems, shown: { id, tiles } }
    this.shown = null; // the incident on the wall now: { id, tiles, offered, byHand }
    this.turns = Promise.resolve(); // one decision at a time: events may come faster than the hub answers
    incidents.addEventListener("changed", () => this.decide());
    incidents.addEventListener("cameras", (e) => this.switchTo(e.detail, true));
  }

  // Incidents that call for the wall: serious, open and not yet acknowledged.
  waiting() {
    return [...this.incidents.incidents.values()]
      .filter((i) => i.state === "new" && i.severity >= this.incidents.wallSeverity && !this.dismissed.has(i.id))
      .sort(queueOrder);
  }

  // After the incidents are loaded: a wall switched before a reload whose incident has been acknowledged
  // meanwhile comes back now; one still waiting is shown again.
  start() {
    if (this.saved && !this.waiting().length) {
      this.wall.applyLayout(this.saved.previous);
      this.shown = { tiles: this.wall.layout() };
      this.restore();
    }
    return this.decide();
  }

  decide() {
    this.turns = this.turns.then(() => this.turn()).catch(() => {});
    return this.turns;
  }

  async turn() {
    const next = this.waiting()[0];
    if (next && next.id !== this.shown?.id) { await this.switchTo(next.id, false); return; }
    if (!next && this.shown && !this.shown.byHand) this.restore();
    else if (this.shown) this.say(this.incidents.incidents.get(this.shown.id));
  }

  async switchTo(id, byHand) {
    const reply = await fetch(`/api/incidents/${encodeURIComponent(id)}`, { cache: "no-store" });
    if (!reply.ok) return;
    const incident = await reply.json();
    if (!byHand && this.waiting()[0]?.id !== id) return; // acknowledged, or a more serious one came, while we asked
    const records = incident.cameras.map((c) => this.store.records.get(c.id)).filter(Boolean);
    const ids = records.filter((r) => !this.store.needsReason(r)).map((r) => r.id);
    const offered = records.filter((r) => this.store.needsReason(r));
    if (!ids.length) { // no camera online near it: the wall stays as it is, the banner says so
      this.shown = { id, tiles: this.wall.layout(), offered, byHand };
      this.say(incident);
      return;
    }
    if (!this.saved) {
      this.saved = { previous: this.wall.layout(), problems: this.wall.problems };
      localStorage.setItem(SAVED, JSON.stringify(this.saved));
    }
    this.wall.stopTour();
    document.getElementById("tour-toggle").textContent = "Start tour";
    this.wall.setProblems(false);
    document.getElementById("problems-toggle").checked = false;
    const size = this.store.ui.layout_sizes.find((s) => s >= ids.length) || this.store.ui.layout_sizes.at(-1);
    this.wall.applyLayout({ size, tiles: ids });
    this.shown = { id, tiles: this.wall.layout(), offered, byHand };
    this.say(incident);
    if (byHand) this.showWall();
  }

  // Back to the wall the operator had, unless the operator has rearranged the incident's wall since.
  restore() {
    const saved = this.saved;
    const untouched = this.shown && JSON.stringify(this.wall.layout()) === JSON.stringify(this.shown.tiles);
    if (saved && untouched) {
      this.wall.applyLayout(saved.previous);
      if (saved.problems) { document.getElementById("problems-toggle").checked = true; this.wall.setProblems(true); }
    }
    this.saved = null;
    this.shown = null;
    localStorage.removeItem(SAVED);
    this.banner.hidden = true;
    this.banner.replaceChildren();
  }

  say(incident) {
    if (!incident || !this.shown) return;
    const words = (name) => name.replace("_", " ");
    const acknowledge = this.store.me.can.triage && incident.state === "new"
      ? el("button", { class: "acknowledge", onclick: () => this.incidents.acknowledge(incident.id) }, "Acknowledge") : null;
    const back = el("button", { class: "back", onclick: () => { this.dismissed.add(incident.id); this.restore(); this.decide(); } }, "Back to my wall");
    const sensitive = this.shown.offered.map((record) => el("button", { class: "open-offered", dataset: { streamId: record.id },
      onclick: async () => { if (await this.store.open(record, `incident ${incident.id}`)) this.wall.put(record.id); } },
    `Open ${record.name} (sensitive)…`));
    const count = this.shown.tiles.tiles.filter(Boolean).length;
    this.banner.replaceChildren(
      el("strong", {}, `Incident: ${words(incident.kind)}, severity ${incident.severity}${incident.escalated ? ", escalated" : ""}`),
      ` (${incident.id}): the wall shows ${count ? `its ${count} nearest camera(s)` : "no camera: none online near it"}. `,
      acknowledge, back, ...sensitive);
    this.banner.dataset.incidentId = incident.id;
    this.banner.hidden = false;
  }
}
