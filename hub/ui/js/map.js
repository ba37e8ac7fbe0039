// The map: every stream a marker at its position, coloured by state, one icon per category,
// clustered (optional), filtered by the side panel. Vehicles move when their position changes.
// The worst state is drawn on top; with grouping off, markers that overlap are spread apart (fan.js).
/* global L */
import { spreadPiles } from "./fan.js";
import { ago, CATEGORY_GLYPHS, el, formatRate, freshness, mutedInWords, PICTURE_CHECKS, reasonsInWords, STATE_COLOURS } from "./dom.js";

const WORST = ["offline", "unauthorized", "degraded", "connecting", "online"];
const MARKER_PX = 26;
// Leaflet stacks markers by their screen row plus this offset: a worse state outranks any row
const onTop = (state) => (WORST.length - Math.max(0, WORST.indexOf(state))) * 1_000_000;

export class MapView {
  constructor(store, onWall) {
    this.store = store;
    this.onWall = onWall;
    this.markers = new Map();
    this.visible = () => true;
    const { center, zoom, tiles } = store.ui.map;
    this.map = L.map("map", { zoomControl: true, maxZoom: 21 }).setView(center, zoom);
    if (tiles) L.tileLayer(tiles, { maxZoom: 21, attribution: "" }).addTo(this.map);
    else this.offlineBasemap();
    this.cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50, iconCreateFunction: (c) => this.clusterIcon(c) });
    // a spiderfied cluster gives its markers back with no offset: put the worst on top again
    this.cluster.on("spiderfied", ({ markers }) => markers.forEach((m) => m.setZIndexOffset(10 * onTop(m.options.hubState))));
    this.cluster.on("unspiderfied", ({ markers }) => markers.forEach((m) => m.setZIndexOffset(onTop(m.options.hubState))));
    this.plain = L.layerGroup();
    this.legs = L.layerGroup().addTo(this.map); // from a spread marker to where the camera is
    this.grouped = true;
    this.map.addLayer(this.cluster);
    this.map.on("zoomend viewreset", () => this.spreadLater());
    setInterval(() => this.tickVehicles(), 1000);
  }

  async offlineBasemap() {
    const data = await (await fetch("/web/basemap.geojson")).json();
    const styles = {
      site: { color: "#6b7280", weight: 2, fillColor: "#f5f1e6", fillOpacity: 0.9, dashArray: "6 4" },
      block: { color: "#b9b2a0", weight: 1, fillColor: "#e6dfcc", fillOpacity: 1 },
      street: { color: "#ffffff", weight: 7, opacity: 1 },
    };
    const layer = L.geoJSON(data, {
      style: (f) => styles[f.properties.kind] || {},
      interactive: false,
      onEachFeature: (f, l) => {
        if (f.properties.kind === "street") l.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "street-label" });
      },
    });
    layer.addTo(this.map);
    layer.bringToBack();
    this.grid();
  }

  grid() {
    const lines = [];
    const [lat0, lon0] = this.store.ui.map.center;
    for (let i = -10; i <= 10; i++) {
      lines.push([[lat0 + i * 0.002, lon0 - 0.02], [lat0 + i * 0.002, lon0 + 0.02]]);
      lines.push([[lat0 - 0.02, lon0 + i * 0.002], [lat0 + 0.02, lon0 + i * 0.002]]);
    }
    L.polyline(lines, { color: "#c4c9d0", weight: 0.5, interactive: false }).addTo(this.map).bringToBack();
  }

  icon(record) {
    const glyph = CATEGORY_GLYPHS[record.category] || "?";
    return L.divIcon({ className: "", html: `<div class="marker cat-${record.category} state-${record.state}">${glyph}</div>`, iconSize: [26, 26], iconAnchor: [13, 13] });
  }

  clusterIcon(cluster) {
    const states = cluster.getAllChildMarkers().map((m) => m.options.hubState);
    const worst = WORST.find((s) => states.includes(s)) || "online";
    const size = 40;
    return L.divIcon({ className: "", html: `<div class="cluster" style="width:${size}px;height:${size}px;background:${STATE_COLOURS[worst]}">${states.length}</div>`, iconSize: [size, size] });
  }

  upsert(record) {
    const position = record.position;
    let marker = this.markers.get(record.id);
    if (!position) {
      if (marker) this.remove(record.id);
      return;
    }
    const latlng = [position.lat, position.lon];
    if (!marker) {
      marker = L.marker(latlng, { icon: this.icon(record), hubState: record.state, title: record.name, zIndexOffset: onTop(record.state) });
      marker.hubId = record.id;
      marker.on("add", () => { const e = marker.getElement(); if (e) e.dataset.streamId = record.id; this.spreadLater(); });
      marker.bindPopup(() => this.popup(this.store.records.get(record.id)), { minWidth: 280, maxWidth: 360 });
      marker.on("popupopen", () => this.popupTimer(marker));
      this.markers.set(record.id, marker);
      if (this.visible(record)) this.layer().addLayer(marker);
      return;
    }
    const moved = marker.getLatLng().lat !== latlng[0] || marker.getLatLng().lng !== latlng[1];
    if (marker.options.hubState !== record.state) {
      marker.options.hubState = record.state;
      marker.setIcon(this.icon(record));
      marker.setZIndexOffset(onTop(record.state));
      const e = marker.getElement();
      if (e) e.dataset.streamId = record.id;
      if (this.grouped) this.cluster.refreshClusters(marker);
      this.spreadLater();
    }
    if (moved) { marker.setLatLng(latlng); this.spreadLater(); }
  }

  // With grouping off, markers closer than a marker's width are spread on a ring around where they are,
  // each with a leg to its true point, so that none hides another; recomputed after zooms and changes.
  spreadLater() {
    if (this.spreadPending) return;
    this.spreadPending = true;
    setTimeout(() => { this.spreadPending = false; this.spread(); }, 0);
  }

  spread() {
    this.legs.clearLayers();
    const shown = [...this.markers.values()].filter((m) => !this.grouped && this.plain.hasLayer(m));
    const points = shown.map((m) => ({ id: m.hubId, ...this.map.latLngToLayerPoint(m.getLatLng()) }));
    const moves = spreadPiles(points, MARKER_PX);
    const legs = [];
    for (const marker of this.markers.values()) {
      const icon = marker.getElement()?.querySelector(".marker");
      const move = moves.get(marker.hubId);
      if (icon) icon.style.translate = move ? `${move.dx}px ${move.dy}px` : "";
      if (move) {
        const at = this.map.latLngToLayerPoint(marker.getLatLng());
        legs.push([marker.getLatLng(), this.map.layerPointToLatLng(at.add([move.dx, move.dy]))]);
      }
    }
    if (legs.length) this.legs.addLayer(L.polyline(legs, { color: "#222", weight: 1, opacity: 0.6, interactive: false }));
  }

  remove(id) {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.cluster.removeLayer(marker);
    this.plain.removeLayer(marker);
    this.markers.delete(id);
  }

  layer() {
    return this.grouped ? this.cluster : this.plain;
  }

  setGrouped(grouped) {
    if (grouped === this.grouped) return;
    this.map.removeLayer(this.layer());
    this.layer().clearLayers();
    this.grouped = grouped;
    this.map.addLayer(this.layer());
    this.applyFilter(this.visible);
    this.spreadLater();
  }

  applyFilter(visible) {
    this.visible = visible;
    const layer = this.layer();
    layer.clearLayers();
    const shown = [];
    for (const [id, marker] of this.markers) {
      const record = this.store.records.get(id);
      if (record && visible(record)) shown.push(marker);
    }
    if (this.grouped) this.cluster.addLayers(shown);
    else for (const m of shown) this.plain.addLayer(m);
    this.spreadLater();
  }

  // `tries`: markercluster's zoom to a grouped marker calls back at the end of its own animation, and on a
  // busy page (markers refreshed meanwhile) that end can pass unnoticed: the popup is asked for again.
  focus(id, tries = 3) {
    const marker = this.markers.get(id);
    if (!marker) return;
    if (!this.grouped) { this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 18)); marker.openPopup(); return; }
    this.cluster.zoomToShowLayer(marker, () => marker.openPopup());
    if (tries > 1) {
      setTimeout(() => { if (!marker.isPopupOpen() && this.markers.get(id) === marker && this.grouped) this.focus(id, tries - 1); }, 2000);
    }
  }

  popup(record) {
    const img = el("img", { alt: `latest picture of ${record.name}` });
    const caption = el("div", { class: "snapshot-age" }, "loading picture…");
    loadSnapshot(record, img, caption, this.store);
    const fix = record.category === "vehicle" && record.position ? el("div", { class: "fix" }, `GPS fix ${ago(Date.now() / 1000 - (record.position.at || record.since))}`) : null;
    return el("div", { class: "popup", dataset: { streamId: record.id } },
      el("h4", {}, record.name),
      el("div", {}, `${record.category} · ${record.site || "no site"} · ${record.id}`),
      el("div", {}, el("strong", { style: `color:${STATE_COLOURS[record.state]}` }, record.state), " ", el("span", { class: "reasons" }, reasonsInWords(record.reasons))),
      el("div", {}, formatRate(record), record.width ? ` · ${record.width}×${record.height} ${record.codec || ""}` : "",
        record.transport === "udp" ? " over UDP" : ""),
      el("div", { class: "freshness" }, freshness(record, Date.now() / 1000)),
      record.last_error && record.state !== "online" ? el("div", { class: "last-error" }, `last error: ${record.last_error}`) : null,
      fix,
      ...mutedInWords(record.muted).map((line) => el("div", { class: "muted" }, line)),
      img,
      caption,
      el("button", { class: "to-wall", onclick: () => this.onWall(record.id) }, "Put on wall"),
      this.checkActions(record));
  }

  // Operators (and admins) may mute a failing picture check, unmute one, or accept the current view as the reference.
  checkActions(record) {
    if (!this.store.me.can.acknowledge) return null;
    const failing = (record.reasons || []).filter((r) => PICTURE_CHECKS.includes(r));
    const muted = (record.muted || []).map((m) => m.check);
    const done = () => this.map.closePopup();
    return el("div", { class: "checks" },
      ...failing.map((check) => el("button", { class: "mute", dataset: { check }, onclick: async () => { if (await this.store.mute(record, check)) done(); } }, `Mute ${check}…`)),
      ...muted.map((check) => el("button", { class: "unmute", dataset: { check }, onclick: async () => { if (await this.store.unmute(record, check)) done(); } }, `Unmute ${check}`)),
      el("button", { class: "accept-view", onclick: async () => { if (await this.store.acceptReference(record)) done(); } }, "Accept view as reference…"));
  }

  popupTimer(marker) {
    const update = setInterval(() => {
      if (!marker.isPopupOpen()) { clearInterval(update); return; }
      const record = this.store.records.get(marker.hubId);
      const fix = marker.getPopup().getElement()?.querySelector(".fix");
      if (fix && record?.position) fix.textContent = `GPS fix ${ago(Date.now() / 1000 - record.position.at)}`;
      const fresh = marker.getPopup().getElement()?.querySelector(".freshness");
      if (fresh && record) fresh.textContent = freshness(record, Date.now() / 1000);
    }, 1000);
  }

  tickVehicles() {
    for (const [id, marker] of this.markers) {
      const record = this.store.records.get(id);
      if (record?.category !== "vehicle" || !record.position) continue;
      const age = record.position.at ? Date.now() / 1000 - record.position.at : null;
      marker.options.title = `${record.name}: fix ${ago(age)}`;
      const e = marker.getElement();
      if (e) e.title = marker.options.title;
    }
  }
}

