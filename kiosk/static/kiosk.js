// The kiosk: categories -> services -> (online hint) -> documents and priority -> ticket.
//
// A citizen may never have used a touch screen: one decision per screen, big targets,
// and forgiving taps. A tap that lands while a screen is still appearing is ignored (no
// double tap can reach the next screen's button), issuing is guarded while its request
// runs, and the ticket screen ignores touches for a moment so the tap that issued it
// does not also dismiss it. Every string comes from the page (`strings()`).
import { LiveCenter, api, strings, digits, deviceToken } from "/static/js/live.js";

const T = strings();
const data = JSON.parse(document.getElementById("kiosk-data").textContent);
const root = document.getElementById("kiosk");
const lang = data.lang;
const center = encodeURIComponent(data.center);
const RESUME_KEY = "taboor.kiosk.resume";
const SETTLE_MS = 350; // a new screen takes no taps this soon
const TICKET_GUARD_MS = 1500; // the issuing tap never dismisses the ticket
const RESUME_WITHIN_MS = 20000;

const byCode = new Map();
let state = fresh();
let shownAt = 0;
let issuing = false;
let idleTimer = null;
let token = "";

function fresh() {
  return { screen: "categories", category: null, service: null, priority: "normal", ticket: null };
}

function $(selector, scope = root) {
  return scope.querySelector(selector);
}

function pick(item, field) {
  return item[`${field}_${lang}`] ?? item[`${field}_ar`];
}

function index(services) {
  byCode.clear();
  for (const service of services) byCode.set(service.code, service);
}

// --- wording of counts and waits ------------------------------------------------------

// The plural form of the Arabic catalog for n (English reads the same string for all but one).
function pluralForm(n) {
  const r = n % 100;
  if (n === 1) return "one";
  if (n === 2) return "two";
  if (r >= 3 && r <= 10) return "few";
  if (r >= 11) return "many";
  return "other";
}

// Minutes as a person would say them: exact when short, then by 5, 15 and 30 minutes.
export function roundMinutes(seconds) {
  const m = seconds / 60;
  if (m < 1.5) return 1;
  if (m < 10) return Math.round(m);
  if (m < 60) return Math.round(m / 5) * 5;
  if (m < 180) return Math.round(m / 15) * 15;
  return Math.round(m / 30) * 30;
}

function waitText(seconds, ahead) {
  if (!ahead || !(seconds > 0)) return T.no_wait;
  const n = roundMinutes(seconds);
  return (T[`minutes_${pluralForm(n)}`] || "").replaceAll("{n}", digits(n));
}

function waitingText(n) {
  return n > 0 ? T.waiting.replaceAll("{n}", digits(n)) : T.nobody_waiting;
}

function drawCounts() {
  const perCategory = new Map();
  for (const tile of root.querySelectorAll(".tile-service")) {
    const service = byCode.get(tile.dataset.service);
    tile.hidden = !service; // withdrawn since the page was drawn
    if (!service) continue;
    const waiting = service.waiting || 0;
    tile.dataset.waiting = String(waiting);
    $("[data-role=waiting]", tile).textContent = waitingText(waiting);
    $("[data-role=wait]", tile).textContent =
      waiting > 0 ? waitText(service.estimated_wait_s, waiting) : "";
    perCategory.set(service.category, (perCategory.get(service.category) || 0) + waiting);
  }
  for (const tile of root.querySelectorAll(".tile-category")) {
    const waiting = perCategory.get(tile.dataset.category) || 0;
    tile.dataset.waiting = String(waiting);
    $("[data-role=waiting]", tile).textContent = waitingText(waiting);
  }
}

// --- screens ------------------------------------------------------------------------

function show(name) {
  for (const section of root.querySelectorAll(".screen")) {
    const on = section.id === `screen-${name}`;
    section.hidden = !on;
    if (on) {
      section.classList.add("settling");
      setTimeout(() => section.classList.remove("settling"), SETTLE_MS);
    }
  }
  state.screen = name;
  root.dataset.screen = name;
  shownAt = performance.now();
  root.scrollTop = 0;
  window.scrollTo(0, 0);
  armIdle();
}

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = null;
  if (state.screen === "categories" || state.screen === "unregistered") return;
  const seconds = state.screen === "ticket" ? data.ticket_screen_s : data.idle_reset_s;
  idleTimer = setTimeout(reset, seconds * 1000);
}

