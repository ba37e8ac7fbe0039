// The video wall: 1 to 36 tiles, fed from the map, the list or by drag-and-drop; named layouts on the
// server; tour mode; a problems wall that fills itself; fullscreen. A tile says "live" only when the hub
// says frames arrive and every check passes; otherwise it is greyed with the reason (see tile_truth.js).
import { ago, el, reasonsInWords, STATE_COLOURS } from "./dom.js";
import { LiveSocket, MsePlayer } from "./live.js";
import { tileVerdict } from "./tile_truth.js";

const MAIN_STREAM_MAX_TILES = 4; // 1 and 4 tiles play main streams; 9 and more play substreams (adaptive streaming)

class Tile {
  constructor(wall, index) {
    this.wall = wall;
    this.index = index;
    this.streamId = null;
    this.onStatus = (status, now) => this.receiveStatus(status, now);
    this.node = el("div", { class: "tile", dataset: { index } });
    this.node.addEventListener("dragover", (e) => { e.preventDefault(); this.node.classList.add("over"); });
    this.node.addEventListener("dragleave", () => this.node.classList.remove("over"));
    this.node.addEventListener("drop", (e) => {
      e.preventDefault();
      this.node.classList.remove("over");
      const id = e.dataTransfer.getData("text/plain");
      if (id) wall.assign(this.index, id);
    });
    this.renderEmpty();
  }

  renderEmpty() {
    this.node.replaceChildren(el("div", { class: "empty" }, "drop a stream here"));
    this.node.className = "tile";
    delete this.node.dataset.streamId;
    delete this.node.dataset.state;
    delete this.node.dataset.live;
  }

  show(streamId) {
    if (streamId === this.streamId) return;
    this.clear();
    this.streamId = streamId;
    const record = this.wall.store.records.get(streamId);
    if (!record) { this.streamId = null; return; }
    this.node.dataset.streamId = streamId;
    this.status = null; // what the hub last said about this stream, on its own clock
    this.openedAt = performance.now(); // "waiting for the hub" until its first status, not "no status"
    this.firstStatusAfter = null;
    this.title = el("span", { class: "title", title: record.name }, record.name);
    this.badge = el("span", { class: "badge" });
    this.age = el("span", { class: "age" });
    this.mode = el("span", { class: "mode" });
    const close = el("button", { class: "close", title: "remove from wall", onclick: () => this.wall.assign(this.index, null) }, "×");
    this.bars = [el("div", { class: "bar" }, this.title, close), el("div", { class: "info" }, this.badge, this.age, this.mode)];
    this.headline = el("div", { class: "stale-badge" });
    this.lastProgress = performance.now();
    this.lastTime = -1;
    if (this.wall.store.needsReason(record)) { this.askReason(record); return; }
    if (MsePlayer.supports(record.codec || "h264")) this.startVideo();
    else this.startSnapshots();
    this.wall.live.follow(streamId, this.onStatus);
    this.update();
  }

  // A sensitive camera's tile stays closed until the operator opens it with a reason.
  askReason(record) {
    const open = el("button", { class: "open-sensitive", onclick: async () => {
      if (await this.wall.store.open(record)) { this.streamId = null; this.show(record.id); }
    } }, "Open (reason required)");
    this.node.replaceChildren(el("div", { class: "sensitive" }, "Sensitive camera", open), ...this.bars);
    this.node.dataset.sensitive = "closed";
  }

  receiveStatus(status, now) {
    const first = !this.status;
    this.status = status;
    this.statusReceived = performance.now();
    this.clockOffset = now - Date.now() / 1000; // hub clock minus page clock: ages never trust the page's clock
    if (first) { this.firstStatusAfter = (this.statusReceived - this.openedAt) / 1000; this.update(); } // shown at once
  }

  startVideo() {
    this.video = el("video", { muted: true, autoplay: true, playsinline: true });
    this.video.muted = true;
    this.player = new MsePlayer(this.video, () => this.fallBack());
    this.note = el("div", { class: "picture-note" });
    this.node.replaceChildren(this.video, this.note, ...this.bars, this.headline);
    this.wall.live.attach(this.streamId, this.player);
    this.showLatestPicture();
    this.watchMotion();
  }

