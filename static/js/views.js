/* View models: API documents turned into ready-to-show strings and flags. The Alpine CSP build
 * only evaluates property references in templates, so everything a template needs — labels,
 * classes, bar widths, aria values — is computed here, never in an attribute. */
(function () {
  "use strict";
  const q = window.qbsync;
  const fmt = q.format;

  function displayName(names, name) {
    return (names && names[name]) || name;
  }

  function bar(value) {
    return { percent: value, percentText: `${value}%`, barStyle: { width: `${value}%` } };
  }

  function countsText(totals) {
    return q.COUNTS.map((k) => `${fmt.number(totals[k] || 0)} ${k}`).join(" · ");
  }

  function objectRow(run, names) {
    const status = fmt.status(run.stalled ? "stalled" : run.status);
    // A skipped object counts as settled in the session's percentage, but its own bar shows
    // the truth: nothing of it ran.
    const skipped = run.status === "skipped";
    const value = skipped ? 0 : q.progress.percent(q.progress.objectFraction(run));
    const counted = run.total !== null && run.total !== undefined;
    return {
      key: run.name,
      name: run.name,
      displayName: displayName(names, run.name),
      statusLabel: status.label,
      badgeClass: `badge ${status.badge}`,
      reason: run.reason === "selected" || !run.reason ? "" : run.reason.replace(
        /^needed by (\w+)$/, (_m, n) => `needed by ${displayName(names, n)}`),
      progressText: skipped ? "Not run: the sync ended first"
        : (counted ? `${fmt.number(run.processed)} of ${fmt.number(run.total)}`
          : (run.status === "pending" ? "Not started" : `${fmt.number(run.processed)} so far`)),
      ariaLabel: `${displayName(names, run.name)} progress`,
      created: fmt.number(run.created),
      updated: fmt.number(run.updated),
      unchanged: fmt.number(run.unchanged),
      deleted: fmt.number(run.deleted),
      pushed: fmt.number(run.pushed),
      conflicts: fmt.number(run.conflicts),
      failed: fmt.number(run.failed),
      apiCalls: fmt.number(run.api_calls),
      hasFailures: run.failed > 0,
      failedClass: run.failed > 0 ? "text-danger fw-semibold" : "",
      total: fmt.number(run.total),
      processed: fmt.number(run.processed),
      ...bar(value),
      barClass: run.status === "failed" ? "progress-bar bg-danger"
        : (run.status === "running" ? "progress-bar progress-bar-striped progress-bar-animated"
          : "progress-bar"),
    };
  }

  function totals(doc) {
    const sums = {};
    q.COUNTS.forEach((k) => { sums[k] = 0; });
    (doc.objects || []).forEach((run) => q.COUNTS.forEach((k) => { sums[k] += run[k] || 0; }));
    return sums;
  }

  /** "1,400 of 2,000 records" once the sync has ended; while it runs, the total only counts
   * what the objects' listings have announced so far (an object not started, the next item
   * kind, the next window of adjustments add to it), so it is a floor: "of at least". Before
   * anything is announced it says what the sync waits for; a sync that stopped part-way says
   * what it synced and which objects it did not finish, as its bar does. */
  function recordsText(doc, names) {
    const done = fmt.number(doc.processed_records);
    if (q.isActive(doc.status)) {
      if (!doc.processed_records && !doc.total_records) {
        if (doc.status === "pending") return "None yet: waiting for a worker to start it";
        if (doc.status === "running") return "None yet: waiting for QuickBooks to answer";
        return "None read";
      }
      return `${done} of at least ${fmt.number(doc.total_records)} records`;
    }
    const unfinished = (doc.objects || []).filter((run) => run.status !== "completed");
    if (doc.status !== "completed" && unfinished.length) {
      const how = doc.status === "cancelled" ? "was cancelled" : "stopped";
      const which = unfinished.map((run) => displayName(names, run.name)).join(", ");
      return `${done} records synced before it ${how}; not finished: ${which}`;
    }
    return `${done} of ${fmt.number(doc.total_records)} records`;
  }

  /** What to say of an active session no worker is attending, and what staff can do. */
  function stalledNote(doc) {
    if (!doc.stalled) return "";
    if (doc.status === "pending") {
      return "No worker has picked this sync up yet. Check that a worker is running: the sync "
        + "starts when one does.";
    }
    if (doc.status === "cancelling") {
      return "No worker has reported on this sync since it was asked to stop, so nothing will "
        + "end it: “End it now” on the dashboard ends it here.";
    }
    return "The worker has not reported for a while. Check that a worker is running: the sync "
      + "carries on from its last saved point when one picks it up.";
  }

  /** Everything the templates show about one session. `rate` is records/s or null. */
  function session(doc, names, rate) {
    const withErrors = doc.status === "completed" && doc.error_count > 0;
    const status = fmt.status(withErrors ? "completed_with_errors" : doc.status);
    const active = q.isActive(doc.status);
    const left = active && doc.status === "running" ? q.progress.secondsLeft(doc, rate) : null;
    const objects = doc.objects || [];
    const sums = totals(doc);
    let record = "";
    if (active && doc.current_object) {
      record = displayName(names, doc.current_object);
      if (doc.current_record_label) record += ` — ${doc.current_record_label}`;
      else if (doc.current_record_id) record += ` — QuickBooks record ${doc.current_record_id}`;
    }
    return {
      id: doc.id,
      href: `/sessions/${doc.id}`,
      errorsHref: `/sessions/${doc.id}#errors`,
      title: `Sync #${doc.id}`,
      status: doc.status,
      statusLabel: status.label,
      badgeClass: `badge ${status.badge}`,
      active,
      ended: !active,
      cancelling: doc.status === "cancelling",
      stalled: Boolean(doc.stalled),
      stalledNote: stalledNote(doc),
      cancelNote: doc.status === "cancelling"
        ? "Stopping after the current page. Records already saved are kept." : "",
      modeLabel: doc.mode === "full" ? "Full (everything)" : "Incremental (changes only)",
      startedAt: fmt.dateTime(doc.started_at || doc.created_at),
      startedIso: doc.started_at || doc.created_at || "",
      completedAt: fmt.dateTime(doc.completed_at),
      completedIso: doc.completed_at || "",
      duration: fmt.duration(doc.duration_s),
      createdBy: doc.created_by || "—",
      objectsLabel: objects.map((r) => displayName(names, r.name)).join(", ") || "—",
      selectedLabel: (doc.selected_objects || []).map((n) => displayName(names, n)).join(", "),
      currentRecord: record || "—",
      rateText: rate === null || rate === undefined ? "—" : `${fmt.number(Math.round(rate))} records/s`,
      timeLeft: left === null ? (active ? "Estimating…" : "—") : `about ${fmt.duration(left)}`,
      records: recordsText(doc, names),
      countsText: countsText(sums),
      counts: Object.fromEntries(q.COUNTS.map((k) => [k, fmt.number(sums[k])])),
      errorCount: doc.error_count,
      hasErrors: doc.error_count > 0,
      errorsLabel: doc.error_count ? fmt.plural(doc.error_count, "error", "errors") : "No errors",
      noErrorsText: doc.error_count ? "" : "None",
      failureReason: doc.failure_reason || "",
      hasFailureReason: Boolean(doc.failure_reason),
      ...bar(doc.progress_percentage),
      ariaValueText: `${doc.progress_percentage}% — ${status.label}`,
      barClass: doc.status === "failed" ? "progress-bar bg-danger"
        : (doc.status === "running" ? "progress-bar progress-bar-striped progress-bar-animated"
          : (doc.status === "completed" ? "progress-bar bg-success" : "progress-bar")),
      objects: objects.map((run) => objectRow(run, names)),
      oneRecord: Boolean(doc.only_record),
      oneRecordText: doc.only_record
        ? `This sync covered one record only (“Sync this record now”): ${displayName(names, doc.only_record.object)} #${doc.only_record.id}.` : "",
      oneRecordHref: doc.only_record ? `/records/${doc.only_record.object}/${doc.only_record.id}` : "",
    };
  }

  function syncError(error, names) {
    return {
      key: String(error.id),
      object: displayName(names, error.object_type),
      qbId: error.object_id || "—",
      label: error.record_label || "",
      hasLabel: Boolean(error.record_label),
      phase: error.phase === "push" ? "Sending to QuickBooks" : "Reading from QuickBooks",
      code: error.code,
      message: error.message,
      hasRecord: Boolean(error.local_id),
      recordHref: error.local_id ? `/records/${error.object_type}/${error.local_id}` : "",
      at: fmt.dateTime(error.created_at),
      atIso: error.created_at || "",
    };
  }

  function valueText(value) {
    return q.records ? q.records.valueText(value) : String(value);
  }

  /** One conflict of a session: the record, the field, both values, who won and why. */
  function conflict(doc, names, index) {
    const wms = doc.winner === "wms";
    return {
      key: `${doc.record_id}-${doc.field}-${index}`,
      object: displayName(names, doc.object_type),
      label: doc.record_label || (doc.record_id ? `#${doc.record_id}` : doc.qb_id || "—"),
      hasRecord: Boolean(doc.record_id),
      recordHref: doc.record_id ? `/records/${doc.object_type}/${doc.record_id}` : "",
      field: (doc.field || "").replace(/_/g, " "),
      wmsValue: valueText(doc.wms_value),
      quickbooksValue: valueText(doc.quickbooks_value),
      base: valueText(doc.base),
      winner: wms ? "The warehouse won" : "QuickBooks won",
      winnerClass: wms ? "badge text-bg-primary" : "badge text-bg-info",
      rule: doc.rule,
      at: fmt.dateTime(doc.created_at),
    };
  }

  window.qbsync.views = { session, syncError, displayName, conflict };
})();
