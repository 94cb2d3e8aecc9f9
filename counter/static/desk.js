// The clerk's desk: the counter's current ticket, its actions and the waiting counts.
//
// State comes from the center's snapshot and live events (LiveCenter); every action is
// a JSON API call with the session's bearer token, and its answer updates the desk at
// once (the event that follows agrees with it). Buttons follow the ticket state machine
// handed over by the server (server/domain/tickets.py), so the page never offers an
// action the API would refuse. No text lives here: it comes translated in #strings.
import { LiveCenter, api, strings, digits } from "/static/js/live.js";

const root = document.getElementById("desk");
const data = JSON.parse(document.getElementById("desk-data").textContent);
const text = strings();
const token = root.dataset.token;
const counterId = data.counter_id;
const FINAL = new Set(["done", "no_show", "cancelled"]);
// Shortcut keys by physical key, so they work with an Arabic keyboard layout too.
const KEYS = { KeyN: "next", KeyR: "recall", KeyS: "start", KeyD: "done", KeyX: "no-show", KeyT: "transfer" };
const TICKET_PATHS = { recall: "recall", start: "start", done: "done", "no-show": "no-show" };

const desk = { counter: null, current: null, waiting: {}, busy: false, loaded: false };

const $ = (id) => document.getElementById(id);
const fill = (template, values) =>
  template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? values[key] : ""));

const timeFormat = new Intl.DateTimeFormat(data.lang === "ar" ? "ar-SY-u-nu-latn" : "en-GB", {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: data.timezone,
});
const clock = (iso) => (iso ? digits(timeFormat.format(new Date(iso))) : "");
const serviceName = (code) => data.services[code] || code;

// A ticket as the desk keeps it, from a snapshot's now_serving item or a ticket view.
function fromSnapshot(item) {
  return {
    id: item.ticket_id, label: item.label, state: item.state, service: item.service,
    called_at: item.called_at, recall_count: item.recall_count || 0,
  };
}

function fromView(ticket) {
  return {
    id: ticket.id, label: ticket.label, state: ticket.state, service: ticket.service,
    called_at: ticket.called_at, recall_count: ticket.recall_count || 0,
  };
}

// --- drawing -------------------------------------------------------------------------

function allowed(button) {
  const open = desk.counter === "open";
  const free = !desk.current;
  switch (button.dataset.action) {
    case "next":
    case "call": return open && free;
    case "open": return desk.counter !== null && desk.counter !== "open";
    case "pause": return desk.counter !== null && desk.counter !== "paused" && free;
    case "close": return desk.counter !== null && desk.counter !== "closed" && free;
    default:
      return !free && (data.transitions[desk.current.state] || []).includes(button.dataset.rule);
  }
}

function render() {
  const badge = $("counter-state");
  if (desk.counter) {
    badge.dataset.state = desk.counter;
    badge.textContent = text[`counter_${desk.counter}`] || desk.counter;
  }
  const cur = desk.current;
  root.dataset.ticketState = cur ? cur.state : "none";
  $("current-label").textContent = cur ? cur.label : "—";
  $("current-service").textContent = cur ? serviceName(cur.service) : "";
  const state = $("current-state");
  state.hidden = !cur;
  state.dataset.state = cur ? cur.state : "";
  state.textContent = cur ? text[`state_${cur.state}`] || cur.state : "";
  $("current-called").textContent = cur && cur.called_at
    ? fill(text.called_at, { time: clock(cur.called_at) }) : "";
  $("current-recalls").textContent = cur && cur.recall_count
    ? fill(text.recalls, { count: digits(cur.recall_count) }) : "";
  $("current-empty").hidden = Boolean(cur);

  for (const button of document.querySelectorAll("[data-action]")) {
    button.disabled = desk.busy || !desk.loaded || !allowed(button);
  }

  let total = 0;
  for (const row of document.querySelectorAll("#waiting tbody [data-service]")) {
    const count = Math.max(0, desk.waiting[row.dataset.service] || 0);
    total += count;
    row.querySelector(".count").textContent = desk.loaded ? digits(count) : "–";
    row.classList.toggle("none", count === 0);
  }
  $("waiting-total").textContent = desk.loaded ? digits(total) : "–";
}

