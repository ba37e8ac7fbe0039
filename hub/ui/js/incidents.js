// Incidents on the map: a marker per open incident (coloured by severity, filtered by kind and state), the heat
// of the last 30 days, the grid workers on duty with the age of each fix (greyed once stale), and the side
// panel's counts and queue. Loaded once from /api/incidents/map, then kept current by the event stream.
/* global L */
import { ago, el } from "./dom.js";

export const KINDS = ["dispute", "safety_hazard", "fire", "traffic", "public_order", "facility_damage", "environment", "other"];
export const OPEN_STATES = ["new", "acknowledged", "assigned", "in_progress"];
const KIND_GLYPHS = { dispute: "D", safety_hazard: "H", fire: "F", traffic: "T", public_order: "P", facility_damage: "R", environment: "E", other: "?" };
const words = (name) => name.replace("_", " ");

// The queue's order: the most serious, then the oldest.
export const queueOrder = (a, b) => b.severity - a.severity || a.reported_at - b.reported_at || a.id.localeCompare(b.id);

export class IncidentLayer extends EventTarget {
  constructor(store, mapView) {
    super();
    this.store = store;
    this.map = mapView.map;
    this.incidents = new Map(); // open incidents by id, as the hub last said
    this.markers = new Map();
    this.staff = new Map();
    this.staffMarkers = new Map();
    this.kinds = new Set(KINDS);
    this.states = new Set(OPEN_STATES);
    this.layer = L.layerGroup().addTo(this.map);
    this.staffLayer = L.layerGroup().addTo(this.map);
    this.heat = null;
    this.loaded = false;
    this.filters();
    store.addEventListener("incident", (e) => this.changed(e.detail));
    store.addEventListener("staff", (e) => this.placeStaff(e.detail, Date.now() / 1000));
    setInterval(() => this.ageStaff(), 1000);
  }

  // Everything at once: on opening, and again after the event stream was lost (events may have been missed).
  async load() {
    this.heard = []; // what the event stream says while the answer is on its way is newer than the answer
    const reply = await fetch("/api/incidents/map", { cache: "no-store" });
    const body = reply.ok ? await reply.json() : null;
    const heard = this.heard;
    this.heard = null;
    if (!body) return false;
    this.wallSeverity = body.wall_severity;
    this.staleS = body.position_stale_s;
    this.clockOffset = body.now - Date.now() / 1000; // ages on the hub's clock
    const gone = [...this.incidents.keys()].filter((id) => !body.incidents.some((i) => i.id === id));
    this.incidents = new Map(body.incidents.map((i) => [i.id, i]));
    for (const id of gone) this.draw({ id });
    for (const incident of body.incidents) this.draw(incident);
    this.heatPoints = body.heat.points;
    this.showHeat(document.getElementById("heat-toggle").checked);
    for (const who of [...this.staff.keys()]) if (!body.staff.some((p) => p.who === who)) this.placeStaff({ who, off_duty: true });
    for (const position of body.staff) this.placeStaff(position, Date.now() / 1000 - position.age_s);
    this.loaded = true;
    for (const summary of heard) this.changed(summary, true);
    this.render();
    return true;
  }

  filters() {
    const boxes = (id, values, selected) => document.getElementById(id).replaceChildren(...values.map((value) => {
      const box = el("input", { type: "checkbox", checked: true, dataset: { incidentFilter: value } });
      box.addEventListener("change", () => { box.checked ? selected.add(value) : selected.delete(value); this.redraw(); });
      return el("label", {}, box, " ", words(value));
    }));
    boxes("filter-incident-kinds", KINDS, this.kinds);
    boxes("filter-incident-states", OPEN_STATES, this.states);
    document.getElementById("heat-toggle").addEventListener("change", (e) => this.showHeat(e.target.checked));
    document.getElementById("staff-toggle").addEventListener("change", (e) => {
      if (e.target.checked) this.staffLayer.addTo(this.map); else this.staffLayer.remove();
    });
  }

  shown(incident) {
    return this.kinds.has(incident.kind) && this.states.has(incident.state);
  }

  // What the event stream says of an incident: reported, changed, escalated, merged, resolved.
  // `again`: heard while the whole picture was loading, applied over it (its heat is in the picture already).
  changed(summary, again = false) {
    this.heard?.push(summary);
    const known = this.incidents.has(summary.id);
    const open = OPEN_STATES.includes(summary.state) && !summary.merged_into;
    if (open) this.incidents.set(summary.id, summary); else this.incidents.delete(summary.id);
    if (summary.change === "reported" && !again) {
      this.heatPoints?.push([...summary.position, 1]);
      if (this.heat) this.heat.addLatLng([...summary.position, 1]);
    }
    this.draw(summary);
    if (known || open) this.render();
    this.dispatchEvent(new CustomEvent("changed", { detail: summary }));
  }

  draw(incident) {
    let marker = this.markers.get(incident.id);
    const open = this.incidents.has(incident.id);
    if (!open || !this.shown(incident)) {
      if (marker) { this.layer.removeLayer(marker); if (!open) this.markers.delete(incident.id); }
      return;
    }
    const icon = L.divIcon({ className: "", iconSize: [28, 28], iconAnchor: [14, 14],
      html: `<div class="incident sev-${Number(incident.severity)} ${incident.escalated ? "escalated" : ""} state-${OPEN_STATES.indexOf(incident.state)}">${KIND_GLYPHS[incident.kind] || "?"}</div>` });
    const title = `${words(incident.kind)}, severity ${incident.severity}, ${words(incident.state)}`;
    if (!marker) {
      marker = L.marker(incident.position, { icon, title, zIndexOffset: 20_000_000 + incident.severity * 1_000_000 });
      marker.on("add", () => { const e = marker.getElement(); if (e) e.dataset.incidentId = incident.id; });
      marker.bindPopup(() => this.popup(this.incidents.get(incident.id) || incident), { minWidth: 240 });
      this.markers.set(incident.id, marker);
    } else {
      marker.setIcon(icon);
      marker.setLatLng(incident.position);
      marker.options.title = title;
      const e = marker.getElement();
      if (e) { e.dataset.incidentId = incident.id; e.title = title; }
    }
    if (!this.layer.hasLayer(marker)) this.layer.addLayer(marker);
  }

