// Live camera video: the player page and the dashboard's camera tiles.
// hls.js (vendored from npm, see scripts/vendor_static.py) plays HLS through Media Source
// Extensions; Safari, which has no MSE on iPhones, plays HLS natively. A stream without a
// playlist yet (starting, reconnecting) is retried until it has one.
"use strict";

const RETRY_MS = 2000;
const HLS_CONFIG = {
  // The pipeline writes 1 s segments: starting two segments behind the live edge keeps
  // the delay near 2 s and still leaves a segment of slack for a slow request.
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 5,
  maxLiveSyncPlaybackRate: 1.5, // drift back to the live edge by playing faster, not by jumping
  backBufferLength: 10, // a live view never seeks back far: bound the memory
};

function streamMessage(video, text) {
  const message = video.closest("[data-stream]")?.querySelector(".stream-message");
  if (!message) return;
  message.textContent = text;
  message.hidden = !text;
}

class StreamPlayer {
  constructor(video) {
    this.video = video;
    this.hls = null;
    this.retryTimer = null;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.load();
  }

  stop() {
    this.running = false;
    this.teardown();
  }

  load() {
    const video = this.video;
    const playlist = video.dataset.playlist;
    video.muted = true; // browsers only autoplay muted video
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls(HLS_CONFIG);
      this.hls = hls;
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
        streamMessage(video, "");
        video.play().catch(() => {});
      });
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return; // hls.js retries those itself
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
        } else {
          this.retry(); // no playlist yet, or the server is away
        }
      });
      hls.loadSource(playlist);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.addEventListener("error", () => this.retry(), { once: true });
      video.src = playlist;
      video.play().catch(() => {});
    } else {
      streamMessage(video, "This browser cannot play HLS video.");
    }
  }

  retry() {
    this.teardown();
    if (!this.running) return;
    streamMessage(this.video, "Waiting for the stream…");
    this.retryTimer = setTimeout(() => this.load(), RETRY_MS);
  }

  teardown() {
    clearTimeout(this.retryTimer);
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    } else if (this.video.getAttribute("src")) {
      this.video.removeAttribute("src");
      this.video.load();
    }
  }
}

function showStatus(container, status) {
  const badge = container.querySelector(".stream-state");
  if (badge) {
    badge.dataset.state = status.state;
    badge.textContent = status.state;
  }
  const stats = container.querySelector(".stream-stats");
  if (stats) {
    stats.textContent = status.state === "live"
      ? `${Math.round(status.output_fps)} fps, processing ${Math.round(status.latency_ms)} ms behind`
      : status.last_error || "";
  }
}

// The site's live channel carries each stream's status (state, fps, latency) every second.
function followStatus(container) {
  const streamId = Number(container.dataset.stream);
  liveSocketOpen({
    onMessage: (message) => {
      if (message.type === "stream.status" && message.data?.stream === streamId) showStatus(container, message.data);
    },
  });
}

// Tiles follow the dashboard's site choice; hidden tiles stop loading video.
function followSiteChoice(tiles) {
  const select = document.getElementById("site");
  const none = document.querySelector(".camera-none");
  const apply = () => {
    let shown = 0;
    for (const [tile, player] of tiles) {
      const visible = !select || tile.dataset.site === select.value;
      tile.hidden = !visible;
      if (visible) {
        shown += 1;
        player.start();
      } else {
        player.stop();
      }
    }
    if (none) none.hidden = shown > 0;
  };
  select?.addEventListener("change", apply);
  apply();
}

const tiles = new Map();
for (const video of document.querySelectorAll("video[data-playlist]")) {
  const player = new StreamPlayer(video);
  const container = video.closest("[data-stream]");
  if (video.dataset.mode === "tile") {
    tiles.set(container, player);
  } else {
    player.start();
    followStatus(container);
  }
}
if (tiles.size) followSiteChoice(tiles);
