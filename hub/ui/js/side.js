// The side panel: filters, counts by state and category, the stream list, the latest state changes.
import { el, reasonsInWords } from "./dom.js";

export class Side {
  constructor(store, { onFilter, onFocus, onWall }) {
    this.store = store;
    this.onFilter = onFilter;
    this.onFocus = onFocus;
    this.onWall = onWall;
    this.query = "";
    this.categories = new Set(store.ui.categories);
    this.states = new Set(store.ui.states);
    this.rows = new Map();
    this.checkboxes("filter-categories", store.ui.categories, this.categories);
    this.checkboxes("filter-states", store.ui.states, this.states);
    const search = document.getElementById("search");
    search.addEventListener("input", () => { this.query = search.value.trim(); this.filterChanged(); });
    this.list = document.getElementById("stream-list");
  }

  checkboxes(containerId, values, selected) {
    const container = document.getElementById(containerId);
    for (const value of values) {
      const box = el("input", { type: "checkbox", checked: true, dataset: { filter: value } });
      box.addEventListener("change", () => { box.checked ? selected.add(value) : selected.delete(value); this.filterChanged(); });
      container.append(el("label", {}, box, " ", value));
    }
  }

  visible = (record) => this.categories.has(record.category) && this.states.has(record.state) && this.store.matches(record, this.query);

  filterChanged() {
    this.onFilter(this.visible);
    this.renderList();
  }

  row(record) {
    let row = this.rows.get(record.id);
    if (!row) {
      row = el("li", { draggable: "true", dataset: { streamId: record.id } });
      row.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", record.id));
      row.addEventListener("click", (e) => { if (e.target.tagName !== "BUTTON") this.onFocus(record.id); });
      this.rows.set(record.id, row);
    }
    const wallButton = el("button", { title: "put on the wall", onclick: () => this.onWall(record.id) }, "▶");
    row.replaceChildren(el("span", { class: `dot s-${record.state}` }), el("span", { class: "name", title: reasonsInWords(record.reasons) }, record.name), wallButton);
    row.dataset.state = record.state;
    return row;
  }

  renderList() {
    const shown = [...this.store.records.values()].filter(this.visible).sort((a, b) => a.name.localeCompare(b.name));
    this.list.replaceChildren(...shown.slice(0, 500).map((r) => this.row(r)));
    document.getElementById("list-count").textContent = shown.length > 500 ? `(${shown.length}, first 500 shown)` : `(${shown.length})`;
    this.shown = shown;
  }

  updateRecord(record) {
    if (this.rows.has(record.id)) this.row(record);
  }

  renderCounts() {
    const records = [...this.store.records.values()];
    const byState = {};
    const byCategory = {};
    for (const r of records) {
      byState[r.state] = (byState[r.state] || 0) + 1;
      byCategory[r.category] = (byCategory[r.category] || 0) + 1;
    }
    const totals = document.getElementById("totals");
    const unplaced = records.filter((r) => !r.position).length; // counted above, but no marker stands for them
    totals.replaceChildren(
      ...this.store.ui.states.filter((s) => byState[s]).map((s) => el("span", { class: `pill s-${s}`, dataset: { state: s } }, `${byState[s]} ${s}`)),
      unplaced ? el("span", { class: "pill unplaced", title: "cameras with no position: in the list, not on the map" }, `${unplaced} not on the map`) : "");
    const table = el("table", {},
      ...this.store.ui.categories.map((c) => el("tr", {}, el("td", {}, c), el("td", {}, String(byCategory[c] || 0)))));
    document.getElementById("counts").replaceChildren(table);
  }

  renderChanges() {
    const time = (c) => new Date(c.at * 1000).toLocaleTimeString();
    const grouped = this.store.inOutage(); // a camera down with its whole site is told once, in the outage's line
    const shown = this.store.changes.filter((c) => c.outage || !(grouped.has(c.id) && ["offline", "unauthorized"].includes(c.state)));
    const items = shown.slice(0, 15).map((c) => (c.outage
      ? el("li", { class: "outage" }, `${time(c)} ${c.open ? "outage" : "outage over"}: ${c.title}`)
      : el("li", {}, `${time(c)} ${c.name}: ${c.previous} → ${c.state}`, c.reasons.length ? ` (${reasonsInWords(c.reasons)})` : "")));
    document.getElementById("changes").replaceChildren(...items);
  }
}
