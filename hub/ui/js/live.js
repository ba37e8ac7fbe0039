// Live video: one WebSocket carries every tile's fMP4 stream; each tile plays through Media Source Extensions.
// The same socket brings each tile's status (state, newest frame, frozen since) every second on the hub's clock.
// The hub closes it with 4401 when the session ends (4403: the role may no longer watch): the page signs out;
// when rights shrink it names the streams no longer shown ("revoked"), which `onRevoked` takes off the wall.
import { signedOut } from "./signed_out.js";

const KIND_INIT = 1;
const LIVE_EDGE_S = 1.0; // further behind than this: jump to the live edge
const KEEP_S = 10; // buffer kept behind the playhead

export class LiveSocket {
  constructor() {
    this.players = new Map(); // stream id -> Set of players
    this.followers = new Map(); // stream id -> Set of status callbacks (every tile, video or snapshots)
    this.sentRequest = ""; // the last {watch, follow, quality} sent, so unchanged tiles send nothing
    this.quality = "sub"; // big tiles ask for the main stream, small ones for the substream (where there is one)
    this.onRevoked = () => {};
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/api/live`);
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("open", () => this.send());
    this.ws.addEventListener("message", (event) => this.receive(event.data));
    this.ws.addEventListener("close", (event) => {
      if (this.closed) return;
      if (event.code === 4401 || event.code === 4403) signedOut(event.reason);
      else setTimeout(() => this.connect(), 2000);
    });
  }

  // The page is leaving (its own sign-out): no reconnecting, no "signed out elsewhere".
  close() {
    this.closed = true;
    this.ws.close();
  }

  attach(streamId, player) {
    addTo(this.players, streamId, player);
    this.update();
  }

  detach(streamId, player) {
    removeFrom(this.players, streamId, player);
    this.update();
  }

  follow(streamId, callback) {
    addTo(this.followers, streamId, callback);
    this.update();
  }

  unfollow(streamId, callback) {
    removeFrom(this.followers, streamId, callback);
    this.update();
  }

  setQuality(quality) {
    this.quality = quality;
    this.update();
  }

  request() {
    const watch = [...this.players.keys()].sort();
    const follow = [...this.followers.keys()].filter((id) => !this.players.has(id)).sort();
    return JSON.stringify({ watch, follow, quality: this.quality });
  }

  // Tiles change in bursts (a wall of 16 opens: 32 attaches and follows): one request for the burst, sent
  // on the next turn of the page's loop, never a message per change (the hub closes a socket sending more
  // than 20 a second, and the tiles would wait for their status meanwhile).
  update() {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => {
      this.pending = false;
      const request = this.request();
      if (request === this.sentRequest) return;
      this.sentRequest = request;
      this.send();
    }, 0);
  }

  send() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.request());
  }

  receive(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      if (message.type === "init") for (const p of this.players.get(message.stream) || []) p.expect(message.mime);
      if (message.type === "revoked") this.onRevoked(message.streams);
      if (message.type === "status") {
        for (const [id, status] of Object.entries(message.streams)) for (const callback of this.followers.get(id) || []) callback(status, message.now);
      }
      return;
    }
    const bytes = new Uint8Array(data);
    const kind = bytes[0];
    const length = bytes[1];
    const id = new TextDecoder().decode(bytes.subarray(2, 2 + length));
    const payload = bytes.subarray(2 + length);
    for (const player of this.players.get(id) || []) {
      if (kind === KIND_INIT) player.init(payload);
      else player.append(payload);
    }
  }
}

export class MsePlayer {
  constructor(video, onUnsupported) {
    this.video = video;
    this.onUnsupported = onUnsupported;
    this.queue = [];
    this.mime = null;
    this.buffer = null;
  }

  static supports(codec) {
    const mime = codec === "hevc" ? 'video/mp4; codecs="hvc1.1.6.L93.B0"' : 'video/mp4; codecs="avc1.64001e"';
    return window.MediaSource && MediaSource.isTypeSupported(mime);
  }

  expect(mime) {
    this.mime = mime;
  }

  init(bytes) {
    if (!this.mime || !MediaSource.isTypeSupported(this.mime)) {
      this.onUnsupported();
      return;
    }
    this.reset();
    this.queue = [bytes.slice()];
    const source = new MediaSource();
    this.source = source;
    this.video.src = URL.createObjectURL(source);
    source.addEventListener("sourceopen", () => {
      if (this.source !== source) return;
      this.buffer = source.addSourceBuffer(this.mime);
      this.buffer.mode = "segments";
      this.buffer.addEventListener("updateend", () => this.pump());
      this.pump();
    });
  }

  append(bytes) {
    if (!this.source) return;
    this.queue.push(bytes.slice());
    if (this.queue.length > 200) this.queue.splice(1, this.queue.length - 100); // far behind: keep the newest
    this.pump();
  }

  pump() {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || !this.queue.length) return;
    this.chase();
    try {
      buffer.appendBuffer(this.queue.shift());
    } catch (error) {
      if (error.name === "QuotaExceededError" && this.video.currentTime > 2) buffer.remove(0, this.video.currentTime - 1);
    }
  }

  chase() {
    const video = this.video;
    const ranges = video.buffered;
    if (!ranges.length) return;
    const end = ranges.end(ranges.length - 1);
    if (video.currentTime < ranges.start(0) || end - video.currentTime > LIVE_EDGE_S) video.currentTime = Math.max(ranges.start(0), end - 0.2);
    if (video.paused) video.play().catch(() => {});
    if (!this.buffer.updating && video.currentTime - ranges.start(0) > 2 * KEEP_S) this.buffer.remove(0, video.currentTime - KEEP_S);
  }

  latency() {
    const ranges = this.video.buffered;
    return ranges.length ? ranges.end(ranges.length - 1) - this.video.currentTime : null;
  }

  reset() {
    if (this.source && this.source.readyState === "open") {
      try { this.source.endOfStream(); } catch (error) { /* already ended */ }
    }
    if (this.video.src) URL.revokeObjectURL(this.video.src);
    this.source = null;
    this.buffer = null;
  }
}

// A Map of Sets keyed by stream id: a key lives only while its set has members.
function addTo(map, key, value) {
  if (!map.has(key)) map.set(key, new Set());
  map.get(key).add(value);
}

function removeFrom(map, key, value) {
  map.get(key)?.delete(value);
  if (!map.get(key)?.size) map.delete(key);
}
