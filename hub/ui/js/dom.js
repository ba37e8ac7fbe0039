// Tiny DOM helpers. Everything that comes from the config or a camera is set as text, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const STATE_COLOURS = {
  online: "#2e9d4b", degraded: "#e0a100", offline: "#d93025", unauthorized: "#8e44ad", connecting: "#8a8f98",
};

export const REASON_WORDS = {
  stalled: "no video arriving", unreachable: "cannot connect", ended: "stream ended", not_found: "camera path not found",
  auth_failed: "password refused", frozen: "picture frozen", black: "picture black", low_fps: "frame rate too low",
  resolution_changed: "resolution changed", decode_errors: "decode errors",
  overdue: "not checked within its patrol period",
  exposure: "too dark or overexposed", covered: "lens covered", moved: "camera moved or scene changed",
  low_contrast: "low contrast (fog, dirty dome)", blurred: "picture blurred (out of focus)", color_cast: "colour cast",
  ir_cut: "IR-cut filter fault (grey by day or colour in the dark)", noisy: "picture noisy (snow)",
  striped: "stripes (interference)", mosaic: "mosaic (corrupted blocks)",
};

// The picture checks an operator can mute one at a time on one camera (the rest are connection faults).
export const PICTURE_CHECKS = ["exposure", "covered", "low_contrast", "blurred", "color_cast", "ir_cut", "noisy", "striped", "mosaic", "moved"];

export function mutedInWords(muted) {
  return (muted || []).map((m) => `${REASON_WORDS[m.check] || m.check}${m.tripped ? " (failing)" : ""} muted until `
    + `${new Date(m.until * 1000).toLocaleString()} by ${m.by}: ${m.reason}`);
}

export const CATEGORY_GLYPHS = { "public-security": "S", property: "P", childcare: "C", vehicle: "V" };

export function reasonsInWords(reasons) {
  return (reasons || []).map((r) => REASON_WORDS[r] || r).join(", ");
}

export function ago(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  return seconds < 1.5 ? "now" : `${duration(seconds)} ago`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

// How the camera is watched now, why, and how fresh its verdict is. Live streams are judged all the time;
// patrolled ones by their last visit (the picture) and their last probe (reachability).
export function freshness(record, now) {
  const why = record.watching_reason ? ` (${record.watching_reason})` : "";
  if (record.watching === "live") {
    return `live${why} · picture checked ${ago(record.checked_at ? now - record.checked_at : null)}`;
  }
  const checked = record.checked_at ? `picture checked ${ago(now - record.checked_at)}` : "not visited yet";
  const probed = record.probed_at ? ` · answered a probe ${ago(now - record.probed_at)}` : "";
  return `on patrol${why} · ${checked}${probed}`;
}

export function formatRate(record) {
  const fps = record.fps === null || record.fps === undefined ? "—" : record.fps.toFixed(1);
  const kbps = record.bitrate_bps ? Math.round(record.bitrate_bps / 1000) : "—";
  return `${fps} fps · ${kbps} kbit/s`;
}
