// The hall display: last calls (label -> counter), waiting counts, clock, announcements.
//
// Runs for weeks on a TV nobody touches. LiveCenter keeps the connection (pings, resyncs
// on gaps and reconnects, shows "not live"); this page redraws from the snapshot plus
// its own list of last calls, applies events on top, plays one announcement at a time,
// and reloads itself once a day at a quiet moment so nothing can pile up in memory.
import { LiveCenter, api, strings, digits, deviceToken } from "/static/js/live.js";

const settings = JSON.parse(document.getElementById("display-settings").textContent);
const text = strings();
const code = settings.center;
const root = document.documentElement;
const $ = (id) => document.getElementById(id);

const calls = new Map(); // ticket_id -> {ticket_id, label, counter, state, call_seq}
let waiting = {}; // service code -> tickets waiting
let knownCallSeq = 0; // the newest call this page has shown
let firstLoad = true;
let lastCallAt = Date.now();
const loadedAt = Date.now();
let serverOffsetMs = 0; // server clock minus this TV's clock

function format(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

// --- calls ----------------------------------------------------------------------

function ordered() {
  return [...calls.values()].sort((a, b) => b.call_seq - a.call_seq);
}

function keep(call) {
  const old = calls.get(call.ticket_id);
  if (old && old.call_seq >= call.call_seq) {
    if (old.call_seq === call.call_seq) old.state = call.state;
    return false;
  }
  calls.set(call.ticket_id, { ...call });
  return true;
}

function prune() {
  for (const call of ordered().slice(settings.calls_shown)) calls.delete(call.ticket_id);
}

function renderCalls() {
  prune();
  const [newest, ...older] = ordered();
  const now = $("now");
  now.dataset.empty = newest ? "0" : "1";
  $("now-label").textContent = newest ? digits(newest.label) : "";
  $("now-label").parentElement.dataset.long = newest && newest.label.length > 6 ? "1" : "0";
  $("now-counter").textContent = newest ? format(text.counter_n, { number: digits(newest.counter) }) : "";
  now.dataset.ticket = newest ? String(newest.ticket_id) : "";
  const list = $("history");
  list.replaceChildren(...older.map((call) => {
    const row = el("li", "call");
    row.dataset.ticket = String(call.ticket_id);
    const label = el("bdi", "call-label", digits(call.label));
    label.dir = "ltr";
    row.append(label, el("span", "call-arrow"), el("span", "call-counter", digits(call.counter)));
    return row;
  }));
}

function flash() {
  const now = $("now");
  now.classList.remove("flash");
  void now.offsetWidth; // restart the animation for a call right after another
  now.classList.add("flash");
}
$("now").addEventListener("animationend", () => $("now").classList.remove("flash"));

function called(call, { announce }) {
  if (!keep(call)) return;
  knownCallSeq = Math.max(knownCallSeq, call.call_seq);
  lastCallAt = Date.now();
  renderCalls();
  if (announce) {
    flash();
    enqueue(call.label, call.counter);
  }
}

async function loadCalls() {
  const data = await api("GET", `/display/${encodeURIComponent(code)}/calls`);
  serverOffsetMs = Date.parse(data.now) - Date.now();
  const listed = new Set(data.calls.map((c) => c.ticket_id));
  for (const [id, call] of calls) {
    if (!listed.has(id) && call.call_seq <= data.seq) calls.delete(id);
  }
  // Calls made while the connection was down are announced, if they are still recent.
  const before = knownCallSeq;
  const fresh = [];
  for (const call of [...data.calls].reverse()) {
    const ageMs = Date.parse(data.now) - Date.parse(call.called_at);
    if (keep(call) && !firstLoad && call.call_seq > before && ageMs < 60000) fresh.push(call);
    knownCallSeq = Math.max(knownCallSeq, call.call_seq);
  }
  firstLoad = false;
  renderCalls();
  if (fresh.length) {
    lastCallAt = Date.now();
    flash();
    for (const call of fresh) enqueue(call.label, call.counter);
  }
}

// --- waiting ----------------------------------------------------------------------

function bump(service, delta) {
  waiting[service] = Math.max(0, (waiting[service] || 0) + delta);
  renderWaiting();
}

function renderWaiting() {
  const rows = Object.entries(waiting)
    .filter(([, count]) => count > 0)
    .map(([service, count]) => ({ name: settings.services[service] || service, count }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const shown = rows.slice(0, settings.waiting_rows || 8);
  const rest = rows.slice(shown.length).reduce((sum, row) => sum + row.count, 0);
  $("waiting-list").replaceChildren(...shown.map((row) => {
    const item = el("li", "waiting-row");
    item.append(el("span", "waiting-name", row.name), el("strong", "waiting-count", digits(row.count)));
    return item;
  }));
  $("waiting-more").hidden = rest === 0;
  $("waiting-more").textContent = rest ? format(text.more_services, { count: digits(rest) }) : "";
  $("waiting-none").hidden = rows.length > 0;
  $("waiting-total").textContent = digits(rows.reduce((sum, row) => sum + row.count, 0));
}

// --- live -------------------------------------------------------------------------

function onSnapshot(snapshot) {
  waiting = { ...snapshot.waiting };
  renderWaiting();
  loadCalls().catch((err) => {
    console.warn("calls failed", err);
    setTimeout(() => live.resync(), 3000);
  });
}

function onEvent(name, payload) {
  const ticket = payload.ticket;
  if (!ticket) return;
  switch (name) {
    case "ticket.issued":
      bump(ticket.service, +1);
      break;
    case "ticket.called":
      if (!payload.recall) bump(ticket.service, -1);
      called({
        ticket_id: ticket.id, label: ticket.label, counter: ticket.counter,
        state: ticket.state, call_seq: payload.seq,
      }, { announce: true });
      break;
    case "ticket.transferred": // back in line in another service: no longer at that counter
      calls.delete(ticket.id);
      bump(ticket.service, +1);
      renderCalls();
      break;
    case "ticket.cancelled":
      if (!ticket.called_at) bump(ticket.service, -1);
      calls.delete(ticket.id);
      renderCalls();
      break;
    default:
      if (calls.has(ticket.id)) calls.get(ticket.id).state = ticket.state;
  }
}

// --- announcements: one at a time, never overlapping ---------------------------------

const queue = [];
let playing = false;
let soundBlocked = false;
let autoplayWithoutTap = null; // learnt at start: may this page reload without losing sound?

function enqueue(label, counter) {
  if (queue.some((item) => item.label === label && item.counter === counter)) return;
  queue.push({ label, counter, at: Date.now() });
  pump();
}

function pump() {
  if (playing || soundBlocked) return;
  while (queue.length && Date.now() - queue[0].at > 120000) queue.shift(); // too late to say
  const next = queue.shift();
  if (!next) return;
  playing = true;
  const url = `/display/${encodeURIComponent(code)}/announce.wav?label=${encodeURIComponent(next.label)}`
    + `&counter=${encodeURIComponent(next.counter)}`;
  const audio = new Audio(url);
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    clearTimeout(guard);
    audio.removeAttribute("src");
    audio.load(); // let go of the media buffers
    playing = false;
    setTimeout(pump, 500);
  };
  const guard = setTimeout(finish, 30000); // a clip that never ends must not stop the queue
  audio.addEventListener("ended", finish);
  audio.addEventListener("error", finish);
  audio.play().catch((err) => {
    if (err && err.name === "NotAllowedError") {
      over = true;
      clearTimeout(guard);
      playing = false;
      queue.unshift(next);
      blockSound();
    } else {
      finish();
    }
  });
}

function blockSound() {
  soundBlocked = true;
  root.dataset.sound = "blocked";
  $("sound-overlay").hidden = false;
}

function unblockSound() {
  soundBlocked = false;
  root.dataset.sound = "on";
  $("sound-overlay").hidden = true;
  pump();
}

for (const kind of ["click", "keydown", "touchend"]) {
  document.addEventListener(kind, () => { if (soundBlocked) unblockSound(); });
}

// A moment of silence tells whether the browser lets this page play sound untouched.
function silentWav() {
  const count = 800;
  const buffer = new ArrayBuffer(44 + count * 2);
  const view = new DataView(buffer);
  const put = (offset, word) => [...word].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  put(0, "RIFF"); view.setUint32(4, 36 + count * 2, true); put(8, "WAVE");
  put(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
  view.setUint16(22, 1, true); view.setUint32(24, 8000, true); view.setUint32(28, 16000, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  put(36, "data"); view.setUint32(40, count * 2, true);
  return URL.createObjectURL(new Blob([buffer], { type: "audio/wav" }));
}

async function checkAutoplay() {
  const url = silentWav();
  const probe = new Audio(url);
  try {
    await probe.play();
    autoplayWithoutTap = true;
    root.dataset.sound = "on";
  } catch (err) {
    autoplayWithoutTap = false;
    if (err && err.name === "NotAllowedError") blockSound();
  } finally {
    probe.pause();
    URL.revokeObjectURL(url);
  }
}

// --- clock ------------------------------------------------------------------------

function formatter(options) {
  const locale = root.lang === "ar" ? "ar-SY-u-nu-latn" : "en-GB";
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: settings.timezone });
  } catch {
    return new Intl.DateTimeFormat(locale, options);
  }
}
const timeFormat = formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dateFormat = formatter({ weekday: "long", day: "numeric", month: "long" });

function tick() {
  const now = new Date(Date.now() + serverOffsetMs);
  const time = digits(timeFormat.format(now));
  const date = digits(dateFormat.format(now));
  if ($("clock-time").textContent !== time) $("clock-time").textContent = time;
  if ($("clock-date").textContent !== date) $("clock-date").textContent = date;
  setTimeout(tick, 1000 - (Date.now() % 1000) + 20);
}

// --- staying alive for weeks ----------------------------------------------------------

// Once a day, when nothing was called for a while and nothing is being said, start
// afresh, but only if the server answers (a reload into an error page would stay there)
// and only if sound plays untouched (a reload would otherwise silence it until a tap).
async function maybeReload() {
  const now = Date.now();
  if (now - loadedAt < settings.reload_after_s * 1000) return;
  if (now - lastCallAt < settings.quiet_s * 1000 || playing || queue.length) return;
  if (autoplayWithoutTap !== true) return;
  try {
    const response = await fetch(window.location.pathname + window.location.search, {
      cache: "no-store", headers: { Accept: "text/html" },
    });
    if (response.ok) window.location.reload();
  } catch {
    // The server is away; LiveCenter reconnects and the next check tries again.
  }
}

// --- start ---------------------------------------------------------------------------

const token = deviceToken("display");
if (!token && !settings.public) $("setup").hidden = false;
const live = new LiveCenter({ center: code, token, onSnapshot, onEvent });
setInterval(() => live.resync(), settings.resync_s * 1000);
setInterval(maybeReload, Math.max(1000, Math.min(60000, settings.quiet_s * 500)));
renderCalls();
renderWaiting();
tick();
checkAutoplay();
