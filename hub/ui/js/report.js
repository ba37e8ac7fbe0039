// The phone page of a grid worker: report an incident (kind, severity, what is seen, photos, the place from
// the phone's GPS or a tap on the map), follow one's own reports, and share one's position while on duty.
// A report is queued on the phone (IndexedDB, photos included) before it is sent, and sent again until the
// hub has it: each carries its own client_id, so a report sent twice is still one incident. Everything the
// hub or the reporter wrote is shown as text, never as markup.
/* global L */
import { el } from "./dom.js";

const KINDS = {
  dispute: "Dispute", safety_hazard: "Safety hazard", fire: "Fire", traffic: "Traffic", public_order: "Public order",
  facility_damage: "Facility damage", environment: "Environment", other: "Other",
};
const SEVERITIES = { 1: "Minor", 2: "Moderate", 3: "Serious", 4: "Critical" };
const STATES = { new: "sent", acknowledged: "seen by the centre", assigned: "assigned", in_progress: "in progress", resolved: "resolved", closed: "closed" };
const RESEND_MS = 20_000;
const POSITION_EVERY_MS = 30_000;
const $ = (id) => document.getElementById(id);

let csrf = "";
let place = null; // {lat, lon, accuracy_m, from: "gps" | "map"}
let marker = null;
let map = null;
let flushing = false;
let watch = null;
let lastPositionSent = 0;

