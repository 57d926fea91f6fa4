/* The edit and new forms' Alpine component: what a WMS would write, through the records API
 * (PATCH with only what changed, POST for a new record). The API's 400s name the field, and
 * the message is shown at that field; lines (orders, adjustments) are added, removed and
 * changed here, their item picked from a search over the items. */
document.addEventListener("alpine:init", () => {
  "use strict";
  const q = window.qbsync;
  const FIELD_ERROR = /^(?:fields|lines\[(\d+)\])\.([A-Za-z_]+)/;
  let lineSeq = 0;

  function same(a, b) {
    return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
  }

  function option(doc, selectedId) {
    const text = doc.qb_id ? doc.label : `${doc.label} (new, not in QuickBooks yet)`;
    return { key: String(doc.id), id: String(doc.id), label: doc.label || `#${doc.id}`, text,
      selected: String(doc.id) === String(selectedId) ? "true" : "false" };
  }

  window.Alpine.data("recordForm", () => ({
    objectName: "",
    recordId: null,
    original: null,
    pickers: {},
    lines: [],
    linesTouched: false,
    alert: "",
    saving: false,
    ready: false,
    title: "",
    lineKeys: [],

    async init() {
      this.objectName = this.$el.dataset.object;
      try {
        this.lineKeys = JSON.parse(this.$el.dataset.lineKeys || "{}").keys || [];
      } catch (notJson) {
        this.lineKeys = [];
      }
      this.recordId = this.$el.dataset.recordId ? Number(this.$el.dataset.recordId) : null;
      const pickers = {};
      this.$root.querySelectorAll("[data-kind=ref]").forEach((input) => {
        pickers[input.dataset.field] = { target: input.dataset.target, id: null, label: "",
          options: [], expanded: "false", open: false, chosenText: "" };
      });
      this.pickers = pickers;
      try {
        if (this.recordId) {
          this.original = await q.api.get(`/api/v1/records/${this.objectName}/${this.recordId}`);
          this.title = this.original.label || "";
          await this.fill(this.original);
        } else {
          this.fillDefaults();
        }
        this.ready = true;
      } catch (error) {
        this.alert = error.message;
      }
    },

    inputs() {
      return [...this.$root.querySelectorAll("[data-field]")].filter((el) => el.tagName !== "LI");
    },

    fillDefaults() {
      this.inputs().forEach((el) => {
        if (el.dataset.kind === "bool" && el.dataset.field === "is_active") el.checked = true;
        if (el.type === "date" && el.dataset.field === "transaction_date") {
          el.value = new Date().toISOString().slice(0, 10);
        }
      });
    },

    async fill(doc) {
      this.inputs().forEach((el) => {
        const value = doc.fields[el.dataset.field];
        if (el.dataset.kind === "bool") el.checked = Boolean(value);
        else if (el.dataset.kind === "ref") el.value = "";
        else if (el.dataset.part) el.value = (value && value[el.dataset.part]) || "";
        else el.value = value === null || value === undefined ? "" : String(value);
      });
      await Promise.all(Object.entries(this.pickers).map(async ([field, picker]) => {
        const id = doc.fields[field];
        if (!id) return;
        try {
          const target = await q.api.get(`/api/v1/records/${picker.target}/${id}`);
          this.choose(field, String(id), target.label || `#${id}`);
        } catch (error) {
          this.choose(field, String(id), `#${id}`);
        }
      }));
      const items = {};
      await Promise.all([...new Set((doc.lines || []).map((l) => l.item_id).filter((i) => i))].map(async (id) => {
        try {
          items[id] = (await q.api.get(`/api/v1/records/item/${id}`)).label;
        } catch (error) {
          items[id] = `#${id}`;
        }
      }));
      this.lines = (doc.lines || []).filter((l) => !l.is_line_group && !l.group_qb_line_id)
        .map((l) => this.newLine(l, items[l.item_id]));
      this.reindex();
    },

    newLine(line, itemLabel) {
      lineSeq += 1;
      const row = { key: `l${lineSeq}`, id: line ? line.id : null, index: 0,
        itemId: line && line.item_id ? String(line.item_id) : null,
        itemLabel: itemLabel || "", query: "", options: [], expanded: "false", open: false, error: "", hasError: false,
        ids: {} };
      this.lineKeys.forEach((k) => {
        row[k] = line && line[k] !== null && line[k] !== undefined ? String(line[k]) : "";
        row.ids[k] = `line${lineSeq}-${k}`;
      });
      row.itemInputId = `line${lineSeq}-item`;
      row.optionsId = `line${lineSeq}-items`;
      row.original = line ? this.lineBody(row) : null;
      return row;
    },

    reindex() {
      this.lines.forEach((line, i) => {
        line.index = i;
        line.removeLabel = `Remove line ${i + 1}`;
        line.chosenText = line.itemId ? `Item: ${line.itemLabel}` : "No item chosen";
      });
    },

    // --- pickers --------------------------------------------------------------------------

    async search(target, text) {
      const params = new URLSearchParams({ limit: "10" });
      if (text) params.set("q", text);
      const page = await q.api.get(`/api/v1/records/${target}?${params}`);
      return page.records.filter((r) => r.sync_state !== "deleted");
    },

    async searchRef(event) {
      const field = event.target.dataset.field;
      const picker = this.pickers[field];
      try {
        const found = await this.search(picker.target, event.target.value.trim());
        picker.options = found.map((doc) => option(doc, picker.id));
        picker.open = picker.options.length > 0;
        picker.expanded = picker.open ? "true" : "false";
      } catch (error) {
        this.alert = error.message;
      }
    },

    choose(field, id, label) {
      const picker = this.pickers[field];
      picker.id = id;
      picker.label = label;
      picker.expanded = "false";
      picker.open = false;
      picker.chosenText = id ? `Chosen: ${label}` : "None chosen";
    },

    pickRef(event) {
      const el = event.currentTarget;
      this.choose(el.dataset.field, el.dataset.id, el.dataset.label);
      const input = this.$root.querySelector(`input[data-kind=ref][data-field="${el.dataset.field}"]`);
      input.value = "";
      input.focus();
    },

    async searchLineItems(event) {
      const line = this.lines[Number(event.target.dataset.index)];
      line.query = event.target.value;
      try {
        const found = await this.search("item", line.query.trim());
        line.options = found.map((doc) => option(doc, line.itemId));
        line.open = line.options.length > 0;
        line.expanded = line.open ? "true" : "false";
      } catch (error) {
        this.alert = error.message;
      }
    },

    pickLineItem(event) {
      const el = event.currentTarget;
      const line = this.lines[Number(el.dataset.index)];
      line.itemId = el.dataset.id;
      line.itemLabel = el.dataset.label;
      line.query = "";
      line.expanded = "false";
      line.open = false;
      this.linesTouched = true;
      this.reindex();
    },

    // --- lines ----------------------------------------------------------------------------

    addLine() {
      this.lines.push(this.newLine(null, ""));
      this.linesTouched = true;
      this.reindex();
    },

    removeLine(event) {
      this.lines.splice(Number(event.currentTarget.dataset.index), 1);
      this.linesTouched = true;
      this.reindex();
    },

    setLine(event) {
      const line = this.lines[Number(event.target.dataset.index)];
      line[event.target.dataset.key] = event.target.value;
      this.linesTouched = true;
    },

    lineBody(line) {
      const body = {};
      if (line.id) body.id = line.id;
      body.item_id = line.itemId ? Number(line.itemId) : null;
      this.lineKeys.forEach((k) => {
        body[k] = line[k].trim() === "" ? null : line[k].trim();
      });
      return body;
    },

    // --- saving ---------------------------------------------------------------------------

    values() {
      const values = {};
      this.inputs().forEach((el) => {
        const field = el.dataset.field;
        if (el.dataset.kind === "ref") return;
        if (el.dataset.kind === "bool") values[field] = el.checked;
        else if (el.dataset.part) {
          values[field] = values[field] || {};
          if (el.value.trim()) values[field][el.dataset.part] = el.value.trim();
        } else values[field] = el.value.trim() === "" ? null : el.value.trim();
      });
      Object.keys(values).forEach((k) => {
        if (values[k] && typeof values[k] === "object" && !Object.keys(values[k]).length) values[k] = null;
      });
      Object.entries(this.pickers).forEach(([field, picker]) => {
        values[field] = picker.id ? Number(picker.id) : null;
      });
      return values;
    },

    body() {
      const values = this.values();
      const fields = {};
      Object.entries(values).forEach(([k, v]) => {
        if (this.original) {
          const was = this.original.fields[k];
          const wasAddress = was && typeof was === "object" ? Object.fromEntries(
            Object.entries(was).filter(([, part]) => part)) : was;
          if (!same(wasAddress, v) && !(v === null && (was === null || was === ""))) fields[k] = v;
        } else if (v !== null) fields[k] = v;
      });
      const body = { fields };
      const hasLines = this.$root.querySelector("[data-testid=form-lines]") !== null;
      if (hasLines && (this.linesTouched || !this.original)) body.lines = this.lines.map((l) => this.lineBody(l));
      return body;
    },

    clearErrors() {
      this.$root.querySelectorAll(".is-invalid").forEach((el) => el.classList.remove("is-invalid"));
      this.$root.querySelectorAll("[data-error-for]").forEach((el) => {
        el.textContent = "";
        el.classList.remove("d-block");
      });
      this.lines.forEach((line) => { line.error = ""; line.hasError = false; });
      this.alert = "";
    },

    /** The API's message at the field it names; anything else above the form. */
    showError(error) {
      const match = FIELD_ERROR.exec(error.message || "");
      if (error.status === 400 && match && match[1] !== undefined && this.lines[Number(match[1])]) {
        const line = this.lines[Number(match[1])];
        line.error = error.message;
        line.hasError = true;
        return;
      }
      const feedback = match && this.$root.querySelector(`[data-error-for="${match[2]}"]`);
      if (error.status === 400 && feedback) {
        feedback.textContent = error.message;
        feedback.classList.add("d-block");
        const inputs = this.$root.querySelectorAll(`[data-field="${match[2]}"]`);
        inputs.forEach((el) => {
          if (el.tagName !== "LI") {
            el.classList.add("is-invalid");
            el.setAttribute("aria-describedby", feedback.id || "");
          }
        });
        const first = [...inputs].find((el) => el.tagName !== "LI");
        if (first) first.focus();
        return;
      }
      this.alert = error.message;
    },

    async save() {
      this.clearErrors();
      this.saving = true;
      try {
        const body = this.body();
        const doc = this.original
          ? await q.api.patch(`/api/v1/records/${this.objectName}/${this.recordId}`, body)
          : await q.api.post(`/api/v1/records/${this.objectName}`, body);
        window.location.assign(`/records/${this.objectName}/${doc.id}?saved=1`);
      } catch (error) {
        this.showError(error);
        this.saving = false;
      }
    },

    get hasAlert() { return this.alert !== ""; },
    get noLines() { return this.lines.length === 0; },
  }));
});
