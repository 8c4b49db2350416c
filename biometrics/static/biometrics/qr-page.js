// The code rotates server-side; reload the image each window so it stays valid.
"use strict";

const image = document.getElementById("qr");
const refreshSeconds = Number(image.dataset.refreshSeconds);
setInterval(() => {
  image.src = `${image.dataset.source}?t=${Date.now()}`;
}, refreshSeconds * 1000);
