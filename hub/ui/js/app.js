// Wires the page together: the store (API + SSE), the map, the side panel and the wall.
import { IncidentLayer } from "./incidents.js";
import { IncidentWall } from "./incident_wall.js";
import { MapView } from "./map.js";
import { Side } from "./side.js";
import { Store } from "./store.js";
import { Wall } from "./wall.js";

const store = new Store();
await store.load();

// Who is signed in, and a way out; layout saving only for roles that may arrange walls.
document.getElementById("who").textContent = `${store.me.user} (${store.me.role})`;
document.getElementById("sign-out").addEventListener("click", async () => {
  wall.live.close(); // ours to end: the hub's "signed out" close is for the other pages of this session
  store.unfollow();
  await store.send("POST", "/api/logout");
  location.assign("/login");
});
for (const id of ["layout-save", "layout-delete", "layout-name"]) document.getElementById(id).hidden = !store.me.can.arrange;

const wall = new Wall(store);
const putOnWall = (id) => { showView("wall"); wall.put(id); };
const map = new MapView(store, putOnWall);
const side = new Side(store, {
  onFilter: (visible) => map.applyFilter(visible),
  onFocus: (id) => { showView("map"); map.focus(id); },
  onWall: putOnWall,
});

for (const record of store.records.values()) map.upsert(record);
map.applyFilter(side.visible);
side.renderList();
side.renderCounts();

store.addEventListener("record", (e) => { map.upsert(e.detail); side.updateRecord(e.detail); side.renderCounts(); });
store.addEventListener("removed", (e) => { map.remove(e.detail.id); side.renderList(); side.renderCounts(); });
store.addEventListener("change", () => { side.renderChanges(); wall.fillProblems(); });
store.addEventListener("outages", () => { side.renderChanges(); wall.showOutages(); wall.fillProblems(); });
let eventsConnected = false;
store.addEventListener("connection", (e) => {
  eventsConnected = e.detail.ok;
  const conn = document.getElementById("conn");
  conn.textContent = e.detail.ok ? "updates on" : "updates lost, reconnecting…";
  conn.classList.toggle("ok", e.detail.ok);
});
store.addEventListener("hub", (e) => showLoad(e.detail));
store.addEventListener("cluster", (e) => showCluster(e.detail));
store.follow();

// A banner while the hub sheds work: the operator must know the hub itself, not the cameras, is short of capacity.
function showLoad(load) {
  const banner = document.getElementById("overload");
  banner.hidden = !load.overloaded;
  if (!load.overloaded) return;
  const shed = [`pictures sampled ${load.picture_interval_factor}x less often`];
  if (load.patrol_concurrency_share < 1) shed.push(`patrol at ${Math.round(100 * load.patrol_concurrency_share)} % of its pace`);
  if (load.live_share < 1) shed.push(`${Math.round(100 * (1 - load.live_share))} % of the live streams nobody watches on patrol`);
  banner.textContent = `Hub overloaded (level ${load.level} of ${load.max_level}; event loop ${load.loop_lag_ms} ms late, `
    + `CPU ${Math.round(100 * load.cpu_share)} %): ${shed.join(", ")}. Camera states stay truthful; verdicts may come later.`;
}
// A cluster node that cannot reach Redis keeps pulling its cameras and moves none: the operator is told.
function showCluster(cluster) {
  const banner = document.getElementById("cluster-down");
  banner.hidden = !cluster.node || cluster.redis_up;
  if (banner.hidden) return;
  banner.textContent = `Cluster: this node (${cluster.node}) cannot reach Redis. It keeps pulling its ${cluster.pulling} cameras `
    + "and hands none over; cameras other nodes pull show what was last heard of them.";
}
setInterval(() => store.refresh().then(() => side.renderCounts()).catch(() => {}), 5000);

document.getElementById("cluster-toggle").addEventListener("change", (e) => map.setGrouped(e.target.checked));

function showView(name) {
  document.getElementById("map-view").hidden = name !== "map";
  document.getElementById("wall-view").hidden = name !== "wall";
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === name));
  if (name === "map") map.map.invalidateSize();
  localStorage.setItem("hub.view", name);
}
document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => showView(t.dataset.view)));

// Wall toolbar
const sizeSelect = document.getElementById("layout-size");
for (const size of store.ui.layout_sizes) sizeSelect.append(new Option(`${size} (${Math.sqrt(size)}×${Math.sqrt(size)})`, String(size)));
sizeSelect.value = String(wall.size);
sizeSelect.addEventListener("change", () => { wall.setSize(Number(sizeSelect.value)); wall.fillProblems(); });
document.getElementById("problems-toggle").addEventListener("change", (e) => wall.setProblems(e.target.checked));
const tourButton = document.getElementById("tour-toggle");
tourButton.addEventListener("click", () => {
  if (wall.tour) { wall.stopTour(); tourButton.textContent = "Start tour"; return; }
  const seconds = Math.min(3600, Math.max(2, Number(document.getElementById("tour-seconds").value) || 10));
  wall.startTour((side.shown || []).map((r) => r.id), seconds);
  tourButton.textContent = "Stop tour";
});
document.getElementById("wall-clear").addEventListener("click", () => wall.fill([]));
document.getElementById("wall-fullscreen").addEventListener("click", () => document.getElementById("wall").requestFullscreen?.());

