// The scanning page: wires the inputs (camera, hand-held scanner, keyboard, buttons) to the
// local picture (field.js) and its outbox, and keeps the page drawn.

import { Camera } from "./camera.js";
import { RepeatFilter } from "./codes.js";
import { signal, unlockAudio } from "./feedback.js";
import { Field } from "./field.js";
import { guardUnsent, listenForScanner } from "./guards.js";
import { connection } from "./net.js";
import { Outbox } from "./outbox.js";
import { Store } from "./store.js";
import { View, fmt, scanLabel } from "./view.js";

const $ = (sel) => document.querySelector(sel);
const config = JSON.parse($("#scan-config").textContent);
const T = JSON.parse($("#scan-messages").textContent);
const view = new View(document, T);
const prefsKey = (name) => `scan.${name}.${config.user_id}`;
let lastAnswerId = null;
const { send, renewCsrf, getJSON } = connection(config, prefsKey);
const SETUP_READS = ["/rounds", "/sites"];

const store = await Store.open();
const outbox = new Outbox(store, {
  send, userId: config.user_id, onAuth: renewCsrf, onChange: () => render(), setAsideMessage: T.set_aside,
});
const field = new Field(store, outbox, config.user_id);
await field.load();
let rounds = [];
let sites = [];

// --- round, site and capacity ----------------------------------------------------------------
function option(value, label, selected) {
  const node = new Option(label, value, false, selected);
  return node;
}

async function loadSetup() {
  const saved = JSON.parse(localStorage.getItem(prefsKey("setup")) || "{}");
  try {
    rounds = ((await getJSON(SETUP_READS[0])).rounds || []).filter((r) => r.status === "open");
  } catch { rounds = []; }
  try {
    const data = await getJSON(SETUP_READS[1]);
    sites = Array.isArray(data) ? data : data.sites || [];
  } catch { sites = []; }
  $("#round").replaceChildren(option("", "—", false),
    ...rounds.map((r) => option(String(r.id), r.name, String(r.id) === String(saved.round_id))));
  $("#site").replaceChildren(option("", "—", false),
    ...sites.map((s) => option(s.code, `${s.name} (${s.code})`, s.code === saved.site_code)));
  if (rounds.length === 1 && !$("#round").value) $("#round").value = String(rounds[0].id);
  if (sites.length === 1 && !$("#site").value) $("#site").value = sites[0].code;
  applySetup();
}

function currentRound() {
  return rounds.find((r) => String(r.id) === $("#round").value);
}

function applySetup() {
  const round = currentRound();
  const site = sites.find((s) => s.code === $("#site").value);
  field.setup = round && site ? { round_id: round.id, site_code: site.code } : null;
  if (field.setup) localStorage.setItem(prefsKey("setup"), JSON.stringify(field.setup));
  $("#setup-summary").textContent = field.setup ? `${round.name} · ${site.name}` : $("#setup-summary").dataset.label;
  if (field.setup) $("#setup").open = false; // chosen: fold it away, the summary names the choice
  $("#work").hidden = !field.setup;
  const saved = localStorage.getItem(prefsKey(`capacity.${round?.id}`));
  const capacity = saved || String(round?.pool_size || 10);
  for (const input of document.querySelectorAll('input[name="capacity"]')) input.checked = input.value === capacity;
  render();
}

function capacity() {
  return Number(document.querySelector('input[name="capacity"]:checked')?.value || currentRound()?.pool_size || 10);
}

// --- what the sampler does -------------------------------------------------------------------
function report(result) {
  if (result.ignored) return;
  if (!result.ok) {
    signal("error");
    view.message(fmt(T[result.error] || result.error, result.params), "error");
  } else if (result.kind === "tube") {
    signal("ok");
    view.message(fmt(T.tube_opened, { code: result.tube.code, n: result.tube.capacity }), "ok");
  } else if (result.sealed) {
    signal("sealed");
    view.message(fmt(T.tube_full, { code: result.tube.code }), "ok");
  } else if (result.action) {
    signal("ok");
    lastAnswerId = result.action.client_id;
    view.message(`${T.added}: ${scanLabel(result.action, T)}`, "ok");
  }
  render();
}

let busy = Promise.resolve();
/** Handle codes one after another, in the order they were read. */
function handle(text, source = {}) {
  busy = busy.then(() => field.handleCode(text, capacity(), source)).then(report, (err) => {
    console.error(err);
    signal("error");
  });
  return busy;
}

const repeats = new RepeatFilter(2000);
const camera = new Camera($("#camera"), {
  scriptUrl: config.decoder_js, wasmUrl: config.decoder_wasm,
  onCode: (text) => { if (repeats.accept(text)) handle(text, { camera: true }); },
});

async function toggleCamera(on = !camera.running) {
  if (!on) {
    camera.stop();
  } else {
    try {
      await camera.start();
    } catch (err) {
      console.warn(err);
      const decoder = camera.running;
      camera.stop();
      view.message(decoder ? T.decoder_failed : T.camera_failed, "error");
    }
  }
  localStorage.setItem(prefsKey("camera"), camera.running ? "on" : "off");
  $("#camera-toggle").textContent = camera.running ? T.camera_off : T.camera_on;
  document.body.classList.toggle("camera-running", camera.running);
}

listenForScanner(handle);

$("#manual").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#code-input");
  if (input.value.trim()) handle(input.value);
  input.value = "";
});

$("#move-all").addEventListener("click", async () => {
  const result = await field.moveAll();
  if (result.ok) view.message(fmt(T.moved_n, { n: result.count, code: result.tubes.join(", ") }), "ok");
  else report(result);
  render();
});

