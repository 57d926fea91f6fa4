/* The session page's Alpine component: one session's per-object results, kept live while it
 * runs, and its full error log, page by page. Everything comes from the JSON API. */
document.addEventListener("alpine:init", () => {
  "use strict";
  const q = window.qbsync;

  window.Alpine.data("sessionPage", () => ({
    sessionId: null,
    pollMs: 2000,
    pageSize: 50,
    names: {},
    session: null,
    hasSession: false,
    alert: "",
    errors: [],
    errorCursors: [null],
    errorsNext: null,
    errorsLoading: false,
    errorsAlert: "",
    errorsLoaded: false,
    _timer: null,
    _errorCount: null,
    conflicts: [],
    conflictsNext: null,
    conflictsLoaded: false,
    conflictsAlert: "",
    _conflictCount: null,

    async init() {
      this.sessionId = Number(this.$el.dataset.sessionId);
      this.pollMs = Number(this.$el.dataset.pollMs) || 2000;
      this.pageSize = Number(this.$el.dataset.pageSize) || 50;
      try {
        const objects = await q.api.get("/api/v1/objects");
        this.names = Object.fromEntries(objects.objects.map((o) => [o.name, o.display_name]));
      } catch (error) {
        this.alert = error.message;
      }
      await this.refresh();
    },

    destroy() {
      clearTimeout(this._timer);
    },

    async refresh() {
      clearTimeout(this._timer);
      let active = true;
      try {
        const doc = await q.api.get(`/api/v1/sessions/${this.sessionId}`);
        this.session = q.views.session(doc, this.names, null);
        this.hasSession = true;
        active = this.session.active;
        this.alert = "";
        // Reload the visible page of the log when new errors arrived on it.
        if (doc.error_count !== this._errorCount) {
          this._errorCount = doc.error_count;
          await this.loadErrors();
        }
        const conflicts = (doc.objects || []).reduce((sum, run) => sum + (run.conflicts || 0), 0);
        if (conflicts !== this._conflictCount || !active) {
          this._conflictCount = conflicts;
          await this.loadConflicts(false);
        }
      } catch (error) {
        this.alert = error.message;
      }
      if (active) this._timer = setTimeout(() => this.refresh(), this.pollMs);
    },

    async loadErrors() {
      this.errorsLoading = true;
      const cursor = this.errorCursors[this.errorCursors.length - 1];
      const query = `limit=${this.pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      try {
        const page = await q.api.get(`/api/v1/sessions/${this.sessionId}/errors?${query}`);
        this.errors = page.errors.map((e) => q.views.syncError(e, this.names));
        this.errorsNext = page.next_cursor;
        this.errorsAlert = "";
      } catch (error) {
        this.errorsAlert = `The error log could not be loaded: ${error.message}`;
      } finally {
        this.errorsLoading = false;
        this.errorsLoaded = true;
      }
    },

    async loadConflicts(more) {
      const cursor = more ? this.conflictsNext : null;
      const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      try {
        const page = await q.api.get(`/api/v1/sessions/${this.sessionId}/conflicts?${query}`);
        const offset = more ? this.conflicts.length : 0;
        const rows = page.conflicts.map((c, i) => q.views.conflict(c, this.names, offset + i));
        this.conflicts = more ? this.conflicts.concat(rows) : rows;
        this.conflictsNext = page.next_cursor;
        this.conflictsAlert = "";
      } catch (error) {
        this.conflictsAlert = `The conflicts could not be loaded: ${error.message}`;
      } finally {
        this.conflictsLoaded = true;
      }
    },

    moreConflicts() {
      return this.loadConflicts(true);
    },

    nextErrors() {
      if (!this.errorsNext) return null;
      this.errorCursors.push(this.errorsNext);
      return this.loadErrors();
    },

    previousErrors() {
      if (this.errorCursors.length < 2) return null;
      this.errorCursors.pop();
      return this.loadErrors();
    },

    get hasAlert() { return this.alert !== ""; },
    get hasConflicts() { return this.conflicts.length > 0; },
    get noConflicts() { return this.conflictsLoaded && this.conflicts.length === 0 && this.conflictsAlert === ""; },
    get hasConflictsAlert() { return this.conflictsAlert !== ""; },
    get hasMoreConflicts() { return this.conflictsNext !== null; },
    get isOneRecord() { return Boolean(this.session && this.session.oneRecord); },
    get hasErrorsAlert() { return this.errorsAlert !== ""; },
    get hasErrorRows() { return this.errors.length > 0; },
    get hasErrorPager() { return this.errors.length > 0 || this.errorCursors.length > 1; },
    get noErrorRows() { return this.errorsLoaded && this.errors.length === 0 && this.errorsAlert === ""; },
    get noNextErrors() { return !this.errorsNext || this.errorsLoading; },
    get noPreviousErrors() { return this.errorCursors.length < 2 || this.errorsLoading; },
    get errorsPageLabel() {
      const first = (this.errorCursors.length - 1) * this.pageSize + 1;
      return this.errors.length ? `Errors ${first}–${first + this.errors.length - 1}` : "";
    },
    get loading() { return !this.hasSession && this.alert === ""; },
  }));
});
