/* The dashboard's main Alpine component: connection, the start form, live progress, cancel and
 * errors as they arrive (the history table is static/js/history.js). Everything comes from the
 * JSON API; templates only reference the properties prepared here (Alpine CSP build). */
document.addEventListener("alpine:init", () => {
  "use strict";
  const q = window.qbsync;
  const ERRORS_PAGE = 50;
  const ERRORS_SHOWN = 20;

  window.Alpine.data("dashboard", () => ({
    pollMs: 2000,
    loaded: false,
    alert: "",
    alertIsAuth: false,
    notice: "",
    quickbooks: { label: "Checking…", detail: "", badgeClass: "badge text-bg-secondary",
                  reachable: true },
    lastSuccess: "—",
    lastSuccessTitle: "",
    catalogue: {},
    names: {},
    groups: [],
    selected: [],
    mode: "incremental",
    runsLabel: "",
    starting: false,
    cancelSent: false,
    hasSession: false,
    current: null,
    errors: [],
    errorsMore: "",
    errorsHref: "#",
    _errorsSession: null,
    _errorsCursor: null,
    _errorsSeen: {},
    _errorsCount: 0,
    _lastStatus: undefined,
    _timer: null,
    _meter: null,

    async init() {
      this.pollMs = Number(this.$el.dataset.pollMs) || 2000;
      this._meter = new q.progress.RateMeter();
      try {
        await this.loadObjects();
      } catch (error) {
        this.showError(error);
      }
      await this.poll();
    },

    destroy() {
      clearTimeout(this._timer);
    },

    // --- objects and the start form ------------------------------------------------------

    async loadObjects() {
      const body = await q.api.get("/api/v1/objects");
      this.catalogue = Object.fromEntries(body.objects.map((o) => [o.name, o]));
      this.names = Object.fromEntries(body.objects.map((o) => [o.name, o.display_name]));
      const groups = {};
      body.objects.forEach((o) => {
        const direction = q.DIRECTIONS[o.direction] || { label: o.direction };
        groups[o.direction] = groups[o.direction] || { key: o.direction, label: direction.label, objects: [] };
        groups[o.direction].objects.push({
          name: o.name,
          displayName: o.display_name,
          inputId: `object-${o.name}`,
          checked: false,
          locked: false,
          note: o.depends_on.length
            ? `Brings along ${o.depends_on.map((d) => this.names[d] || d).join(", ")}` : "",
          noteClass: "form-text",
        });
      });
      this.groups = Object.values(groups);
      this.refreshSelection();
    },

    toggleObject(event) {
      const name = event.target.value;
      this.selected = event.target.checked
        ? [...this.selected, name] : this.selected.filter((n) => n !== name);
      this.refreshSelection();
    },

    selectAll() {
      this.selected = Object.keys(this.catalogue);
      this.refreshSelection();
    },

    clearSelection() {
      this.selected = [];
      this.refreshSelection();
    },

    setMode(event) {
      this.mode = event.target.value;
    },

    refreshSelection() {
      const plan = q.objects.withDependencies(this.selected, this.catalogue);
      this.groups.forEach((group) => group.objects.forEach((row) => {
        const needer = plan[row.name];
        const implied = row.name in plan && needer !== null && !this.selected.includes(row.name);
        row.checked = row.name in plan;
        row.locked = implied;
        const base = this.catalogue[row.name].depends_on;
        if (implied) {
          row.note = `Included: needed by ${this.names[needer] || needer}`;
          row.noteClass = "form-text text-primary fw-semibold";
        } else {
          row.note = base.length ? `Brings along ${base.map((d) => this.names[d] || d).join(", ")}` : "";
          row.noteClass = "form-text";
        }
      }));
      const order = Object.keys(this.catalogue).filter((n) => n in plan);
      this.runsLabel = order.length
        ? `This sync will run: ${order.map((n) => this.names[n]).join(", ")}` : "";
    },

    get modeIncremental() { return this.mode === "incremental"; },
    get modeFull() { return this.mode === "full"; },
    get sessionActive() { return this.hasSession && this.current.active; },
    get nothingSelected() { return this.selected.length === 0; },
    get startDisabled() { return this.starting || this.sessionActive || this.nothingSelected || !this.loaded; },
    get startHint() {
      if (this.sessionActive) return "A sync is in progress. You can start another when it ends.";
      if (this.nothingSelected) return "Choose at least one kind of record to sync.";
      return "";
    },
    get startLabel() { return this.starting ? "Starting…" : "Start sync"; },
    // A cancel no worker is left to honour can be asked again: the server then ends it at once.
    get cancelStuck() { return this.sessionActive && this.current.cancelling && this.current.stalled; },
    get cancelDisabled() {
      return this.cancelSent || !this.sessionActive || (this.current.cancelling && !this.cancelStuck);
    },
    get cancelLabel() {
      if (this.cancelStuck && !this.cancelSent) return "End it now";
      return this.cancelSent || (this.hasSession && this.current.cancelling) ? "Cancelling…" : "Cancel sync";
    },

    async start() {
      if (this.startDisabled) return;
      this.starting = true;
      this.notice = "";
      try {
        const doc = await q.api.post("/api/v1/sessions", { objects: this.selected, mode: this.mode });
        this.alert = "";
        this.notice = `Sync #${doc.id} started.`;
        this.showSession(doc);
      } catch (error) {
        this.showError(error);
      } finally {
        this.starting = false;
      }
    },

    async cancel() {
      if (this.cancelDisabled) return;
      this.cancelSent = true;
      try {
        this.showSession(await q.api.post(`/api/v1/sessions/${this.current.id}/cancel`));
        this.alert = "";
      } catch (error) {
        this.showError(error);
      } finally {
        this.cancelSent = false;
      }
    },

    // --- polling -------------------------------------------------------------------------

    async poll() {
      clearTimeout(this._timer);
      try {
        const status = await q.api.get("/api/v1/status");
        this.showStatus(status);
        if (status.current_session) await this.loadErrors(status.current_session);
        this.alert = "";
        this.alertIsAuth = false;
      } catch (error) {
        this.showError(error);
      } finally {
        this.loaded = true;
        this._timer = setTimeout(() => this.poll(), this.pollMs);
      }
    },

    showStatus(status) {
      const qb = status.quickbooks;
      const where = qb.mode === "simulator" ? "QuickBooks simulator" : "QuickBooks via Conductor";
      this.quickbooks = {
        label: qb.reachable ? "Connected" : "Not reachable",
        detail: where,
        badgeClass: `badge ${qb.reachable ? "text-bg-success" : "text-bg-danger"}`,
        reachable: qb.reachable,
      };
      this.lastSuccess = q.format.ago(status.last_successful_sync_at);
      this.lastSuccessTitle = q.format.dateTime(status.last_successful_sync_at);
      if (status.current_session) this.showSession(status.current_session);
      else this.noteChange(null);
    },

    showSession(doc) {
      this._meter.add(doc.id, doc.processed_records, performance.now());
      const rate = doc.status === "running" ? this._meter.rate() : null;
      this.current = q.views.session(doc, this.names, rate);
      this.hasSession = true;
      if (!this.current.active) this.notice = ""; // "Sync #n started." has had its day
      this.noteChange(doc);
      if (this.current.active) {  // its row in the history moves on with it
        window.dispatchEvent(new CustomEvent("qbsync-session-progress", { detail: { doc } }));
      }
    },

    /** The history read the current session further along than the panel shows it (say it
     * ended just after the cancel the panel shows landing): the panel takes that state. */
    adoptFromHistory(event) {
      if (!this.hasSession) return;
      const doc = (event.detail.sessions || []).find((d) => d.id === this.current.id);
      if (doc && q.statusRank(doc.status) > q.statusRank(this.current.status)) this.showSession(doc);
    },

    /** Tell the history table when a session starts, moves on or ends (not on first load). */
    noteChange(doc) {
      const previous = this._lastStatus;
      this._lastStatus = doc ? { id: doc.id, status: doc.status } : null;
      if (previous === undefined) return;
      const same = previous && doc && previous.id === doc.id && previous.status === doc.status;
      if (!same && doc) {
        const ended = previous && previous.id === doc.id && !q.isActive(doc.status);
        const name = ended ? "qbsync-session-ended" : "qbsync-session-changed";
        window.dispatchEvent(new CustomEvent(name, { detail: { id: doc.id } }));
      }
    },

    async loadErrors(doc) {
      if (doc.id !== this._errorsSession) {
        this._errorsSession = doc.id;
        this._errorsCursor = null;
        this._errorsSeen = {};
        this._errorsCount = 0;
        this.errors = [];
      }
      this.errorsHref = `/sessions/${doc.id}#errors`;
      if (doc.error_count <= this._errorsCount) return;
      for (let pages = 0; pages < 20; pages += 1) {
        const cursor = this._errorsCursor ? `&cursor=${encodeURIComponent(this._errorsCursor)}` : "";
        let page;
        try {
          page = await q.api.get(`/api/v1/sessions/${doc.id}/errors?limit=${ERRORS_PAGE}${cursor}`);
        } catch (error) {
          // A cursor the server no longer takes (say it was upgraded meanwhile): read again
          // from the first page; the errors already shown are skipped.
          if (error.code !== "invalid_cursor" || !this._errorsCursor) throw error;
          this._errorsCursor = null;
          continue;
        }
        page.errors.forEach((error) => {
          if (this._errorsSeen[error.id]) return;
          this._errorsSeen[error.id] = true;
          this._errorsCount += 1;
          this.errors.unshift(q.views.syncError(error, this.names));
        });
        if (!page.next_cursor) break;
        this._errorsCursor = page.next_cursor;
      }
      this.errors = this.errors.slice(0, ERRORS_SHOWN);
      this.errorsMore = this._errorsCount > ERRORS_SHOWN
        ? `Showing the latest ${ERRORS_SHOWN} of ${q.format.number(this._errorsCount)}.` : "";
    },

    get hasErrors() { return this.errors.length > 0; },
    get noErrors() { return this.hasSession && this.errors.length === 0; },

    showError(error) {
      this.alert = error.message || "Something went wrong. Please try again.";
      this.alertIsAuth = error.kind === "auth";
    },

    get hasAlert() { return this.alert !== ""; },
    // A sync under way while QuickBooks does not answer: said on the sync, not only in the header.
    get quickbooksDown() { return this.sessionActive && !this.quickbooks.reachable; },
    // No estimate while nothing can move: QuickBooks not answering, or no worker attending.
    get timeLeft() {
      if (this.quickbooksDown) return "Waiting for QuickBooks";
      if (this.current.stalled) return "Waiting for a worker";
      return this.current.timeLeft;
    },
    get noSessionYet() { return this.loaded && !this.hasSession && !this.hasAlert; },
    get hasNotice() { return this.notice !== "" && !this.hasAlert; },
  }));
});