$("#undo").addEventListener("click", async () => {
  const result = await field.undoLast();
  if (result.ok) view.message(`${T.undone} ${scanLabel(result.action, T)}`, "info");
  else report(result);
  render();
});

$("#seal").addEventListener("click", async () => {
  const tube = field.currentTube();
  if (!tube || !window.confirm(fmt(T.confirm_seal, { code: tube.code, n: field.count(tube.code) }))) return;
  const result = await field.seal(tube);
  signal("sealed");
  view.message(fmt(T.tube_sealed, { code: tube.code, n: result.count }), "ok");
  render();
});

// --- a person without a code -------------------------------------------------------------
let correcting = null; // the refused action the form corrects, if any
function openPersonForm(resident = null, action = null) {
  correcting = action;
  const form = $("#person");
  form.reset();
  for (const [key, value] of Object.entries(resident || {})) if (form.elements[key] && value) form.elements[key].value = value;
  $("#person-error").hidden = true;
  form.hidden = false;
  form.elements.name.focus();
}
$("#no-code").addEventListener("click", () => openPersonForm());
$("#person-cancel").addEventListener("click", () => { $("#person").hidden = true; correcting = null; });
$("#person").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target).entries());
  const resident = { name: data.name.trim(), id_type: data.id_type, id_number: data.id_number.trim(),
    phone: data.phone.trim() || null, address: data.address.trim() || null, region_code: null };
  const result = await field.addPerson(resident);
  if (!result.ok) {
    $("#person-error").textContent = fmt(T[result.error] || result.error, result.params);
    $("#person-error").hidden = false;
    signal("error");
    return;
  }
  if (correcting) await field.dismiss(correcting);
  correcting = null;
  event.target.hidden = true;
  report(result);
});

// --- problems the server reported ------------------------------------------------------------
function fixes(action) {
  const list = [];
  const tell = (result, okText) => {
    if (result.ok) view.message(okText, "ok");
    else report(result);
    render();
  };
  const fix = field.fixFor(action);
  if (fix === "edit") {
    list.push(["edit", () => openPersonForm(action.body.resident, action)]);
  } else if (fix === "resample") {
    list.push(["resample", async () => tell(await field.moveToCurrent(action, { resample: true }), T.added)]);
  } else if (fix === "move") {
    list.push(["move", async () => {
      const result = await field.moveToCurrent(action);
      tell(result, fmt(T.moved, { code: result.moved }));
    }]);
  }
  list.push(["dismiss", async () => {
    if (window.confirm(T.confirm_dismiss)) tell(await field.dismiss(action), T.dismissed);
  }]);
  return list;
}

field.onChange((event) => {
  if (event.type === "answer" && event.action.client_id === lastAnswerId) {
    const action = event.action;
    if (action.state === "done" && action.shown) view.message(`${T.added}: ${scanLabel(action, T)}`, "ok");
  }
  if (event.type === "answer" && event.action.state === "failed") {
    signal("error");
    const error = event.action.result?.body?.error;
    view.message(error?.message || T.state_failed, "error");
  }
  if (event.type === "sealed" && event.tube.sealed_by_server) view.message(fmt(T.tube_full, { code: event.tube.code }), "ok");
  render();
});

// --- drawing -------------------------------------------------------------------------------
let drawing = false;
function render() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => {
    drawing = false;
    const pending = [...field.actions.values()].filter((a) => a.state === "queued").length;
    view.status({ online: navigator.onLine && outbox.lastProblem !== "network", pending, problem: outbox.lastProblem });
    view.tube(field, field.currentTube());
    view.problems(field, fixes);
    $("#move-all").hidden = field.problems().filter((a) => field.fixFor(a) === "move").length < 2;
    view.recent(field);
  });
}

function pendingCount() {
  return [...field.actions.values()].filter((a) => a.state === "queued").length;
}

guardUnsent(pendingCount, T);

// --- start ---------------------------------------------------------------------------------
$("#setup-summary").dataset.label = $("#setup-summary").textContent;
$("#round").addEventListener("change", () => applySetup());
$("#site").addEventListener("change", () => applySetup());
for (const input of document.querySelectorAll('input[name="capacity"]')) {
  input.addEventListener("change", () => localStorage.setItem(prefsKey(`capacity.${currentRound()?.id}`), input.value));
}
$("#camera-toggle").addEventListener("click", () => toggleCamera());
document.addEventListener("pointerdown", unlockAudio, { capture: true });
document.addEventListener("keydown", unlockAudio, { capture: true });
window.addEventListener("online", () => { outbox.flush(); render(); });
window.addEventListener("offline", () => render());
/** Register the worker; once it controls the page, fetch the page through it so the copy kept
 * for offline reloads is this one (this language, this login), not the one the worker fetched;
 * on the first visit the rounds and sites too (this load read them before the worker was there). */
async function keepOffline() {
  if (!("serviceWorker" in navigator)) return false;
  const controlled = Boolean(navigator.serviceWorker.controller);
  await navigator.serviceWorker.register(config.worker, { scope: config.scope });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  const reads = controlled ? [] : SETUP_READS.map((path) => fetch(`${config.api}${path}`, {
    credentials: "same-origin", headers: { Accept: "application/json" } }));
  const [response] = await Promise.all([fetch(config.page, { credentials: "same-origin", cache: "no-cache" }), ...reads]);
  return response.ok;
}
const shellCached = keepOffline().catch((err) => { console.warn(err); return false; });
await loadSetup();
outbox.flush();
if (localStorage.getItem(prefsKey("camera")) === "on") toggleCamera(true);
/** Resolves once every code read so far is handled and the page drawn (for tests and tools). */
const settled = () => busy.then(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
window.scanApp = { field, outbox, store, camera, handle, settled, shellCached, ready: true };
document.body.dataset.scanReady = "1";
