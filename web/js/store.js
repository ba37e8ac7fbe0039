// The page's copy of the index: records by id, kept fresh from /api/streams and /api/events.

export class Store extends EventTarget {
  constructor() {
    super();
    this.records = new Map();
    this.ui = null;
    this.changes = [];
  }

  async load() {
    this.ui = await (await fetch("/api/ui")).json();
    await this.refresh();
  }

  async refresh() {
    const body = await (await fetch("/api/streams")).json();
    const seen = new Set();
    for (const record of body.streams) {
      seen.add(record.id);
      const old = this.records.get(record.id);
      this.records.set(record.id, record);
      if (!old || old.state !== record.state || !samePosition(old.position, record.position)) this.emit("record", record);
    }
    for (const id of [...this.records.keys()]) if (!seen.has(id)) { this.records.delete(id); this.emit("removed", { id }); }
    this.emit("refreshed", {});
  }

  follow() {
    const source = new EventSource("/api/events");
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
    source.addEventListener("hello", (event) => this.emit("hub", JSON.parse(event.data).hub || {}));
    source.addEventListener("hub", (event) => this.emit("hub", JSON.parse(event.data)));
    source.addEventListener("removed", (event) => {
      const data = JSON.parse(event.data);
      this.records.delete(data.id);
      this.emit("removed", data);
    });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
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
