/* The records pages' shared view helpers (window.qbsync.records) and the list page's Alpine
 * component: one object's WMS records with search, a state filter with counts, and pages.
 * Everything comes from the records API; templates only reference ready-made properties. */
(function () {
  "use strict";
  const q = window.qbsync;
  const fmt = q.format;

  const STATES = {
    synced: { label: "Synced", badge: "text-bg-success" },
    pending: { label: "Pending", badge: "text-bg-warning" },
    error: { label: "Error", badge: "text-bg-danger" },
    deleted: { label: "Deleted in QuickBooks", badge: "text-bg-secondary" },
    held: { label: "Held", badge: "text-bg-dark" },
  };

  /** The badge of a record document: held first (what staff chose), else its sync state. */
  function stateBadge(doc) {
    const key = doc.held ? "held" : doc.sync_state;
    const state = STATES[key] || { label: key, badge: "text-bg-secondary" };
    return { key, label: state.label, badgeClass: `badge ${state.badge}`,
      ariaLabel: `Sync state: ${state.label}` };
  }

  /** A field's value for people: addresses on one line, booleans in words, "—" for none. */
  function valueText(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (value === true) return "Yes";
    if (value === false) return "No";
    if (typeof value === "object") {
      const parts = ["line1", "line2", "line3", "line4", "line5", "city", "state", "postalCode",
        "country", "note"].map((k) => value[k]).filter((v) => v);
      return parts.length ? parts.join(", ") : "—";
    }
    return String(value);
  }

  function listRow(doc, objectName) {
    const badge = stateBadge(doc);
    return {
      key: String(doc.id),
      id: doc.id,
      label: doc.label || `#${doc.id} (no name yet)`,
      href: `/records/${objectName}/${doc.id}`,
      stateLabel: badge.label,
      badgeClass: badge.badgeClass,
      ariaLabel: badge.ariaLabel,
      qbId: doc.qb_id || "not in QuickBooks yet",
      syncedAt: fmt.dateTime(doc.sync.synced_at),
      syncedIso: doc.sync.synced_at || "",
      changedAt: fmt.dateTime(doc.sync.local_updated_at),
    };
  }

  window.qbsync.records = { STATES, stateBadge, valueText, listRow };

  document.addEventListener("alpine:init", () => {
    const FILTERS = [
      { key: "", label: "All", count: "all" },
      { key: "pending", label: "Pending", count: "pending" },
      { key: "error", label: "Error", count: "error" },
      { key: "deleted", label: "Deleted", count: "deleted" },
    ];

    window.Alpine.data("recordsPage", () => ({
      objectName: "",
      pageSize: 25,
      query: "",
      state: "",
      counts: null,
      rows: [],
      cursors: [null],
      next: null,
      loading: false,
      loaded: false,
      alert: "",
      _seq: 0,

      async init() {
        this.objectName = this.$el.dataset.object;
        this.pageSize = Number(this.$el.dataset.pageSize) || 25;
        const params = new URLSearchParams(window.location.search);
        this.query = params.get("q") || "";
        this.state = FILTERS.some((f) => f.key === params.get("state")) ? params.get("state") : "";
        const box = this.$el.querySelector("[data-testid=records-search]");
        if (box) box.value = this.query;
        await Promise.all([this.loadCounts(), this.load()]);
      },

      async loadCounts() {
        try {
          this.counts = await q.api.get(`/api/v1/records/${this.objectName}/counts`);
        } catch (error) {
          this.alert = error.message;
        }
      },

      async load() {
        const seq = ++this._seq; // a slower answer to an older search must not win
        this.loading = true;
        const params = new URLSearchParams({ limit: String(this.pageSize) });
        if (this.query) params.set("q", this.query);
        if (this.state) params.set("state", this.state);
        const cursor = this.cursors[this.cursors.length - 1];
        if (cursor) params.set("cursor", cursor);
        try {
          const page = await q.api.get(`/api/v1/records/${this.objectName}?${params}`);
          if (seq !== this._seq) return;
          this.rows = page.records.map((doc) => listRow(doc, this.objectName));
          this.next = page.next_cursor;
          this.alert = "";
        } catch (error) {
          if (seq === this._seq) this.alert = error.message;
        } finally {
          if (seq === this._seq) {
            this.loading = false;
            this.loaded = true;
          }
        }
      },

      _remember() {
        const params = new URLSearchParams();
        if (this.query) params.set("q", this.query);
        if (this.state) params.set("state", this.state);
        const search = params.toString();
        window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
      },

      search(event) {
        this.query = event.target.value.trim();
        this.cursors = [null];
        this._remember();
        return this.load();
      },

      pickState(event) {
        this.state = event.currentTarget.dataset.state;
        this.cursors = [null];
        this._remember();
        return this.load();
      },

      nextPage() {
        if (!this.next) return null;
        this.cursors.push(this.next);
        return this.load();
      },

      previousPage() {
        if (this.cursors.length < 2) return null;
        this.cursors.pop();
        return this.load();
      },

      get filters() {
        return FILTERS.map((f) => {
          const active = f.key === this.state;
          let count = "";
          if (this.counts) {
            const n = this.counts[f.count];
            count = f.key === "pending" && !this.counts.pending_exact ? `≤ ${fmt.number(n)}` : fmt.number(n);
          }
          return {
            key: f.key || "all",
            state: f.key,
            label: f.label,
            count,
            pressed: active ? "true" : "false",
            buttonClass: `btn btn-sm ${active ? "btn-primary" : "btn-outline-primary"}`,
            testId: `filter-${f.key || "all"}`,
          };
        });
      },
      get heldNote() {
        return this.counts && this.counts.held
          ? `${fmt.plural(this.counts.held, "record is", "records are")} held back from sending.` : "";
      },
      get hasHeldNote() { return this.heldNote !== ""; },
      get hasAlert() { return this.alert !== ""; },
      get hasRows() { return this.rows.length > 0; },
      get isEmpty() { return this.loaded && !this.loading && this.rows.length === 0 && this.alert === ""; },
      get emptyText() {
        return this.query || this.state ? "No records match." : "No records yet: run a sync, or create one.";
      },
      get hasPager() { return this.rows.length > 0 && (this.next !== null || this.cursors.length > 1); },
      get noNext() { return !this.next || this.loading; },
      get noPrevious() { return this.cursors.length < 2 || this.loading; },
      get pageLabel() {
        const first = (this.cursors.length - 1) * this.pageSize + 1;
        return this.rows.length ? `Records ${fmt.number(first)}–${fmt.number(first + this.rows.length - 1)}` : "";
      },
      get busy() { return this.loading ? "true" : "false"; },
    }));
  });
})();
