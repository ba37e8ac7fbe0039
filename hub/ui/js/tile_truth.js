// What a wall tile may claim about its picture: a pure function of what the hub last said and what the
// browser itself sees. No DOM here, so the rules read in one place.
import { ago, duration } from "./dom.js";

export const STATUS_STALE_S = 4; // no status from the hub for this long: the tile knows nothing
export const LIVE_FRAME_S = 2.5; // the hub's newest frame must be at most this old to call the tile live
export const VIDEO_STALL_S = 3; // a playing tile whose video has not advanced for this long is stuck here
export const FIRST_STATUS_S = 5; // a tile just opened waits this long for its first status before calling it lost

const UP = new Set(["online", "degraded"]);

// facts: { status, statusAge, serverNow, playing: "video" | "snapshots", videoStillFor, snapshotInterval, openedFor }
// returns: { live, stale, age, headline, mode }
//   age      the age of the newest frame the hub received from the camera, in words
//   headline why the tile cannot be trusted (shown over the greyed picture), "" when it can
//   mode     the corner label: "live" only while frames arrive and no check fails
export function tileVerdict(facts) {
  const { status, statusAge, serverNow } = facts;
  if (!status && facts.openedFor < FIRST_STATUS_S) {
    return { live: false, stale: true, age: "asking the hub", headline: "WAITING FOR THE HUB", mode: "" };
  }
  if (!status || statusAge > STATUS_STALE_S) {
    return { live: false, stale: true, age: "picture age unknown", headline: "NO STATUS FROM THE HUB", mode: "" };
  }
  if (status.last_frame_at === null || status.last_frame_at === undefined) {
    return { live: false, stale: true, age: "no picture yet", headline: "NEVER HAD A PICTURE", mode: "" };
  }
  const frameAge = Math.max(0, serverNow - status.last_frame_at);
  const age = `picture ${ago(frameAge)}`;
  const reasons = status.reasons || [];
  const unchanged = status.picture_changed_at ? serverNow - status.picture_changed_at : null;
  let headline = "";
  if (!UP.has(status.state) || frameAge > LIVE_FRAME_S) headline = `NO LIVE PICTURE · last frame ${ago(frameAge)}`;
  else if (reasons.includes("black")) headline = "PICTURE BLACK";
  else if (reasons.includes("frozen")) headline = `FROZEN FOR ${duration(unchanged).toUpperCase()}`;
  else if (facts.playing === "video" && facts.videoStillFor > VIDEO_STALL_S) headline = "VIDEO STUCK IN THIS BROWSER";
  else if (facts.playing === "snapshots" && !snapshotFresh(status, serverNow, facts.snapshotInterval)) headline = "NO FRESH SNAPSHOT";
  const stale = headline !== "";
  const live = !stale && status.state === "online";
  let mode = "";
  if (!stale) mode = facts.playing === "snapshots" ? "snapshot mode (codec not playable here)" : live ? "live" : "degraded";
  const frozenAge = reasons.includes("frozen") ? `frozen for ${duration(unchanged)}` : age;
  return { live, stale, age: frozenAge, headline, mode };
}

function snapshotFresh(status, serverNow, interval) {
  return status.snapshot_at !== null && status.snapshot_at !== undefined && serverNow - status.snapshot_at <= 3 * interval + 1;
}