function say(message, kind = "info") {
  const node = $("message");
  node.textContent = message || "";
  node.dataset.kind = kind;
}

function errorText(err) {
  const code = err.code || "";
  if (code === "offline") return text.offline;
  if (text[`err_${code}`]) return text[`err_${code}`];
  if (code.startsWith("token_")) return text.err_token;
  if (err.status === 409) return text.err_conflict;
  return text.error;
}

// --- live state ------------------------------------------------------------------------

function onSnapshot(snapshot) {
  desk.waiting = { ...snapshot.waiting };
  const counter = snapshot.counters.find((c) => c.id === counterId);
  desk.counter = counter ? counter.state : null;
  const item = snapshot.now_serving.find((n) => n.counter_id === counterId);
  desk.current = item ? fromSnapshot(item) : null;
  desk.loaded = true;
  render();
  queueChanged();
}

function bump(service, by) {
  if (service) desk.waiting[service] = Math.max(0, (desk.waiting[service] || 0) + by);
}

function onEvent(name, payload) {
  const ticket = payload.ticket;
  const mine = ticket && desk.current && ticket.id === desk.current.id;
  switch (name) {
    case "ticket.issued":
      bump(ticket.service, 1);
      break;
    case "ticket.called":
      if (!payload.recall) bump(ticket.service, -1);
      if (ticket.counter_id === counterId) desk.current = fromView(ticket);
      break;
    case "ticket.transferred":
      bump(payload.to_service || ticket.service, 1);
      if (mine) desk.current = null;
      break;
    case "ticket.cancelled":
      // Only a ticket that was never called (or sent back by a transfer) was in a queue.
      if (!ticket.called_at) bump(ticket.service, -1);
      if (mine) desk.current = null;
      break;
    case "ticket.started":
    case "ticket.done":
    case "ticket.no_show":
      if (mine) desk.current = FINAL.has(ticket.state) ? null : fromView(ticket);
      break;
    case "counter.changed":
      if (payload.counter && payload.counter.id === counterId) desk.counter = payload.counter.state;
      break;
    default:
      return;
  }
  render();
  if (name.startsWith("ticket.")) queueChanged();
}

const live = new LiveCenter({ center: data.center, token, onSnapshot, onEvent });
live.resync(); // draw at once, before the socket has joined

// --- actions -----------------------------------------------------------------------------

async function run(work) {
  if (desk.busy) return;
  desk.busy = true;
  say("");
  render();
  try {
    await work();
  } catch (err) {
    say(errorText(err), "error");
    if (err.status === 409 || err.status === 404) live.resync();
  } finally {
    desk.busy = false;
    render();
  }
}

const post = (path, body) => api("POST", `/api/v1${path}`, { token, body });

const actions = {
  next: () => run(async () => {
    const ticket = await post(`/counters/${counterId}/next`);
    if (ticket === null) {
      say(text.nobody_waiting, "info");
      return;
    }
    desk.current = fromView(ticket);
  }),
  open: () => counterState("open"),
  pause: () => counterState("pause"),
  close: () => counterState("close"),
  transfer: () => openTransfer(),
  call: () => openCall(),
};
for (const name of Object.keys(TICKET_PATHS)) {
  actions[name] = () => run(async () => {
    if (!desk.current) return;
    const ticket = await post(`/tickets/${desk.current.id}/${TICKET_PATHS[name]}`);
    desk.current = FINAL.has(ticket.state) ? null : fromView(ticket);
  });
}