// The popup's picture, captioned with its age on the hub's clock and the state at that instant (both from the
// snapshot's reply), so that the last picture of a camera that went offline never passes for a current one.
async function loadSnapshot(record, img, caption, store) {
  if (store.needsReason(record)) {
    caption.replaceChildren(el("button", { class: "open-sensitive", onclick: async () => {
      if (await store.open(record)) loadSnapshot(record, img, caption, store);
    } }, "Sensitive camera: open (reason required)"));
    return;
  }
  caption.textContent = "loading picture…";
  let reply;
  try {
    reply = await fetch(`/api/streams/${encodeURIComponent(record.id)}/snapshot.jpg?width=320`, { cache: "no-store" });
  } catch (error) {
    caption.textContent = "picture unavailable: the hub did not answer";
    return;
  }
  if (!reply.ok) { caption.textContent = "no picture yet"; return; }
  const age = Number(reply.headers.get("X-Snapshot-Age"));
  img.src = URL.createObjectURL(await reply.blob());
  img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
  const state = reply.headers.get("X-Stream-State") || record.state;
  const up = state === "online" || state === "degraded";
  caption.textContent = up ? `picture ${ago(age)}` : `last picture, ${ago(age)}: the camera is ${state}`;
  caption.classList.toggle("old", !up);
}
