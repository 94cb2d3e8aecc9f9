// The citizen's status page (/t/<public_id>): keeps itself current without a reload.
//
// It polls GET /api/v1/tickets/<public_id>/progress (the ticket, its service and how
// the line moved, in one answer) every POLL_MS, at once when the phone shows the page
// again or comes back online, and stops once the ticket reached a final state. A
// center with a public display also lets anonymous sockets join its room: there the
// socket's events about this ticket's service trigger a poll at once (a hint only;
// the poll stays the source of truth). Texts come from the template (#strings).
import { LiveCenter, api, strings, digits } from "/static/js/live.js";

const POLL_MS = 10000;
const RETRY_MS = 5000;
const HINT_DELAY_MS = 300;
const root = document.getElementById("status");
const text = strings();
const lang = document.documentElement.lang;
const plural = new Intl.PluralRules(lang);
const clock = new Intl.DateTimeFormat("en-GB", {
  timeZone: root.dataset.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const clockWithSeconds = new Intl.DateTimeFormat("en-GB", {
  timeZone: root.dataset.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit",
  hourCycle: "h23",
});
const banner = document.getElementById("live-banner");
const baseTitle = document.title;
const $ = (id) => document.getElementById(id);

let view = JSON.parse($("progress-data").textContent);
let timer = null;
let polling = null;
let failed = false;
let alerts = { on: false, audio: null };

function fill(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (all, key) => (key in values ? values[key] : all));
}

function stateOf(v) {
  return v.expired ? "expired" : v.ticket.state;
}

// Whole minutes rounded as the printed ticket rounds them (half to even, like Python).
function wholeMinutes(seconds) {
  const exact = seconds / 60;
  const floor = Math.floor(exact);
  const rest = exact - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function minutesText(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const n = wholeMinutes(seconds);
  if (n === 0) return text.under_minute;
  return fill(text[`minutes.${plural.select(n)}`] || text["minutes.other"], { num: digits(n) });
}

function show(node, visible) {
  node.hidden = !visible;
}

function renderLine(v) {
  $("since-label").textContent = text[`since.${v.joined_by}`];
  $("served-since").textContent = digits(v.served_since);
  $("jumped-count").textContent = digits(v.out_of_order.length);
  show($("jumped-none"), v.out_of_order.length === 0);
  const list = $("jumped-list");
  list.replaceChildren(...v.out_of_order.map((item) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.className = "jump-label";
    label.dir = "ltr";
    label.textContent = item.label;
    const time = document.createElement("span");
    time.className = "jump-time";
    time.textContent = item.at ? digits(clock.format(new Date(item.at))) : "";
    const reason = document.createElement("p");
    reason.className = "jump-reason";
    reason.textContent = text[`reason.${item.reason}`] || "";
    li.append(label, time, reason);
    if (item.note) {
      const note = document.createElement("p");
      note.className = "jump-note";
      const quote = document.createElement("q");
      quote.dir = "auto"; // a clerk may write in either language
      quote.textContent = item.note;
      note.append(quote);
      li.append(note);
    }
    return li;
  }));
}

function render(v) {
  const t = v.ticket;
  const state = stateOf(v);
  document.body.className = document.body.className.replace(/\bstate-\S+/, `state-${state}`);
  root.dataset.state = state;
  $("label").textContent = t.label;
  $("service").textContent = lang === "ar" ? v.service.name_ar : v.service.name_en;
  $("state").textContent = text[`state.${state}`] || state;

  const atCounter = state === "called" || state === "serving";
  show($("called"), atCounter);
  if (atCounter) {
    $("called-text").textContent = state === "called" ? text.go_to : text.served_at;
    $("counter").textContent = t.counter === null ? "" : digits(t.counter);
  }
  show($("recalled"), state === "called" && t.recall_count > 0);

  show($("waiting"), state === "waiting");
  if (state === "waiting") {
    const ahead = $("ahead");
    ahead.textContent = t.ahead === 0 ? text.next : digits(t.ahead ?? "");
    ahead.classList.toggle("is-text", t.ahead === 0);
    $("wait").textContent = minutesText(t.estimated_wait_s);
  }

  const finalText = text[`final.${state}`];
  show($("final"), Boolean(finalText));
  $("final-text").textContent = finalText || "";
  show($("line"), state !== "expired");
  renderLine(v);
  show($("alerts"), !v.final && state !== "expired");

  document.title = state === "called"
    ? fill(text["title.called"], { label: t.label, counter: digits(t.counter) })
    : baseTitle;
  $("updated").textContent = fill(text.updated, { time: digits(clockWithSeconds.format(new Date())) });
}

// --- being told -----------------------------------------------------------------

function chime() {
  const audio = alerts.audio;
  if (!audio) return;
  const start = audio.currentTime + 0.05;
  [660, 880, 1100].forEach((frequency, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = frequency;
    const at = start + i * 0.35;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.4, at + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.32);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.34);
  });
}

