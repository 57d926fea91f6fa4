/* The dashboard's history table: past sessions, newest first, page by page (Newer / Older).
 * It reloads its first page when the dashboard announces a session started or ended, and keeps
 * a running session's row up to date from what the dashboard polls. */
document.addEventListener("alpine:init", () => {
  "use strict";
  const q = window.qbsync;

  window.Alpine.data("history", () => ({
    pageSize: 10,
    rows: [],
    cursors: [null],
    next: null,
    loading: false,
    alert: "",
    loaded: false,
    _names: null,
    _reloadedFor: null,

    async init() {
      this.pageSize = Number(this.$el.dataset.pageSize) || 10;
      await this.load();
    },

    async load() {
      this.loading = true;
      const cursor = this.cursors[this.cursors.length - 1];
      const query = `limit=${this.pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      try {
        if (!this._names) {
          const objects = await q.api.get("/api/v1/objects");
          this._names = Object.fromEntries(objects.objects.map((o) => [o.name, o.display_name]));
        }
        const page = await q.api.get(`/api/v1/sessions?${query}`);
        this.rows = page.sessions.map((doc) => q.views.session(doc, this._names, null));
        this.next = page.next_cursor;
        this.alert = "";
        // The dashboard's panel may not have polled since a session it shows moved on (a
        // cancel landing just after it was asked): it takes the newer state, so both agree.
        window.dispatchEvent(new CustomEvent("qbsync-history-loaded",
                                             { detail: { sessions: page.sessions } }));
      } catch (error) {
        this.alert = `History could not be loaded: ${error.message}`;
      } finally {
        this.loading = false;
        this.loaded = true;
      }
    },

    reload() {
      this.cursors = [null];
      return this.load();
    },

    /** A running session's row, brought up to date from the document the dashboard polled.
     * A session newer than the first page's top row started after that page was read (before
     * the dashboard's first poll, so no "started" was announced): the first page is read again. */
    showProgress(event) {
      const doc = event.detail.doc;
      const at = this.rows.findIndex((row) => row.id === doc.id);
      if (at >= 0 && this._names) {
        this.rows[at] = q.views.session(doc, this._names, null);
      } else if (at < 0 && this.loaded && !this.loading && this._reloadedFor !== doc.id
                 && (this.rows.length === 0 || doc.id > this.rows[0].id)) {
        this._reloadedFor = doc.id;  // once: a history that fails to load is not hammered
        this.refreshFirstPage();
      }
    },

    refreshFirstPage() {
      if (this.cursors.length === 1) return this.load();
      return null;
    },

    older() {
      if (!this.next) return null;
      this.cursors.push(this.next);
      return this.load();
    },

    newer() {
      if (this.cursors.length < 2) return null;
      this.cursors.pop();
      return this.load();
    },

    get noOlder() { return !this.next || this.loading; },
    get noNewer() { return this.cursors.length < 2 || this.loading; },
    get isEmpty() { return this.loaded && this.rows.length === 0 && this.alert === ""; },
    get hasRows() { return this.rows.length > 0; },
    // Nothing to page through in an empty history: no "Page 1", no Newer / Older
    get hasPager() { return this.rows.length > 0 || this.cursors.length > 1; },
    get hasAlert() { return this.alert !== ""; },
    get pageLabel() { return `Page ${this.cursors.length}`; },
  }));
});