function counterState(verb) {
  return run(async () => {
    const counter = await post(`/counters/${counterId}/${verb}`);
    desk.counter = counter.state;
  });
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => actions[button.dataset.action]?.());
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target;
  if (target instanceof Element && (target.closest("input, textarea, select") || target.isContentEditable)) return;
  if (document.querySelector("dialog[open]")) return;
  const action = KEYS[event.code];
  if (!action) return;
  event.preventDefault();
  const button = document.querySelector(`[data-action="${action}"]`);
  if (button && !button.disabled) button.click();
});

// --- dialogs -------------------------------------------------------------------------------

function dialogError(dialog, message) {
  dialog.querySelector("[data-error]").textContent = message || "";
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
}

const transferDialog = $("transfer-dialog");

function openTransfer() {
  if (!desk.current) return;
  const select = $("transfer-service");
  for (const option of select.options) {
    option.disabled = option.value === desk.current.service;
  }
  select.value = "";
  $("transfer-reason").value = "";
  dialogError(transferDialog, "");
  transferDialog.showModal();
  select.focus();
}

$("transfer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const service = $("transfer-service").value;
  const reason = $("transfer-reason").value.trim();
  if (!service) {
    dialogError(transferDialog, text.pick_service);
    return;
  }
  if (!desk.current) return;
  const ticket = desk.current;
  run(async () => {
    try {
      await post(`/tickets/${ticket.id}/transfer`, reason ? { service, reason } : { service });
    } catch (err) {
      dialogError(transferDialog, errorText(err));
      throw err;
    }
    desk.current = null;
    transferDialog.close();
    say(fill(text.transferred, { label: ticket.label, service: serviceName(service) }), "ok");
  });
});

const callDialog = $("call-dialog");
let queueTimer = null;

function openCall() {
  $("call-reason").value = "";
  dialogError(callDialog, "");
  $("call-list").replaceChildren(note(text.loading));
  callDialog.showModal();
  loadQueue();
}

function note(message) {
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = message;
  return p;
}

// While the list is open, redraw it when the queue changes (a little later, once).
function queueChanged() {
  if (!callDialog.open || queueTimer) return;
  queueTimer = setTimeout(() => { queueTimer = null; loadQueue(); }, 300);
}

async function loadQueue() {
  let answer;
  try {
    answer = await api("GET", `/api/v1/counters/${counterId}/queue`, { token });
  } catch (err) {
    dialogError(callDialog, errorText(err));
    return;
  }
  const list = $("call-list");
  const picked = list.querySelector("input:checked")?.value;
  if (!answer.tickets.length) {
    list.replaceChildren(note(text.nobody_waiting));
    return;
  }
  list.replaceChildren(...answer.tickets.map((ticket) => {
    const label = document.createElement("label");
    label.className = "pick";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "ticket";
    input.value = String(ticket.id);
    input.checked = input.value === picked;
    const name = document.createElement("span");
    name.className = "pick-label";
    name.dir = "ltr";
    name.textContent = ticket.label;
    const service = document.createElement("span");
    service.className = "pick-service";
    service.textContent = serviceName(ticket.service);
    const details = document.createElement("span");
    details.className = "pick-details muted";
    const parts = [fill(text.issued_at, { time: clock(ticket.issued_at) })];
    if (ticket.priority !== "normal") parts.push(text[`priority_${ticket.priority}`] || ticket.priority);
    details.textContent = parts.join(" · ");
    label.append(input, name, service, details);
    return label;
  }));
}

$("call-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const picked = $("call-list").querySelector("input:checked");
  const reason = $("call-reason").value.trim();
  if (!picked) {
    dialogError(callDialog, text.pick_ticket);
    return;
  }
  if (!reason) {
    dialogError(callDialog, text.reason_required);
    $("call-reason").focus();
    return;
  }
  run(async () => {
    let ticket;
    try {
      ticket = await post(`/counters/${counterId}/call`, { ticket: Number(picked.value), reason });
    } catch (err) {
      dialogError(callDialog, errorText(err));
      loadQueue();
      throw err;
    }
    desk.current = fromView(ticket);
    callDialog.close();
    say(fill(text.called, { label: ticket.label }), "ok");
  });
});

render();
