/* The record page's Alpine component: one WMS record's fields beside what QuickBooks last sent
 * (differences marked), its lines, its history from the ledger, and what staff can do to it:
 * edit, "Sync this record now", hold it back from sending or lift the hold. */
document.addEventListener("alpine:init", () => {
  "use strict";
  const q = window.qbsync;
  const fmt = q.format;
  const R = q.records;

  function parseData(el, key) {
    try {
      return JSON.parse(el.dataset[key] || "{}");
    } catch (notJson) {
      return {};
    }
  }

  function quoted(value) {
    const text = R.valueText(value);
    return text === "—" ? "nothing" : `“${text}”`;
  }

  const WHAT_TO_DO = {
    push: "Correct the record (Edit) and the next sync sends it again; or Hold it to stop "
      + "sending it until it is edited.",
    pull: "Correct the record in QuickBooks, then use “Sync this record now”.",
  };

  window.Alpine.data("recordPage", () => ({
    objectName: "",
    recordId: 0,
    twoWay: false,
    pollMs: 2000,
    refs: {},
    lineRefs: {},
    labels: {},
    lineColumns: [],
    doc: null,
    refLabels: {},
    events: [],
    historyNext: null,
    alert: "",
    notice: "",
    noticeHref: "",
    working: false,
    watching: null,
    _timer: null,

    async init() {
      const el = this.$el;
      this.objectName = el.dataset.object;
      this.recordId = Number(el.dataset.recordId);
      this.twoWay = el.dataset.twoWay === "true";
      this.pollMs = Number(el.dataset.pollMs) || 2000;
      this.refs = parseData(el, "refs");
      this.lineRefs = parseData(el, "lineRefs");
      this.labels = parseData(el, "labels");
      this.lineColumns = parseData(el, "lineColumns").columns || [];
      if (new URLSearchParams(window.location.search).get("saved")) {
        this.notice = "Saved in the warehouse. The next sync sends it to QuickBooks.";
        window.history.replaceState(null, "", window.location.pathname);
      }
      await this.reload();
    },

    destroy() {
      clearTimeout(this._timer);
    },

    get base() { return `/api/v1/records/${this.objectName}/${this.recordId}`; },

    async reload() {
      try {
        this.doc = await q.api.get(this.base);
        this.alert = "";
        await Promise.all([this.loadRefLabels(), this.loadHistory(false)]);
      } catch (error) {
        this.alert = error.message;
      }
    },

    /** The names of the records this one refers to (its customer, its lines' items). */
    async loadRefLabels() {
      const wanted = new Set();
      const add = (target, id) => {
        if (id) wanted.add(`${target}/${id}`);
      };
      Object.entries(this.refs).forEach(([column, target]) => add(target, this.doc.fields[column]));
      (this.doc.lines || []).forEach((line) => {
        Object.entries(this.lineRefs).forEach(([column, target]) => add(target, line[column]));
      });
      const found = { ...this.refLabels };
      await Promise.all([...wanted].filter((k) => !(k in found)).map(async (key) => {
        try {
          const doc = await q.api.get(`/api/v1/records/${key}`);
          found[key] = { label: doc.label || `#${doc.id}`, qbId: doc.qb_id };
        } catch (error) {
          found[key] = { label: `#${key.split("/")[1]}`, qbId: null };
        }
      }));
      this.refLabels = found;
    },

    async loadHistory(more) {
      const cursor = more ? this.historyNext : null;
      const page = await q.api.get(`${this.base}/history?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      const rows = page.events.map((e, i) => this.eventRow(e, i));
      this.events = more ? this.events.concat(rows) : rows;
      this.historyNext = page.next_cursor;
    },

    moreHistory() {
      return this.loadHistory(true).catch((error) => { this.alert = error.message; });
    },

    label(column) {
      return this.labels[column] || column.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
    },

    refText(target, id, qbId) {
      if (id) {
        const known = this.refLabels[`${target}/${id}`];
        return known ? known.label : `#${id}`;
      }
      if (qbId) {
        const same = Object.entries(this.refLabels).find(([k, v]) => k.startsWith(`${target}/`) && v.qbId === qbId);
        return same ? same[1].label : `QuickBooks id ${qbId}`;
      }
      return "—";
    },

    eventRow(event, index) {
      const detail = event.detail || {};
      const fields = (event.fields || []).filter((f) => f !== "created").map((f) => this.label(f));
      let title = event.action;
      let text = "";
      let badge = "text-bg-secondary";
      switch (event.action) {
        case "pulled_created":
          title = "Read from QuickBooks (new to the warehouse)";
          badge = "text-bg-info";
          break;
        case "pulled_updated":
          title = "Read from QuickBooks";
          text = fields.length ? `QuickBooks changed: ${fields.join(", ")}.` : "";
          badge = "text-bg-info";
          break;
        case "pushed_created":
          title = "Created in QuickBooks";
          badge = "text-bg-success";
          break;
        case "pushed_updated":
          title = "Sent to QuickBooks";
          text = fields.length ? `Sent: ${fields.join(", ")}.` : "";
          badge = "text-bg-success";
          break;
        case "conflict": {
          const field = this.label(event.field || "");
          const winner = detail.winner === "wms" ? "The warehouse's value won" : "QuickBooks' value won";
          title = `Conflict on ${field}`;
          text = `Both sides changed it since the last sync: the warehouse had ${quoted(detail.wms_value)}, `
            + `QuickBooks had ${quoted(detail.quickbooks_value)} (it was ${quoted(detail.base)}). `
            + `${winner} — ${detail.rule || "the object's rule"}.`;
          badge = "text-bg-warning";
          break;
        }
        case "error": {
          const phase = detail.phase === "pull" ? "pull" : "push";
          title = phase === "pull" ? "Could not be read from QuickBooks" : "QuickBooks refused it";
          text = `${detail.message || detail.code || ""} What to do: ${WHAT_TO_DO[phase]}`;
          badge = "text-bg-danger";
          break;
        }
        case "skipped":
          title = "Skipped";
          break;
        default:
          break;
      }
      return {
        key: `${event.created_at}-${index}`,
        title,
        text,
        hasText: text !== "",
        badgeClass: `badge ${badge}`,
        actionLabel: event.action.replace("_", " "),
        at: fmt.dateTime(event.created_at),
        atIso: event.created_at || "",
        hasSession: event.session_id !== null,
        sessionHref: `/sessions/${event.session_id}`,
        sessionText: `Sync #${event.session_id}`,
        testId: `event-${event.action}`,
      };
    },

    // --- what the template shows ----------------------------------------------------------

    get loaded() { return this.doc !== null; },
    get loading() { return this.doc === null && this.alert === ""; },
    get hasAlert() { return this.alert !== ""; },
    get hasNotice() { return this.notice !== ""; },
    get hasNoticeLink() { return this.noticeHref !== ""; },
    get title() { return this.doc ? (this.doc.label || `#${this.doc.id} (no name yet)`) : ""; },
    get badge() { return this.doc ? R.stateBadge(this.doc) : { label: "", badgeClass: "", ariaLabel: "" }; },
    get qbId() { return this.doc && this.doc.qb_id ? this.doc.qb_id : "not in QuickBooks yet"; },
    get syncedAt() { return this.doc ? fmt.dateTime(this.doc.sync.synced_at) : ""; },
    get changedAt() { return this.doc ? fmt.dateTime(this.doc.sync.local_updated_at) : ""; },
    get hasPushError() { return Boolean(this.doc && this.doc.push_error); },
    get pushError() { return this.doc && this.doc.push_error ? this.doc.push_error : ""; },
    get pushErrorAdvice() {
      return this.doc && this.doc.held
        ? "Held: the sync leaves this record until it is edited again, or the hold is lifted."
        : WHAT_TO_DO.push;
    },
    get stateNote() {
      if (!this.doc) return "";
      if (this.doc.held) return "Held back: not sent to QuickBooks until it is edited again or the hold is lifted.";
      return {
        synced: "The warehouse and QuickBooks agree on this record.",
        pending: this.doc.qb_id ? "Changed in the warehouse: the next sync sends the change."
          : "Created in the warehouse: the next sync creates it in QuickBooks.",
        error: "QuickBooks refused the last attempt to send it; the next sync tries again.",
        deleted: "Deleted in QuickBooks: the sync no longer sends it.",
      }[this.doc.sync_state] || "";
    },
    get hasBase() { return Boolean(this.doc && this.doc.base); },
    get noBase() { return Boolean(this.doc && !this.doc.base); },
    get editHref() { return `/records/${this.objectName}/${this.recordId}/edit`; },
    get canEdit() { return this.twoWay && Boolean(this.doc) && this.doc.sync_state !== "deleted"; },
    get canHold() { return this.twoWay && Boolean(this.doc) && !this.doc.held && this.doc.sync_state !== "deleted"; },
    get canUnhold() { return this.twoWay && Boolean(this.doc) && this.doc.held; },
    get busyDisabled() { return this.working || this.watching !== null; },

    get fieldRows() {
      if (!this.doc) return [];
      const base = this.doc.base;
      const changed = new Set(base ? base.changed : []);
      const refByQb = {};
      Object.entries(this.refs).forEach(([column, target]) => { refByQb[`${column.replace(/_id$/, "")}_qb_id`] = [column, target]; });
      const rows = [];
      Object.entries(this.doc.fields).forEach(([column, value]) => {
        if (column in refByQb || column === "external_id") return;
        let wms = R.valueText(value);
        let was = base ? R.valueText(base.fields[column]) : "";
        let differs = changed.has(column);
        const target = this.refs[column];
        if (target) {
          const qbColumn = `${column.replace(/_id$/, "")}_qb_id`;
          wms = this.refText(target, value, this.doc.fields[qbColumn]);
          was = base ? this.refText(target, null, base.fields[qbColumn]) : "";
          differs = changed.has(qbColumn);
        } else if (base && !(column in base.fields)) {
          was = "(not synced)";
        }
        rows.push({
          key: column,
          label: this.label(column),
          wms,
          base: was,
          differs,
          rowClass: differs ? "table-warning" : "",
          differsText: differs ? "changed in the warehouse, not yet in QuickBooks" : "",
          testId: `field-${column}`,
        });
      });
      return rows;
    },

    _lineRow(line, index, fromBase) {
      const cells = this.lineColumns.map((column) => {
        let text = R.valueText(line[column]);
        if (this.lineRefs[column]) {
          text = fromBase ? this.refText(this.lineRefs[column], null, line[`${column.replace(/_id$/, "")}_qb_id`])
            : this.refText(this.lineRefs[column], line[column], line[`${column.replace(/_id$/, "")}_qb_id`]);
        }
        return { key: column, text };
      });
      return { key: `${fromBase ? "b" : "w"}${index}`, cells, rowClass: line.is_line_group ? "table-light fw-semibold" : "" };
    },
    get hasLines() { return Boolean(this.doc && this.doc.lines); },
    get lineRows() { return this.doc && this.doc.lines ? this.doc.lines.map((l, i) => this._lineRow(l, i, false)) : []; },
    get noLines() { return this.hasLines && this.doc.lines.length === 0; },
    get linesChanged() { return Boolean(this.doc && this.doc.base && this.doc.base.lines_changed); },
    get baseLineRows() {
      return this.linesChanged ? (this.doc.base.lines || []).map((l, i) => this._lineRow(l, i, true)) : [];
    },
    get hasEvents() { return this.events.length > 0; },
    get noEvents() { return this.doc !== null && this.events.length === 0; },
    get hasMoreHistory() { return this.historyNext !== null; },

    // --- actions --------------------------------------------------------------------------

    async hold() {
      await this._act(() => q.api.post(`${this.base}/hold`), "Held: the sync leaves this record until it is edited again.");
    },

    async unhold() {
      await this._act(() => q.api.delete(`${this.base}/hold`), "Hold lifted: the next sync sends it if it is pending.");
    },

    async _act(call, notice) {
      this.working = true;
      try {
        this.doc = await call();
        this.notice = notice;
        this.noticeHref = "";
        this.alert = "";
      } catch (error) {
        this.alert = error.message;
      } finally {
        this.working = false;
      }
    },

    async syncNow() {
      this.working = true;
      try {
        const session = await q.api.post(`${this.base}/sync`);
        this.alert = "";
        this.notice = `Sync #${session.id} started for this record alone: reading it from QuickBooks, then sending it if it is pending…`;
        this.noticeHref = `/sessions/${session.id}`;
        this.watching = session.id;
        this._timer = setTimeout(() => this.watch(), this.pollMs);
      } catch (error) {
        this.alert = error.message;
      } finally {
        this.working = false;
      }
    },

    async watch() {
      const id = this.watching;
      try {
        const session = await q.api.get(`/api/v1/sessions/${id}`);
        if (q.isActive(session.status)) {
          this._timer = setTimeout(() => this.watch(), this.pollMs);
          return;
        }
        this.watching = null;
        let outcome = `Sync #${id} ${q.format.status(session.status).label.toLowerCase()}`;
        if (session.error_count) {
          const errors = await q.api.get(`/api/v1/sessions/${id}/errors`);
          const waiting = errors.errors.some((e) => e.code === "waiting_for_reference");
          outcome += waiting
            ? ": it names a record that is not in QuickBooks yet, which a one-record sync does not send. Sync that record (or run a full sync) first, then this one."
            : ": see the history below for what went wrong.";
        } else {
          outcome += ".";
        }
        this.notice = outcome;
        await this.reload();
      } catch (error) {
        this.alert = error.message;
        this._timer = setTimeout(() => this.watch(), this.pollMs);
      }
    },
  }));
});