// --- the queue on the phone ---------------------------------------------------------------------------
function openQueue() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("hub-reports", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("queue", { keyPath: "client_id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function inQueue(mode, work) {
  const db = await openQueue();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("queue", mode);
    const result = work(tx.objectStore("queue"));
    tx.oncomplete = () => { db.close(); resolve(result.result ?? result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

const queued = () => inQueue("readonly", (store) => store.getAll());
const enqueue = (item) => inQueue("readwrite", (store) => store.put(item));
const dequeue = (clientId) => inQueue("readwrite", (store) => store.delete(clientId));

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context; this does not
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- sending ------------------------------------------------------------------------------------------
async function send(item) {
  const form = new FormData();
  for (const [name, value] of Object.entries(item.fields)) form.append(name, String(value));
  form.append("client_id", item.client_id);
  item.photos.forEach((photo, i) => form.append("photo", photo, `photo-${i + 1}.jpg`));
  return fetch("/api/incidents", { method: "POST", headers: { "X-CSRF-Token": csrf }, body: form });
}

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (const item of await queued()) {
      let reply;
      try {
        reply = await send(item);
      } catch (e) {
        break; // no network: everything stays queued for the next try
      }
      if (reply.status === 401) { say("Your session ended: sign in again; your reports wait on this phone."); break; }
      if (reply.status >= 500) break;
      await dequeue(item.client_id);
      const body = await reply.json().catch(() => ({}));
      if (reply.ok) say(`Sent: ${body.id} (${KINDS[body.kind] || body.kind}, ${SEVERITIES[body.severity] || body.severity}).`);
      else say(`Not accepted: ${body.error || reply.status}`);
    }
  } finally {
    flushing = false;
    await showQueue();
    await loadMine();
  }
}

function say(text) { $("report-result").textContent = text; }

async function showQueue() {
  const waiting = (await queued()).length;
  $("report-queued").textContent = waiting ? `${waiting} report(s) waiting on this phone to be sent` : "";
}

// --- the form -----------------------------------------------------------------------------------------
function buildForm() {
  const kind = $("report-kind");
  kind.append(el("option", { value: "" }, "choose…"), ...Object.entries(KINDS).map(([v, t]) => el("option", { value: v }, t)));
  const severity = $("report-severity");
  for (const [value, words] of Object.entries(SEVERITIES)) {
    severity.append(el("label", { class: `sev sev-${value}` }, el("input", { type: "radio", name: "severity", value }), ` ${value} ${words}`));
  }
  $("report-photos").addEventListener("change", () => {
    const count = $("report-photos").files.length;
    $("report-photo-count").textContent = count > 3 ? "at most 3 photos: only the first 3 are sent" : count ? `${count} photo(s)` : "";
  });
  $("report").addEventListener("submit", submit);
  $("report-gps").addEventListener("click", locate);
}

async function submit(event) {
  event.preventDefault();
  const kind = $("report-kind").value;
  const severity = document.querySelector('input[name="severity"]:checked')?.value;
  if (!kind || !severity) { say("Choose what it is and how serious."); return; }
  if (!place) { say("Set the place: use your location or tap the map."); return; }
  const fields = { kind, severity, lat: place.lat.toFixed(7), lon: place.lon.toFixed(7), text: $("report-text").value.trim() };
  const photos = Array.from($("report-photos").files).slice(0, 3);
  await enqueue({ client_id: newClientId(), fields, photos, at: Date.now() });
  $("report").reset();
  $("report-photo-count").textContent = "";
  say(navigator.onLine ? "Sending…" : "No network: the report waits on this phone and is sent when the network is back.");
  await showQueue();
  await flush();
}

// --- the place ----------------------------------------------------------------------------------------
function setPlace(lat, lon, accuracy, from) {
  place = { lat, lon, accuracy_m: accuracy, from };
  const words = from === "gps" ? `your location (±${Math.round(accuracy || 0)} m)` : "the point you tapped";
  $("report-place").textContent = `${words}: ${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  if (map) {
    if (!marker) marker = L.marker([lat, lon]).addTo(map);
    else marker.setLatLng([lat, lon]);
    map.setView([lat, lon], Math.max(map.getZoom(), 17));
  }
}

function locate() {
  if (!navigator.geolocation) { $("report-place").textContent = "this phone gives no location: tap the map"; return; }
  navigator.geolocation.getCurrentPosition(
    (p) => setPlace(p.coords.latitude, p.coords.longitude, p.coords.accuracy, "gps"),
    () => { if (!place) $("report-place").textContent = "no location from the phone: tap the map"; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

async function buildMap() {
  const ui = await (await fetch("/api/ui")).json();
  map = L.map("report-map", { zoomControl: true, maxZoom: 21 }).setView(ui.map.center, ui.map.zoom);
  if (ui.map.tiles) L.tileLayer(ui.map.tiles, { maxZoom: 21, attribution: "" }).addTo(map);
  else {
    const data = await (await fetch("/web/basemap.geojson")).json();
    L.geoJSON(data, { interactive: false, style: (f) => (f.properties.kind === "street" ? { color: "#ffffff", weight: 6 } : { color: "#b9b2a0", weight: 1, fillColor: "#e6dfcc", fillOpacity: 1 }) }).addTo(map);
  }
  map.on("click", (e) => setPlace(e.latlng.lat, e.latlng.lng, null, "map"));
  if (place) setPlace(place.lat, place.lon, place.accuracy_m, place.from);
}

// --- my reports ---------------------------------------------------------------------------------------
async function loadMine() {
  let reply;
  try { reply = await fetch("/api/incidents?limit=50"); } catch (e) { return; }
  if (!reply.ok) return;
  const { incidents } = await reply.json();
  $("report-list").replaceChildren(...incidents.map((i) => el("li", { class: `mine state-${i.state}`, dataset: { id: i.id } },
    el("b", {}, `${KINDS[i.kind] || i.kind} · ${SEVERITIES[i.severity] || i.severity}`), " ",
    el("span", {}, STATES[i.state] || i.state), " ",
    el("small", {}, `${i.id} · ${new Date(i.reported_at * 1000).toLocaleString()}`))));
}

// --- on duty ------------------------------------------------------------------------------------------
function dutyChanged() {
  const on = $("report-on-duty").checked;
  if (on && navigator.geolocation) {
    lastPositionSent = 0;
    watch = navigator.geolocation.watchPosition(sendPosition, () => { $("report-duty-state").textContent = "no location from the phone"; },
      { enableHighAccuracy: true, maximumAge: 10000 });
    $("report-duty-state").textContent = "sharing your position";
  } else {
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    watch = null;
    fetch("/api/staff/position", { method: "PUT", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ on_duty: false }) }).catch(() => {});
    $("report-duty-state").textContent = "off duty: your position is not shared";
  }
}

async function sendPosition(p) {
  if (Date.now() - lastPositionSent < POSITION_EVERY_MS) return;
  lastPositionSent = Date.now();
  const body = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy };
  try {
    const reply = await fetch("/api/staff/position", { method: "PUT", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) });
    $("report-duty-state").textContent = reply.ok ? `position shared at ${new Date().toLocaleTimeString()}` : "the position was not accepted";
  } catch (e) {
    $("report-duty-state").textContent = "no network: the position is sent again in a moment";
    lastPositionSent = 0;
  }
}

// --- start --------------------------------------------------------------------------------------------
function network() {
  $("report-network").textContent = navigator.onLine ? "" : "No network: reports wait on this phone.";
  if (navigator.onLine) flush();
}

async function start() {
  const reply = await fetch("/api/me");
  if (reply.status === 401) { location.assign("/login"); return; }
  const me = await reply.json();
  csrf = me.csrf || "";
  $("report-user").textContent = me.user;
  $("report-sign-out").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST", headers: { "X-CSRF-Token": csrf } }).catch(() => {});
    location.assign("/login");
  });
  buildForm();
  $("report-on-duty").addEventListener("change", dutyChanged);
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  locate();
  await buildMap().catch(() => { $("report-map").textContent = "the map could not be loaded: use your location"; });
  network();
  await showQueue();
  await loadMine();
  setInterval(() => { if (navigator.onLine) flush(); else loadMine(); }, RESEND_MS);
}

start();
