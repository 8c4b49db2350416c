// The site's live channel (/ws/live/): a WebSocket that reconnects with backoff, shared by
// the pages that follow it (the dashboard, the camera player).
"use strict";

// Closed by the server for a reason retrying cannot mend: signed out (4401), no site (4403).
const LIVE_SOCKET_FINAL_CODES = new Set([4401, 4403]);

function liveSocketOpen({ onMessage, onState = () => {} }) {
  let delay = 1000;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
    socket.addEventListener("open", () => {
      delay = 1000;
      onState("live");
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        console.error("bad live message", error);
        return;
      }
      onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (LIVE_SOCKET_FINAL_CODES.has(event.code)) {
        onState("closed");
        return;
      }
      onState("reconnecting");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  };
  connect();
}
