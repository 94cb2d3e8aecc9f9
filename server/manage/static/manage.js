// The manager dashboard's live part: the server renders it (server/manage/_live.html);
// this script refetches it when the center's events say something changed, keeps the
// "longest wait" clocks ticking between fetches, and refetches when a service is about
// to pass its target (the rule itself stays on the server, server/manage/board.py).
import { LiveCenter, strings, digits } from "/static/js/live.js";

const root = document.getElementById("live");
const text = strings();
const MIN_GAP_MS = 1000; // at most one refetch a second, however busy the center
const EVERY_MS = 30000; // and at least one every half minute

let skew = 0; // server clock minus browser clock, from the fragment's data-now
let pending = null;
let lastFetch = 0;
let breachTimer = null;

function clockText(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return digits(h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`);
}

function tick() {
  const now = Date.now() + skew;
  for (const node of root.querySelectorAll("[data-since]")) {
    node.textContent = clockText((now - Date.parse(node.dataset.since)) / 1000);
  }
}

function adopt() {
  const board = root.querySelector(".live-board");
  if (!board) return;
  skew = Date.parse(board.dataset.now) - Date.now();
  clearTimeout(breachTimer);
  if (board.dataset.breachAt) {
    const wait = Date.parse(board.dataset.breachAt) - (Date.now() + skew) + 500;
    breachTimer = setTimeout(() => refresh(), Math.max(wait, 0));
  }
  tick();
}

async function refresh() {
  pending = null;
  lastFetch = Date.now();
  let response;
  try {
    response = await fetch(root.dataset.url, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" },
    });
  } catch (err) {
    console.warn("live refresh failed", err);
    return;
  }
  if (response.status === 401 || response.status === 403) {
    window.location.reload(); // signed out or lost the right: the page shows why
    return;
  }
  if (!response.ok) {
    root.dataset.error = text.live_error || "";
    return;
  }
  delete root.dataset.error;
  root.innerHTML = await response.text();
  adopt();
}

function schedule() {
  if (pending) return;
  const wait = Math.max(0, lastFetch + MIN_GAP_MS - Date.now());
  pending = setTimeout(refresh, wait);
}

adopt();
setInterval(tick, 1000);
setInterval(schedule, EVERY_MS);
new LiveCenter({
  center: root.dataset.center,
  token: root.dataset.token,
  onSnapshot: schedule,
  onEvent: schedule,
});
