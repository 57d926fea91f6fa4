/* qbsync front-end helpers shared by the dashboard and the session page: the JSON API client,
 * formatting for people, and the progress arithmetic. Plain script (no build step); loaded
 * before the Alpine components, which find it at window.qbsync. */
(function () {
  "use strict";

  const STATUS = {
    pending: { label: "Waiting to start", badge: "text-bg-secondary" },
    running: { label: "Syncing", badge: "text-bg-primary" },
    cancelling: { label: "Cancelling…", badge: "text-bg-warning" },
    completed: { label: "Finished", badge: "text-bg-success" },
    // Completed, but some records could not be synced: the errors say which
    completed_with_errors: { label: "Finished with errors", badge: "text-bg-warning" },
    failed: { label: "Failed", badge: "text-bg-danger" },
    cancelled: { label: "Cancelled", badge: "text-bg-dark" },
    skipped: { label: "Skipped", badge: "text-bg-light border" },
    stalled: { label: "No news from the worker", badge: "text-bg-warning" },
  };
  const ACTIVE = ["pending", "running", "cancelling"];
  const DIRECTIONS = {
    both: { label: "Two-way: QuickBooks ⇄ warehouse", short: "Two-way" },
    pull: { label: "One-way: QuickBooks → warehouse", short: "From QuickBooks" },
  };
  const COUNTS = ["created", "updated", "unchanged", "deleted", "failed"];

  /** An API answer that was not a success, described for people. */
  class ApiError extends Error {
    constructor(kind, status, code, message) {
      super(message);
      this.kind = kind; // "network" | "auth" | "http"
      this.status = status;
      this.code = code;
    }
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  async function request(method, url, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      headers["X-CSRFToken"] = csrfToken();
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (networkError) {
      throw new ApiError("network", 0, "network",
        "Can't reach qbsync. Check the network connection; the page keeps trying.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (notJson) {
      data = null;
    }
    if (response.ok && data !== null) return data;
    const error = (data && data.error) || {};
    if (response.status === 401) {
      throw new ApiError("auth", 401, error.code || "unauthorized",
        "Your login has expired. Please log in again.");
    }
    if (error.code === "csrf_failed") {
      throw new ApiError("http", response.status, error.code,
        "This page has been open too long to send changes. Reload the page and try again.");
    }
    const message = error.message ||
      `qbsync answered with an error (HTTP ${response.status}). Please try again in a moment.`;
    throw new ApiError("http", response.status, error.code || "http_error", message);
  }

  const api = {
    get: (url) => request("GET", url),
    post: (url, body) => request("POST", url, body),
    patch: (url, body) => request("PATCH", url, body),
    delete: (url) => request("DELETE", url),
  };

  // --- formatting ---------------------------------------------------------------------------

  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const numberFormat = new Intl.NumberFormat();

  function dateTime(iso) {
    return iso ? dateTimeFormat.format(new Date(iso)) : "—";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
    return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }

  function ago(iso, now) {
    if (!iso) return "never";
    const seconds = ((now || Date.now()) - new Date(iso).getTime()) / 1000;
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    const days = Math.floor(seconds / 86400);
    return days === 1 ? "yesterday" : `${days} days ago`;
  }

  function number(n) {
    return n === null || n === undefined ? "—" : numberFormat.format(n);
  }

  function status(name) {
    return STATUS[name] || { label: name, badge: "text-bg-secondary" };
  }

  function plural(n, one, many) {
    return `${number(n)} ${n === 1 ? one : many}`;
  }

  // --- progress -----------------------------------------------------------------------------

  /** 0..1 for one object run: done objects are whole, others processed / total. */
  function objectFraction(run) {
    if (run.status === "completed" || run.status === "skipped") return 1;
    if (run.total) return Math.min(run.processed / run.total, 1);
    return 0;
  }

  function percent(fraction) {
    return Math.max(0, Math.min(100, Math.floor(fraction * 100)));
  }

  /** Records per second over a sliding window of polls, per session. */
  class RateMeter {
    constructor(windowMs) {
      this.windowMs = windowMs || 20000;
      this.samples = [];
      this.sessionId = null;
    }

    add(sessionId, processed, atMs) {
      if (sessionId !== this.sessionId) {
        this.sessionId = sessionId;
        this.samples = [];
      }
      this.samples.push({ t: atMs, processed });
      while (this.samples.length > 2 && atMs - this.samples[0].t > this.windowMs) this.samples.shift();
    }

    /** Records per second, or null while there is not enough to tell. */
    rate() {
      if (this.samples.length < 2) return null;
      const first = this.samples[0];
      const last = this.samples[this.samples.length - 1];
      const seconds = (last.t - first.t) / 1000;
      if (seconds < 1) return null;
      return Math.max(0, (last.processed - first.processed) / seconds);
    }
  }

  /** Seconds left: from the rate when every total is known, else from the share done so far. */
  function secondsLeft(doc, rate) {
    const runs = doc.objects || [];
    if (!runs.length) return null;
    const allKnown = runs.every((r) => r.total !== null || r.status === "completed" || r.status === "skipped");
    if (allKnown && rate) {
      const remaining = runs.reduce((sum, r) => sum + Math.max(0, (r.total || 0) - r.processed), 0);
      return remaining / rate;
    }
    const fraction = runs.reduce((sum, r) => sum + objectFraction(r), 0) / runs.length;
    if (fraction <= 0 || !doc.duration_s) return null;
    return (doc.duration_s * (1 - fraction)) / fraction;
  }

  /** Objects to run for a selection: the selection plus everything it depends on. */
  function withDependencies(selected, byName) {
    const reasons = {};
    const stack = [...selected];
    selected.forEach((name) => { reasons[name] = null; });
    while (stack.length) {
      const name = stack.pop();
      ((byName[name] && byName[name].depends_on) || []).forEach((dep) => {
        if (!(dep in reasons)) {
          reasons[dep] = name;
          stack.push(dep);
        }
      });
    }
    return reasons; // name -> null when selected, else the object that needs it
  }

  window.qbsync = {
    ACTIVE, COUNTS, DIRECTIONS, ApiError, api,
    format: { ago, dateTime, duration, number, plural, status },
    progress: { objectFraction, percent, RateMeter, secondsLeft },
    objects: { withDependencies },
    isActive: (statusName) => ACTIVE.includes(statusName),
    // How far along a session is: a status never goes back, so the further one is the newer
    statusRank: (statusName) => (ACTIVE.includes(statusName) ? ACTIVE.indexOf(statusName) : ACTIVE.length),
  };
})();