function reset() {
  clearTimeout(idleTimer);
  sessionStorage.removeItem(RESUME_KEY);
  state = fresh();
  hideError();
  choosePriority("normal");
  if (lang !== data.default_lang) {
    // The next citizen finds the kiosk in its own language.
    window.location.replace(`${window.location.pathname}?lang=${data.default_lang}`);
    return;
  }
  show("categories");
}

function openCategory(code) {
  const group = root.querySelector(`[data-category-services="${CSS.escape(code)}"]`);
  if (!group) return;
  state.category = code;
  for (const other of root.querySelectorAll("[data-category-services]")) other.hidden = other !== group;
  const first = byCode.get(group.querySelector(".tile-service")?.dataset.service);
  $("#screen-services [data-role=category-name]").textContent = first ? pick(first, "category") : "";
  show("services");
}

function openService(code) {
  const service = byCode.get(code);
  if (!service) return;
  state.service = code;
  for (const title of root.querySelectorAll("[data-role=service-name]")) {
    title.textContent = pick(service, "name");
  }
  if (service.online && data.eservice_url) show("online");
  else openConfirm();
}

function openConfirm() {
  const service = byCode.get(state.service);
  if (!service) return;
  const list = $("#documents");
  list.replaceChildren();
  for (const doc of pick(service, "documents") || []) {
    const item = document.createElement("li");
    item.textContent = doc;
    list.append(item);
  }
  list.hidden = !list.children.length;
  $("#no-documents").hidden = Boolean(list.children.length);
  choosePriority("normal");
  hideError();
  show("confirm");
}

function choosePriority(priority) {
  state.priority = priority;
  for (const choice of root.querySelectorAll("[data-priority]")) {
    choice.setAttribute("aria-pressed", String(choice.dataset.priority === priority));
  }
}

// --- issuing --------------------------------------------------------------------------

