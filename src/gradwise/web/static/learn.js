// The learn page: posts the settings to /api/train, then follows /api/train/events
// (server-sent events) and draws the curves, the doctor's findings and the first-layer weights.
"use strict";

const $ = (id) => document.getElementById(id);
const status = $("status");
let source = null, run = null;

function newRun() {
  return { batches: [], epochs: [], stepsPerEpoch: 1, totalEpochs: 1 };
}

async function init() {
  showModelName();
  const state = await api("/api/train");
  for (const [key, text] of Object.entries(state.mistakes)) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" value="${key}"> ${text}`;
    $("mistakes").append(label);
  }
  if (state.status === "running" || state.status === "starting") follow();
}

// a field as typed: the number when the text reads as one, else the text itself, so that the
// server's message quotes what was typed ('lr: ... got "abc"'), never a NaN sent as null
function asTyped(text) {
  const t = text.trim();
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

function settings() {
  const hidden = $("hidden").value.split(",").map((s) => s.trim()).filter(Boolean).map(asTyped);
  return {
    data: $("data").value, network: $("network").value, hidden, activation: $("activation").value, optimizer: $("optimizer").value,
    lr: asTyped($("lr").value), epochs: asTyped($("epochs").value), batch_size: asTyped($("batch_size").value),
    mistakes: [...document.querySelectorAll("#mistakes input:checked")].map((el) => el.value),
    experiments: $("experiments").checked,
  };
}

$("start").addEventListener("click", async () => {
  try {
    await api("/api/train", { method: "POST", headers: { "Content-Type": "application/json" },
                              body: JSON.stringify(settings()) });
    follow();
  } catch (e) {
    status.textContent = e.message; status.className = "error";
  }
});
$("stop").addEventListener("click", () => api("/api/train/stop", { method: "POST" }).catch(() => {}));
$("network").addEventListener("change", () => {   // the CNN preset has its own layers, ReLU
  $("hidden").disabled = $("activation").disabled = $("network").value === "cnn";
});
$("use").addEventListener("click", async () => {
  await api("/api/train/use", { method: "POST" });
  location.href = "/";
});

function follow() {
  run = newRun();
  $("findings").replaceChildren();
  $("sweep").hidden = true;
  $("start").disabled = true; $("stop").disabled = false; $("use").disabled = true;
  status.textContent = "Starting..."; status.className = "hint";
  if (source) source.close();
  source = new EventSource("/api/train/events");
  source.onmessage = (message) => handle(JSON.parse(message.data));
  // a lost connection is retried by the browser (CONNECTING); a refused one (the server's
  // bound on open streams: 503) is not, and the page says so
  source.onerror = () => {
    if (source && source.readyState === EventSource.CLOSED) {
      status.textContent = "The server refused to stream this run (too many pages follow it?): " +
        "close learn-page tabs you no longer watch, then reload.";
      status.className = "error";
      $("start").disabled = false;
    }
  };
}

function handle(e) {
  if (e.type === "start") {
    run.stepsPerEpoch = e.steps_per_epoch;
    run.totalEpochs = e.epochs;
    status.textContent = `Training on ${e.data}: ${e.n_train} images, ${e.epochs} epoch(s) of ` +
      `${e.steps_per_epoch} steps` + (e.mistake_names.length ? `; injected: ${e.mistake_names.join(", ")}` : "");
  } else if (e.type === "batch") {
    run.batches.push(e);
    $("loss-chart").dataset.points = String(run.batches.length);
    drawCharts();
  } else if (e.type === "epoch") {
    run.epochs.push(e);
    const pct = (v) => (v == null ? "-" : `${(100 * v).toFixed(2)}%`);
    $("epoch-line").textContent = `epoch ${e.epoch + 1}: train ${pct(e.accuracy)}, test ${pct(e.val_accuracy)}`;
    drawCharts();
  } else if (e.type === "weights") {
    const box = $("weights");
    box.replaceChildren();
    for (const flat of e.images) {
      const c = document.createElement("canvas");
      c.className = "pixels";
      drawGrey(c, toRows(flat, Math.round(Math.sqrt(flat.length))));   // 28x28 or 3x3
      box.append(c);
    }
  } else if (e.type === "finding") {
    addFinding(e);
  } else if (e.type === "withdrawn") {
    withdrawFinding(e);
  } else if (e.type === "experiments") {
    status.textContent = e.error ? `The doctor's experiments failed: ${e.error}`
      : "The run is over; the doctor is trying its fixes and sweeping the learning rate...";
  } else if (e.type === "sweep") {
    drawSweep(e);
  } else if (e.type === "verified") {
    for (const li of $("findings").querySelectorAll("li")) {
      if (li.dataset.code === e.code && (li.dataset.where || "") === (e.where || "")) addTried(li, e);
    }
  } else if (e.type === "end") {
    source.close(); source = null;
    status.textContent = `${e.status}: ${e.message}`;
    status.className = e.status === "finished" || e.status === "stopped" ? "hint" : "error";
    $("start").disabled = false; $("stop").disabled = true;
    $("use").disabled = e.status !== "finished";
  }
}

// a finding that no longer holds stays in the list, struck through, saying since when
function withdrawFinding(e) {
  for (const li of $("findings").querySelectorAll("li")) {
    if (li.dataset.code === e.code && (li.dataset.where || "") === (e.where || "") && !li.dataset.withdrawn) {
      li.dataset.withdrawn = "1";
      li.classList.add("withdrawn");
      const note = document.createElement("div");
      note.className = "hint";
      note.textContent = `no longer holds${e.step == null ? "" : " since step " + e.step}: the run recovered`;
      li.append(note);
    }
  }
}

function addFinding(f) {
  const li = document.createElement("li");
  li.dataset.where = f.where || "";
  li.className = f.severity;
  li.dataset.code = f.code;
  const head = document.createElement("div");
  head.innerHTML = `<code></code> <span class="hint"></span>`;
  head.querySelector("code").textContent = f.code;
  head.querySelector("span").textContent = `${f.severity}${f.where ? ", " + f.where : ""}`;
  const msg = document.createElement("div");
  msg.textContent = f.message;
  const fix = document.createElement("div");
  fix.className = "fix";
  fix.textContent = `Fix: ${f.fix}`;
  li.append(head, msg, fix);
  if (f.tried) addTried(li, f);
  $("findings").append(li);
}

// the doctor's experiment under a finding: the fix tried on a copy, before -> after
function addTried(li, e) {
  const tried = document.createElement("div");
  tried.className = "tried " + (e.verified.verdict === "helped" ? "helped" : "not-helped");
  tried.textContent = `Tried: ${e.tried}`;
  li.append(tried);
}

// the learning-rate sweep: each grid run's loss against its rate (log scale), the best
// ringed, yours marked; a diverged run sits on the top edge
function drawSweep(e) {
  $("sweep").hidden = false;
  const canvas = $("sweep-chart");
  const w = canvas.width = canvas.clientWidth, h = canvas.height = canvas.clientHeight;
  const ctx = canvas.getContext("2d"), pad = 30;
  const lrs = e.grid.map((g) => g[0]), finite = e.grid.map((g) => g[1]).filter((v) => v != null);
  const ymax = Math.max(...finite, e.initial_loss || 0, 1e-6) * 1.1;
  const lo = Math.log10(Math.min(...lrs)), hi = Math.log10(Math.max(...lrs));
  const X = (lr) => pad + (w - pad - 8) * (Math.log10(lr) - lo) / Math.max(hi - lo, 1e-9);
  const Y = (v) => v == null ? 8 : h - pad + (pad - h + 8) * Math.min(v, ymax) / ymax;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#d9dee7"; ctx.fillStyle = "#667085"; ctx.font = "11px sans-serif";
  ctx.beginPath(); ctx.moveTo(pad, 8); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 8, h - pad); ctx.stroke();
  ctx.fillText(ymax.toPrecision(2), 2, 14); ctx.fillText("0", 18, h - pad);
  ctx.fillText(`lr ${Math.min(...lrs).toExponential(0)}`, pad, h - 12);
  ctx.fillText(`${Math.max(...lrs).toExponential(0)}`, w - 40, h - 12);
  ctx.strokeStyle = "#2563eb"; ctx.beginPath();
  e.grid.forEach((g, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, X(g[0]), Y(g[1])));
  ctx.stroke();
  for (const g of e.grid) {
    ctx.fillStyle = g[1] == null ? "#b42318" : "#2563eb";
    ctx.beginPath(); ctx.arc(X(g[0]), Y(g[1]), g[0] === e.lr ? 6 : 3, 0, 7); ctx.fill();
  }
  let line = `Use lr ${e.lr.toPrecision(2)}: the lowest loss after ${e.steps} steps of ${e.batch_size} ` +
    `(each rate tried on a copy, ${e.samples} samples).`;
  if (e.current != null) line += ` Yours, ${e.current.toPrecision(2)}, reached ` +
    (e.current_loss == null ? "no finite loss (diverged)." : `${e.current_loss.toPrecision(3)}.`);
  $("sweep-line").textContent = line;
}

