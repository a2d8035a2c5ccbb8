// Shared helpers of the two pages: JSON requests with readable errors, grey images on canvases.
"use strict";

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

// rows: an array of arrays of 0..255 values; draws them one pixel each on the canvas
function drawGrey(canvas, rows) {
  const h = rows.length, w = rows[0].length;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  rows.flat().forEach((v, i) => {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  });
  ctx.putImageData(img, 0, 0);
}

function toRows(flat, width) {
  const rows = [];
  for (let i = 0; i < flat.length; i += width) rows.push(flat.slice(i, i + width));
  return rows;
}

async function showModelName() {
  try {
    const info = await api("/api/model");
    document.getElementById("model-name").textContent =
      `model: ${info.name}${info.data ? " (" + info.data + ")" : ""}`;
    return info;
  } catch (e) {
    document.getElementById("model-name").textContent = `model: ${e.message}`;
  }
}