  // A picture at once: the hub's latest snapshot, labelled with its age, shows until the video moves
  // (a patrolled camera's video starts when the hub has connected to it).
  async showLatestPicture() {
    const id = this.streamId, video = this.video;
    this.firstPictureAfter = this.firstMotionAfter = null;
    let reply;
    try {
      reply = await fetch(`/api/streams/${encodeURIComponent(id)}/snapshot.jpg?width=640&wait=0`, { cache: "no-store" });
    } catch (error) { return; }
    if (!reply.ok || this.video !== video || this.firstMotionAfter !== null) return;
    const age = Number(reply.headers.get("X-Snapshot-Age"));
    const url = URL.createObjectURL(await reply.blob());
    if (this.video !== video || this.firstMotionAfter !== null) { URL.revokeObjectURL(url); return; }
    this.posterUrl = url;
    video.poster = url;
    this.note.textContent = `picture ${ago(age)}`;
    this.firstPictureAfter = (performance.now() - this.openedAt) / 1000;
  }

  // The video moves once a second frame is shown; the snapshot's label goes then.
  watchMotion() {
    const video = this.video;
    const moved = () => {
      if (this.video !== video) return;
      this.firstMotionAfter = (performance.now() - this.openedAt) / 1000;
      this.note.hidden = true;
    };
    if (video.requestVideoFrameCallback) {
      let frames = 0;
      const count = () => { frames += 1; if (frames >= 2) moved(); else video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count);
      return;
    }
    let first = null;
    const tick = () => {
      if (first === null) first = video.currentTime;
      else if (video.currentTime > first) { video.removeEventListener("timeupdate", tick); moved(); }
    };
    video.addEventListener("timeupdate", tick);
  }

  fallBack() {
    if (!this.player) return;
    this.wall.live.detach(this.streamId, this.player);
    this.player.reset();
    this.player = null;
    this.video = null;
    this.startSnapshots();
  }

  startSnapshots() {
    this.img = el("img", { alt: "" });
    this.node.replaceChildren(this.img, ...this.bars, this.headline);
    this.refreshSnapshot();
    const every = Math.max(1, this.wall.store.ui.picture_interval_s) * 1000;
    this.snapshotTimer = setInterval(() => this.refreshSnapshot(), every);
  }

  refreshSnapshot() {
    if (!this.img || !this.streamId) return;
    this.img.src = `/api/streams/${encodeURIComponent(this.streamId)}/snapshot.jpg?width=640&t=${Date.now()}`;
  }

  clear() {
    if (this.player) { this.wall.live.detach(this.streamId, this.player); this.player.reset(); }
    if (this.streamId) this.wall.live.unfollow(this.streamId, this.onStatus);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (this.posterUrl) URL.revokeObjectURL(this.posterUrl);
    this.player = this.video = this.img = this.snapshotTimer = this.status = this.posterUrl = null;
    delete this.node.dataset.sensitive;
    this.streamId = null;
    this.renderEmpty();
  }

  settled() {
    if (!this.streamId) return true;
    if (!this.status || this.node.classList.contains("stale")) return Boolean(this.status);
    return this.video ? this.video.currentTime > 0 : Boolean(this.img?.naturalWidth);
  }

  update() {
    if (!this.streamId) return;
    const record = this.wall.store.records.get(this.streamId);
    if (!record) { this.wall.assign(this.index, null); return; }
    if (this.video && this.video.currentTime !== this.lastTime) { this.lastTime = this.video.currentTime; this.lastProgress = performance.now(); }
    const status = this.status;
    const verdict = tileVerdict({
      status,
      statusAge: status ? (performance.now() - this.statusReceived) / 1000 : Infinity,
      serverNow: Date.now() / 1000 + (this.clockOffset || 0),
      playing: this.video ? "video" : "snapshots",
      videoStillFor: (performance.now() - this.lastProgress) / 1000,
      snapshotInterval: this.wall.store.ui.picture_interval_s,
      openedFor: (performance.now() - (this.openedAt || 0)) / 1000,
    });
    const state = status ? status.state : record.state;
    const reasons = status ? status.reasons : record.reasons;
    this.title.textContent = record.name;
    this.title.title = record.name;
    this.badge.textContent = reasons?.length ? `${state}: ${reasonsInWords(reasons)}` : state;
    this.badge.style.background = STATE_COLOURS[state];
    this.age.textContent = verdict.age;
    this.mode.textContent = verdict.mode;
    this.mode.hidden = !verdict.mode;
    this.headline.textContent = verdict.headline;
    this.node.classList.toggle("stale", verdict.stale);
    this.node.classList.toggle("problem", state !== "online");
    this.node.dataset.state = state;
    this.node.dataset.live = String(verdict.live);
  }
}