const savedSelect = document.getElementById("layout-saved");
async function loadLayouts() {
  const body = await (await fetch("/api/layouts")).json();
  savedSelect.replaceChildren(new Option("saved layouts…", ""));
  for (const name of Object.keys(body.layouts).sort()) savedSelect.append(new Option(name, name));
  return body.layouts;
}
document.getElementById("layout-save").addEventListener("click", async () => {
  const name = document.getElementById("layout-name").value.trim();
  if (!name) return;
  const reply = await store.send("PUT", `/api/layouts/${encodeURIComponent(name)}`, wall.layout());
  if (!reply.ok) window.alert(`Layout not saved: ${(await reply.json()).error}`);
  if (reply.ok) { localStorage.setItem("hub.layout", name); await loadLayouts(); savedSelect.value = name; }
});
savedSelect.addEventListener("change", async () => {
  const layouts = await loadLayouts();
  const name = savedSelect.value;
  if (layouts[name]) { wall.applyLayout(layouts[name]); localStorage.setItem("hub.layout", name); savedSelect.value = name; }
});
document.getElementById("layout-delete").addEventListener("click", async () => {
  const name = savedSelect.value;
  if (!name) return;
  const reply = await store.send("DELETE", `/api/layouts/${encodeURIComponent(name)}`);
  if (!reply.ok) { window.alert(`Layout not deleted: ${(await reply.json()).error}`); return; }
  localStorage.removeItem("hub.layout");
  await loadLayouts();
});

const layouts = await loadLayouts();
const last = localStorage.getItem("hub.layout");
if (last && layouts[last]) { wall.applyLayout(layouts[last]); savedSelect.value = last; document.getElementById("layout-name").value = last; }
showView(localStorage.getItem("hub.view") || "map");

// Incidents on the map, and the wall that comes to a serious one (after the operator's own wall is up).
const incidents = new IncidentLayer(store, map);
const incidentWall = new IncidentWall(store, wall, incidents, () => showView("wall"));
store.addEventListener("connection", (e) => { if (e.detail.ok && incidents.loaded) incidents.load().then(() => incidentWall.decide()); });
await incidents.load();
await incidentWall.start();

// A read-only window for tests and debugging: what the page shows, not how it works.
window.hubUI = {
  ready: true,
  markerCount: () => map.markers.size,
  record: (id) => store.records.get(id) ?? null,
  markerLatLng: (id) => { const m = map.markers.get(id); return m ? [m.getLatLng().lat, m.getLatLng().lng] : null; },
  tileLatency: (index) => wall.tiles[index]?.player?.latency() ?? null,
  // True once the page shows real data: streams listed, events flowing, every marker placed, and every wall
  // tile either playing or saying why not. Screenshot tools wait on this rather than on a fixed delay.
  settled: () => eventsConnected && store.records.size > 0
    && map.markers.size === [...store.records.values()].filter((r) => r.position).length
    && wall.tiles.every((t) => t.settled()),
  chunksForTile: (index) => wall.tiles[index]?.streamId ?? null,
  incidentsShown: () => [...incidents.markers.keys()].filter((id) => incidents.layer.hasLayer(incidents.markers.get(id))),
  incidentsLoaded: () => incidents.loaded,
  // reports in the heat as drawn (the layer's own points while it is shown)
  heatCount: () => (incidents.heat?._latlngs || incidents.heatPoints || []).reduce((sum, p) => sum + p[2], 0),
  staff: () => [...incidents.staff.keys()],
  wallIncident: () => incidentWall.shown?.id ?? null,
  // every tile as shown: its camera, the state and "live" it claims, its headline, and how long after it opened
  // the hub's first status reached it, the latest snapshot showed and the video moved
  tiles: () => wall.tiles.map((t) => ({
    id: t.streamId, state: t.node.dataset.state ?? null, live: t.node.dataset.live === "true",
    headline: t.headline?.textContent ?? "", openedFor: t.streamId ? (performance.now() - t.openedAt) / 1000 : null,
    firstStatusAfter: t.firstStatusAfter ?? null, firstPictureAfter: t.firstPictureAfter ?? null,
    firstMotionAfter: t.firstMotionAfter ?? null, note: t.note && !t.note.hidden ? t.note.textContent : "" })),
};