// x: steps; y: the series' values; dots: (step, value) pairs drawn as circles
function chart(canvas, series, dots, fixedMax) {
  const w = canvas.width = canvas.clientWidth, h = canvas.height = canvas.clientHeight;
  const ctx = canvas.getContext("2d");
  const pad = 30;
  const values = series.concat(dots.map((d) => d[1])).filter((v) => v != null && isFinite(v));
  const xmax = Math.max(run.stepsPerEpoch * run.totalEpochs, ...run.batches.map((b) => b.step), 1);
  const ymax = fixedMax ?? Math.max(...values, 1e-6) * 1.05;
  const X = (s) => pad + (w - pad - 8) * s / xmax, Y = (v) => h - pad + (pad - h + 8) * v / ymax;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#d9dee7"; ctx.fillStyle = "#667085"; ctx.font = "11px sans-serif";
  ctx.beginPath(); ctx.moveTo(pad, 8); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 8, h - pad); ctx.stroke();
  ctx.fillText(ymax.toPrecision(2), 2, 14); ctx.fillText("0", 18, h - pad);
  ctx.fillText("step", w - 34, h - 12);
  ctx.strokeStyle = "#2563eb"; ctx.beginPath();
  let pen = false;
  run.batches.forEach((b, i) => {
    const v = series[i];
    if (v == null || !isFinite(v)) { pen = false; return; }
    const y = Y(Math.min(v, ymax));
    if (pen) ctx.lineTo(X(b.step), y); else ctx.moveTo(X(b.step), y);
    pen = true;
  });
  ctx.stroke();
  ctx.fillStyle = "#2f855a";
  for (const [s, v] of dots) {
    if (v == null) continue;
    ctx.beginPath(); ctx.arc(X(s), Y(Math.min(v, ymax)), 4, 0, 7); ctx.fill();
  }
}

function drawCharts() {
  const end = (e) => (e.epoch + 1) * run.stepsPerEpoch;
  chart($("loss-chart"), run.batches.map((b) => b.loss), run.epochs.map((e) => [end(e), e.val_loss]));
  chart($("acc-chart"), run.batches.map((b) => b.accuracy), run.epochs.map((e) => [end(e), e.val_accuracy]), 1);
}

init();