export class Wall {
  constructor(store) {
    this.store = store;
    this.live = new LiveSocket();
    this.live.onRevoked = (ids) => this.revoke(ids);
    this.node = document.getElementById("wall");
    this.tiles = [];
    this.size = 0;
    this.tour = null;
    this.problems = false;
    this.setSize(4);
    setInterval(() => this.tiles.forEach((t) => t.update()), 500);
  }

  // The hub no longer shows these streams to this person: their tiles empty, the page forgets them.
  revoke(ids) {
    this.tiles.forEach((tile, index) => { if (ids.includes(tile.streamId)) this.assign(index, null); });
    this.store.forget(ids);
  }

  setSize(size) {
    const ids = this.tiles.map((t) => t.streamId);
    this.tiles.forEach((t) => t.clear());
    this.size = size;
    this.live.setQuality(size <= MAIN_STREAM_MAX_TILES ? "main" : "sub");
    const side = Math.sqrt(size);
    this.node.style.gridTemplateColumns = `repeat(${side}, 1fr)`;
    this.node.style.gridTemplateRows = `repeat(${side}, 1fr)`;
    this.tiles = Array.from({ length: size }, (_, i) => new Tile(this, i));
    this.node.replaceChildren(...this.tiles.map((t) => t.node));
    ids.slice(0, size).forEach((id, i) => id && this.tiles[i].show(id));
    document.getElementById("layout-size").value = String(size);
  }

  assign(index, streamId) {
    const tile = this.tiles[index];
    if (!tile) return;
    if (streamId) tile.show(streamId);
    else tile.clear();
  }

  put(streamId) {
    const free = this.tiles.find((t) => !t.streamId) || this.tiles[this.tiles.length - 1];
    this.assign(free.index, streamId);
  }

  fill(ids) {
    this.tiles.forEach((tile, i) => (ids[i] ? tile.show(ids[i]) : tile.clear()));
  }

  layout() {
    return { size: this.size, tiles: this.tiles.map((t) => t.streamId) };
  }

  applyLayout(layout) {
    this.setSize(layout.size);
    this.fill(layout.tiles || []);
  }

  setProblems(on) {
    this.problems = on;
    if (on) this.fillProblems();
  }

  fillProblems() {
    if (!this.problems) return;
    const order = { offline: 0, unauthorized: 1, degraded: 2, connecting: 3 };
    this.showOutages();
    const grouped = this.store.inOutage(); // cameras down with their site or tag are one line above the wall, not a tile each
    const broken = [...this.store.records.values()].filter((r) => r.state !== "online" && !grouped.has(r.id))
      .sort((a, b) => order[a.state] - order[b.state] || a.id.localeCompare(b.id));
    const ids = broken.slice(0, this.size).map((r) => r.id);
    const current = this.tiles.map((t) => t.streamId);
    if (ids.join() !== current.slice(0, ids.length).join() || current.filter(Boolean).length !== ids.length) this.fill(ids);
  }

  showOutages() {
    const list = document.getElementById("outages");
    const outages = [...this.store.outages.values()].sort((a, b) => b.count - a.count);
    list.hidden = !outages.length;
    list.replaceChildren(...outages.map((o) => el("li", { dataset: { key: o.key } },
      `${o.title}, since ${new Date(o.since * 1000).toLocaleTimeString()}`)));
  }

  startTour(ids, seconds) {
    this.stopTour();
    if (!ids.length) return;
    let page = 0;
    const step = () => {
      const start = (page * this.size) % ids.length;
      this.fill(Array.from({ length: Math.min(this.size, ids.length) }, (_, i) => ids[(start + i) % ids.length]));
      page += 1;
    };
    step();
    this.tour = setInterval(step, seconds * 1000);
  }

  stopTour() {
    if (this.tour) clearInterval(this.tour);
    this.tour = null;
  }
}