  redraw() {
    for (const incident of this.incidents.values()) this.draw(incident);
    this.render();
  }

  popup(incident) {
    const now = Date.now() / 1000 + (this.clockOffset || 0);
    const photos = Array.isArray(incident.photos) ? incident.photos.length : incident.photos; // a whole incident lists them
    const acknowledge = this.store.me.can.triage && incident.state === "new"
      ? el("button", { class: "acknowledge", onclick: () => this.acknowledge(incident.id) }, "Acknowledge") : null;
    return el("div", { class: "popup incident-popup", dataset: { incidentId: incident.id } },
      el("h4", {}, `${words(incident.kind)} · severity ${incident.severity}`),
      el("div", {}, `${words(incident.state)}${incident.team ? ` · ${incident.team}` : ""}${incident.escalated ? " · escalated" : ""}`),
      el("div", {}, `reported ${ago(now - incident.reported_at)} by ${incident.reporter}`),
      el("div", {}, `${incident.id}${photos ? ` · ${photos} photo(s)` : ""}`),
      el("button", { class: "incident-cameras", onclick: () => this.dispatchEvent(new CustomEvent("cameras", { detail: incident.id })) }, "Its cameras to the wall"),
      acknowledge);
  }

  async acknowledge(id) {
    const reply = await this.store.send("PATCH", `/api/incidents/${encodeURIComponent(id)}`, { state: "acknowledged" });
    if (!reply.ok) { window.alert(`Not acknowledged: ${(await reply.json()).error}`); return false; }
    this.changed(await reply.json());
    this.map.closePopup();
    return true;
  }

  showHeat(on) {
    if (this.heat) { this.heat.remove(); this.heat = null; }
    if (!on || !this.heatPoints) return;
    const max = Math.max(1, ...this.heatPoints.map((p) => p[2]));
    // full strength from a district's zoom in (leaflet.heat fades points below `maxZoom` by 2x a level)
    this.heat = L.heatLayer([...this.heatPoints], { radius: 22, blur: 18, max, maxZoom: 15, minOpacity: 0.3 }).addTo(this.map);
  }

  placeStaff(position, fixedAt) {
    if (position.off_duty) {
      const marker = this.staffMarkers.get(position.who);
      if (marker) this.staffLayer.removeLayer(marker);
      this.staff.delete(position.who);
      this.staffMarkers.delete(position.who);
      this.render();
      return;
    }
    this.staff.set(position.who, { ...position, fixedAt });
    let marker = this.staffMarkers.get(position.who);
    if (!marker) {
      marker = L.marker(position.position, { icon: L.divIcon({ className: "", html: '<div class="staff">W</div>', iconSize: [22, 22], iconAnchor: [11, 11] }) });
      marker.bindTooltip(el("span", { class: "staff-tip" }), { direction: "top" });
      marker.on("add", () => { const e = marker.getElement(); if (e) e.dataset.staff = position.who; this.ageStaff(); });
      this.staffMarkers.set(position.who, marker);
      this.staffLayer.addLayer(marker);
    } else marker.setLatLng(position.position);
    this.ageStaff();
    this.render();
  }

  // Each fix's age, counted on the page from when the hub had it; stale fixes greyed.
  ageStaff() {
    const now = Date.now() / 1000;
    for (const [who, position] of this.staff) {
      const marker = this.staffMarkers.get(who);
      const age = now - position.fixedAt;
      const stale = age > (this.staleS ?? 300);
      const text = `${who}: fix ${ago(age)}${stale ? " (stale)" : ""}`;
      marker.getTooltip()?.getContent()?.replaceChildren?.(text);
      const e = marker.getElement();
      if (e) { e.title = text; e.firstElementChild?.classList.toggle("stale", stale); e.dataset.age = String(Math.round(age)); }
    }
  }

  // The side panel: open incidents by severity, the staff on duty, and the queue (the most serious first).
  render() {
    const open = [...this.incidents.values()].sort(queueOrder);
    const bySeverity = [4, 3, 2, 1].map((s) => [s, open.filter((i) => i.severity === s).length]);
    document.getElementById("incident-count").textContent = `(${open.length} open)`;
    const staleS = this.staleS ?? 300;
    const now = Date.now() / 1000;
    const stale = [...this.staff.values()].filter((p) => now - p.fixedAt > staleS).length;
    document.getElementById("incident-counts").replaceChildren(
      ...bySeverity.filter(([, n]) => n).map(([s, n]) => el("span", { class: `pill sev-${s}`, dataset: { severity: s } }, `${n} × severity ${s}`)),
      el("span", { class: "staff-count" }, ` ${this.staff.size} staff on duty${stale ? ` (${stale} stale)` : ""}`));
    const queue = open.filter((i) => this.shown(i)).slice(0, 20);
    document.getElementById("incident-queue").replaceChildren(...queue.map((i) => el("li", {
      class: `sev-${i.severity}`, dataset: { incidentId: i.id },
      onclick: () => this.focus(i.id) }, `${i.severity} · ${words(i.kind)} · ${words(i.state)}${i.escalated ? " · escalated" : ""}`)));
  }

  focus(id) {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 18));
    marker.openPopup();
  }
}
