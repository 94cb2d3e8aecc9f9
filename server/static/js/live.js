// The live connection every floor page shares (DESIGN.md section 4, server/realtime.py).
//
// Keeps the last event `seq` applied. An event with seq == last + 1 is applied on top;
// an older one is ignored; a gap, a (re)connect or an idle ping that shows a newer seq
// refetches the snapshot and redraws. After more than `bannerAfterMs` without a
// connection the page shows the "not live" banner; it goes when the page is live again.

export const EVENTS = [
  "ticket.issued", "ticket.called", "ticket.started", "ticket.done", "ticket.no_show",
  "ticket.transferred", "ticket.cancelled", "counter.changed", "device.changed",
];

export function strings() {
  const node = document.getElementById("strings");
  return node ? JSON.parse(node.textContent) : {};
}

const EASTERN = "٠١٢٣٤٥٦٧٨٩";

// Digits as the page shows them: Eastern Arabic where the center asks for it.
export function digits(value) {
  const text = String(value);
  const root = document.documentElement;
  if (root.dataset.eastern !== "1" || root.lang !== "ar") return text;
  return text.replace(/[0-9]/g, (d) => EASTERN[Number(d)]);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Call the JSON API; resolves to the body (null for 204), rejects with ApiError.
export async function api(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "offline", strings().offline || String(err));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText);
  }
  return data;
}

// A device token given once in the address (#token=...) is kept in this browser.
export function deviceToken(kind) {
  const key = `taboor.${kind}.token`;
  const match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
  if (match) {
    localStorage.setItem(key, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return localStorage.getItem(key) || "";
}

export class LiveCenter {
  // options: center, token, onSnapshot(snapshot), onEvent(name, payload), onLive(bool),
  // bannerAfterMs (5000), pingEveryMs (30000)
  constructor(options) {
    this.o = { bannerAfterMs: 5000, pingEveryMs: 30000, ...options };
    this.seq = null;
    this.live = false;
    this.bannerTimer = null;
    this.resyncing = null;
    this.reconnectTimer = null;
    this.text = strings();
    this.banner = document.getElementById("live-banner");
    this.socket = window.io({
      auth: this.o.token ? { token: this.o.token } : {},
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 5000,
    });
    this.retryTimer = null;
    this.reconnectDelay = 1000;
    this.socket.on("connect", () => { this.reconnectDelay = 1000; this.join(); });
    this.socket.on("disconnect", () => this.lost());
    this.socket.on("connect_error", () => {
      this.lost();
      // A refused connection (the server answered but would not authenticate, e.g. its
      // database was busy) is not retried by the client library: try again ourselves,
      // backing off up to 30 s. A screen left alone for weeks must come back by itself.
      if (!this.socket.active) this.reconnectLater();
    });
    for (const name of EVENTS) this.socket.on(name, (payload) => this.receive(name, payload));
    this.pinger = setInterval(() => this.ping(), this.o.pingEveryMs);
    // Not connected a few seconds after opening counts as lost too.
    this.lost();
  }

  join() {
    this.socket.timeout(5000).emit("join", { center: this.o.center }, (err, answer) => {
      if (err || !answer || !answer.ok) {
        if (answer && answer.error) console.warn("join refused", answer.error);
        this.lost();
        return;
      }
      this.connected();
      if (this.seq === null || answer.seq !== this.seq) this.resync();
    });
  }

  reconnectLater() {
    if (this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.socket.connected && !this.socket.active) this.socket.connect();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 30000);
  }

  ping() {
    if (!this.socket.connected) {
      if (!this.socket.active) this.reconnectLater();
      return;
    }
    this.socket.timeout(10000).emit("ping", { center: this.o.center }, (err, answer) => {
      if (err) {
        // No answer on an open socket: the connection is stale; start a new one.
        this.socket.disconnect();
        this.socket.connect();
        return;
      }
      if (answer && answer.ok && answer.seq !== this.seq) this.resync();
      else if (answer && !answer.ok) this.join();
    });
  }

  receive(name, payload) {
    if (!payload || payload.center !== this.o.center || typeof payload.seq !== "number") return;
    if (this.resyncing || this.seq === null) return; // the snapshot on its way covers it
    if (payload.seq <= this.seq) return;
    if (payload.seq !== this.seq + 1) {
      this.resync();
      return;
    }
    this.seq = payload.seq;
    this.o.onEvent?.(name, payload);
  }

  resync() {
    if (this.resyncing) return this.resyncing;
    // One retry chain at most: a resync asked for while a retry waits joins it.
    if (this.retryTimer) return Promise.resolve();
    const code = encodeURIComponent(this.o.center);
    this.resyncing = api("GET", `/api/v1/centers/${code}/snapshot`)
      .then((snapshot) => {
        this.seq = snapshot.seq;
        this.o.onSnapshot?.(snapshot);
      })
      .catch((err) => {
        console.warn("snapshot failed", err);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.resync();
        }, 2000);
      })
      .finally(() => { this.resyncing = null; });
    return this.resyncing;
  }

  connected() {
    clearTimeout(this.bannerTimer);
    this.bannerTimer = null;
    const wasShown = this.banner && !this.banner.hidden;
    this.live = true;
    document.documentElement.dataset.live = "1";
    if (this.banner && wasShown) {
      this.banner.textContent = this.text.live_again || "";
      this.banner.classList.add("ok");
      setTimeout(() => { if (this.live) this.banner.hidden = true; }, 1500);
    }
    this.o.onLive?.(true);
  }

  lost() {
    this.live = false;
    document.documentElement.dataset.live = "0";
    if (this.bannerTimer) return;
    this.bannerTimer = setTimeout(() => {
      this.bannerTimer = null;
      if (this.live || !this.banner) return;
      this.banner.textContent = this.text.not_live || "";
      this.banner.classList.remove("ok");
      this.banner.hidden = false;
      this.o.onLive?.(false);
    }, this.o.bannerAfterMs);
  }
}