async function issue() {
  if (issuing || !state.service || state.screen !== "confirm") return;
  issuing = true;
  const button = $("#issue");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  hideError();
  const body = { service: state.service, lang };
  if (state.priority !== "normal") body.priority = state.priority;
  try {
    const ticket = await api("POST", `/api/v1/centers/${center}/tickets`, { token, body });
    showTicket(ticket, state.priority);
  } catch (err) {
    failed(err);
  } finally {
    issuing = false;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function failed(err) {
  const status = err.status ?? 0;
  if (status === 401) {
    // The stored token was revoked or mistyped: the kiosk must be registered again.
    show("unregistered");
    return;
  }
  let key = "err_other";
  if (status === 0) key = "err_offline";
  else if (status === 403) key = "err_center";
  else if (err.code === "service_not_found") key = "err_service";
  else if (err.code === "priority_not_offered" || /priority/.test(err.message || "")) key = "err_priority";
  showError(T[key] || T.error);
  if (key === "err_service") refresh();
}

function showError(text) {
  const box = $("#issue-error");
  box.textContent = text;
  box.hidden = false;
}

function hideError() {
  const box = $("#issue-error");
  box.hidden = true;
  box.textContent = "";
}

function statusUrl(ticket) {
  const base = (data.public_url || window.location.origin).replace(/\/+$/, "");
  return `${base}/t/${encodeURIComponent(ticket.public_id)}`;
}

function showTicket(ticket, priority) {
  state.ticket = ticket;
  const service = byCode.get(ticket.service);
  $("#ticket-label").textContent = digits(ticket.label);
  $("#ticket-service").textContent = service ? pick(service, "name") : ticket.service;
  const priorityLine = $("#ticket-priority");
  const chosen = root.querySelector(`[data-priority="${CSS.escape(priority || "normal")}"]`);
  priorityLine.hidden = !priority || priority === "normal" || !chosen;
  if (chosen) $("span", priorityLine).textContent = chosen.textContent.trim();
  const ahead = ticket.ahead ?? Math.max((ticket.position || 1) - 1, 0);
  $("#ticket-ahead").textContent = ahead > 0 ? digits(ahead) : T.you_are_next;
  $("#ticket-wait").textContent = waitText(ticket.estimated_wait_s, ahead);
  const url = statusUrl(ticket);
  const qr = $("#ticket-qr");
  qr.dataset.url = url;
  qr.src = `/qr.svg?data=${encodeURIComponent(url)}`;
  $("#ticket-print").hidden = !ticket.print;
  $("#ticket-keep").hidden = Boolean(ticket.print);
  const bar = $("#countdown-bar");
  bar.style.animation = "none";
  void bar.offsetWidth; // restart the countdown animation
  bar.style.animation = "";
  bar.style.animationDuration = `${data.ticket_screen_s}s`;
  show("ticket");
}

// --- live waiting counts ----------------------------------------------------------------

let refreshQueued = false;
let refreshing = false;

function scheduleRefresh() {
  if (refreshQueued) return;
  refreshQueued = true;
  // A burst of events (a busy hall) costs one fetch.
  setTimeout(() => {
    refreshQueued = false;
    refresh();
  }, 300);
}

async function refresh() {
  if (refreshing) {
    scheduleRefresh();
    return;
  }
  refreshing = true;
  try {
    index(await api("GET", `/api/v1/centers/${center}/services`));
    drawCounts();
  } catch (err) {
    console.warn("services refresh failed", err);
  } finally {
    refreshing = false;
  }
}

function applySnapshot(snapshot) {
  const waiting = snapshot.waiting || {};
  for (const service of byCode.values()) service.waiting = waiting[service.code] || 0;
  drawCounts();
  scheduleRefresh(); // the estimates too
}

// --- wiring -----------------------------------------------------------------------------

function onClick(event) {
  const target = event.target.closest("button");
  if (!target || !root.contains(target)) return;
  if (target.closest(".settling")) return;
  if (target.dataset.category && target.classList.contains("tile-category")) openCategory(target.dataset.category);
  else if (target.dataset.service) openService(target.dataset.service);
  else if (target.dataset.priority) choosePriority(target.dataset.priority);
  else if (target.dataset.go === "categories") show("categories");
  else if (target.dataset.go === "services" && state.category) openCategory(state.category);
  else if (target.id === "anyway") openConfirm();
  else if (target.id === "issue") issue();
  else if (target.id === "done") reset();
}

function onTouch(event) {
  if (event.target.closest(".lang-toggle")) return;
  if (state.screen === "ticket") {
    // The next citizen touching the screen starts over (not the tap that issued).
    if (performance.now() - shownAt > TICKET_GUARD_MS && !event.target.closest("#done")) reset();
    return;
  }
  armIdle();
}

function remember() {
  sessionStorage.setItem(RESUME_KEY, JSON.stringify({ ...state, at: Date.now() }));
}

// A language switch reloads the page: carry on where the citizen was.
function resume() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(RESUME_KEY) || "null");
  } catch {
    saved = null;
  }
  sessionStorage.removeItem(RESUME_KEY);
  if (!saved || !(Date.now() - saved.at < RESUME_WITHIN_MS)) return false;
  if (saved.ticket) {
    choosePriority(saved.priority || "normal");
    showTicket(saved.ticket, saved.priority);
    return true;
  }
  if (!saved.category) return false;
  openCategory(saved.category);
  if (saved.service && saved.screen !== "services") {
    openService(saved.service);
    if (saved.screen === "confirm") {
      openConfirm();
      choosePriority(saved.priority || "normal");
    }
  }
  return true;
}

function start() {
  index(data.services);
  drawCounts();
  root.addEventListener("click", onClick);
  document.addEventListener("pointerdown", onTouch, { capture: true });
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  document.querySelector(".lang-toggle")?.addEventListener("click", remember);
  token = deviceToken("kiosk");
  if (!token) {
    show("unregistered");
    return;
  }
  if (!resume()) show("categories");
  new LiveCenter({
    center: data.center,
    token,
    onSnapshot: applySnapshot,
    onEvent: (name) => {
      if (name.startsWith("ticket.") || name === "counter.changed") scheduleRefresh();
    },
  });
}

start();