function vibrate(pattern) {
  try {
    navigator.vibrate?.(pattern);
  } catch {
    // not allowed without a tap, or not a phone: the screen says it anyway
  }
}

function announce() {
  vibrate([400, 150, 400, 150, 800]);
  if (alerts.on) chime();
}

function setAlerts(on) {
  alerts.on = on;
  const button = $("alert-toggle");
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.textContent = on ? text["alert.on"] : text["alert.off"];
  if (on) {
    // Created and resumed inside the tap, so the browser lets it sound later.
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !alerts.audio) alerts.audio = new Context();
    alerts.audio?.resume?.();
    vibrate(150);
    chime();
  }
}

// --- keeping current ------------------------------------------------------------

function apply(next) {
  const before = view;
  view = next;
  render(next);
  const wasCalled = before.ticket.state === "called";
  const isCalled = next.ticket.state === "called";
  const recalled = wasCalled && isCalled && next.ticket.recall_count > before.ticket.recall_count;
  if ((isCalled && !wasCalled) || recalled) announce();
}

function setLive(ok) {
  if (!banner) return;
  if (!ok) {
    failed = true;
    banner.textContent = text.not_live || "";
    banner.classList.remove("ok");
    banner.hidden = false;
    document.documentElement.dataset.live = "0";
    return;
  }
  document.documentElement.dataset.live = "1";
  if (!failed) return;
  failed = false;
  banner.textContent = text.live_again || "";
  banner.classList.add("ok");
  setTimeout(() => { if (!failed) banner.hidden = true; }, 1500);
}

function schedule(ms) {
  clearTimeout(timer);
  // A final state, or a ticket left from an earlier day, never changes again.
  timer = view.final || view.expired ? null : setTimeout(poll, ms);
}

function poll() {
  if (view.final || view.expired) return Promise.resolve();
  if (polling) return polling;
  const path = `/api/v1/tickets/${encodeURIComponent(root.dataset.publicId)}/progress`;
  polling = api("GET", path)
    .then((next) => {
      setLive(true);
      apply(next);
      schedule(POLL_MS);
    })
    .catch((err) => {
      console.warn("status update failed", err);
      setLive(false);
      schedule(RETRY_MS);
    })
    .finally(() => { polling = null; });
  return polling;
}

let hint = null;
function pollSoon() {
  clearTimeout(hint);
  hint = setTimeout(poll, HINT_DELAY_MS);
}

// A socket that only hints: the page's liveness is the poll's, so no banner from here.
class Hints extends LiveCenter {
  connected() { this.live = true; }
  lost() { this.live = false; }
}

function concernsMe(name, payload) {
  if (name === "counter.changed") return true; // open counters change the estimate
  const ticket = payload.ticket || {};
  const service = view.service.code;
  return ticket.id === view.ticket.id || ticket.service === service
    || payload.from_service === service;
}

$("alert-toggle").addEventListener("click", () => setAlerts(!alerts.on));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") poll();
});
window.addEventListener("pageshow", (event) => { if (event.persisted) poll(); });
window.addEventListener("online", () => poll());

render(view);
schedule(POLL_MS);
if (root.dataset.publicDisplay === "1" && window.io && !view.final) {
  new Hints({
    center: root.dataset.center,
    onSnapshot: () => pollSoon(),
    onEvent: (name, payload) => { if (concernsMe(name, payload)) pollSoon(); },
  });
}
