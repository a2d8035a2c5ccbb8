// The draw page: a pad for mouse and touch; after each stroke the drawing goes to
// /api/predict as a PNG and the answer is shown: the 28x28 input, the probabilities, the
// hidden activations and training digits of the runner-up class.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const status = document.getElementById("status");
let drawing = false, inked = false, pending = null;

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  document.getElementById("prediction").textContent = "?";
  document.getElementById("prediction").dataset.class = "";
  status.textContent = "";
}

function point(event) {
  const r = pad.getBoundingClientRect();
  return [(event.clientX - r.left) * pad.width / r.width, (event.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  const [x, y] = point(e);
  ctx.lineWidth = 20; ctx.lineCap = ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
  ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y); ctx.stroke();
  inked = true;
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const [x, y] = point(e);
  ctx.lineTo(x, y); ctx.stroke();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    predict();
  });
}
document.getElementById("clear").addEventListener("click", clearPad);

async function predict() {
  if (!inked) return;
  const blob = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
  const request = api("/api/predict", { method: "POST", headers: { "Content-Type": "image/png" }, body: blob });
  pending = request;
  try {
    const answer = await request;
    if (pending === request) show(answer);       // a newer stroke's answer wins
  } catch (e) {
    status.textContent = e.message;
    status.className = "error";
  }
}

function show(a) {
  status.textContent = ""; status.className = "hint";
  drawGrey(document.getElementById("seen"), a.input);
  const top = document.getElementById("prediction");
  top.textContent = a.label;
  top.dataset.class = String(a.predicted);

  const bars = document.getElementById("bars");
  bars.replaceChildren();
  a.probabilities.forEach((p, k) => {
    const label = document.createElement("span");
    label.textContent = a.classes[k];
    const bar = document.createElement("div");
    bar.className = "bar" + (k === a.predicted ? " top" : "");
    const fill = document.createElement("div");
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    bar.append(fill);
    const pct = document.createElement("span");
    pct.textContent = `${(100 * p).toFixed(1)}%`;
    bars.append(label, bar, pct);
  });

  const acts = document.getElementById("activations");
  acts.replaceChildren();
  for (const layer of a.activations) {
    const title = document.createElement("div");
    title.className = "hint";
    title.textContent = `layer ${layer.layer} (${layer.kind}), ${layer.size} units` +
      (layer.size > layer.values.length ? `, first ${layer.values.length} shown` : "");
    const strip = document.createElement("canvas");
    strip.className = "strip";
    const lo = Math.min(0, ...layer.values), hi = Math.max(...layer.values, lo + 1e-9);
    drawGrey(strip, [layer.values.map((v) => Math.round(255 * (v - lo) / (hi - lo)))]);
    acts.append(title, strip);
  }

  document.getElementById("runner-up").textContent =
    `Runner-up class: ${a.runner_up.label} (${(100 * a.probabilities[a.runner_up.class]).toFixed(1)}%)` +
    (a.runner_up.examples.length ? ". Training digits of that class:" : "");
  const examples = document.getElementById("examples");
  examples.replaceChildren();
  for (const digit of a.runner_up.examples) {
    const c = document.createElement("canvas");
    c.className = "pixels";
    drawGrey(c, digit);
    examples.append(c);
  }
}

clearPad();
showModelName();
