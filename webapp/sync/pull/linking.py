"""A page's references: QuickBooks ids become local foreign keys (fetching what the WMS lacks,
through `refs.RefResolver`), records whose reference QuickBooks cannot find fail alone, and rows
written later are linked to those that named them before.

`Linking` is `PageWriter`'s half that does it; it uses the writer's resolver, its failed
records (`unwritable`) and its error reporting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from webapp.extensions import db

if TYPE_CHECKING:
    from webapp.sync.pull.writer import Mapped, PageResult


class Linking:
    """References of a page, for `PageWriter`."""

    def _resolve(self, obj, changed: list[Mapped], result: PageResult) -> list[Mapped]:
        """Resolve references; records whose reference QuickBooks cannot find fail alone.
        An `unmirrored` reference (a line's item) is matched against the WMS's rows only."""
        in_page = {m.qb_id for m in changed}
        wanted: dict[str, set[str]] = {}
        local_only: dict[str, set[str]] = {}
        for m in changed:
            for ref, qb_id in m.pairs:
                if not (ref.target == obj.name and qb_id in in_page):
                    (local_only if ref.unmirrored else wanted).setdefault(
                        ref.target, set()).add(qb_id)
        self.local = self.resolver.resolve(wanted)
        for target, qb_ids in local_only.items():
            held = self.local.setdefault(target, {})
            held.update(self.resolver.local_ids(target, qb_ids - held.keys()))
        broken = {}
        for m in changed:
            found = self._broken_ref(obj, m, in_page)
            if found is not None:
                broken[m.qb_id] = found
        # A record whose parent on this page fails fails with it: written alone it would
        # keep no parent, and its revision does not move when the parent is mended.
        grew = bool(broken)
        while grew:
            grew = False
            for m in changed:
                parent = next((pair for pair in m.pairs if pair[0].target == obj.name
                               and pair[1] in broken), None)
                if parent is not None and m.qb_id not in broken:
                    broken[m.qb_id], grew = parent, True
        kept = []
        for m in changed:
            if m.qb_id not in broken:
                kept.append(m)
                continue
            result.failed += 1
            self._note_failed(result, m.updated_at)
            if (obj.name, m.qb_id) in self.unwritable:
                continue  # reported already in this session
            self.unwritable.add((obj.name, m.qb_id))
            ref, qb_id = broken[m.qb_id]
            label = m.label or m.qb_id
            failed_too = (ref.target, qb_id) in self.unwritable or (
                ref.target == obj.name and qb_id in broken)
            why = ("which could not be synced (see its own error)"
                   if failed_too else "which QuickBooks cannot find. Correct it in QuickBooks:"
                   " the next sync reads it again")
            self.report_error(
                obj, {"id": m.qb_id}, "broken_reference",
                f"{obj.display_name}: {label} refers to {ref.target.replace('_', ' ')} {qb_id},"
                f" {why}.", label=m.label,
            )
        return kept

    def _broken_ref(self, obj, m: Mapped, in_page: set[str]):
        for ref, qb_id in m.pairs:
            if ref.target == obj.name and qb_id in in_page:
                continue
            if qb_id not in self.local.get(ref.target, {}) and not ref.unmirrored:
                return ref, qb_id
        return None

    def _link_self_refs(self, obj, changed: list[Mapped], ids: dict[str, int]) -> None:
        """Parents on the same page get their local id once the page is written."""
        table = obj.model.__table__
        for ref in obj.refs:
            if ref.target != obj.name:
                continue
            links = [
                {"_id": ids[m.qb_id], "_parent": ids[m.refs[ref]]}
                for m in changed if m.refs.get(ref) in ids and m.qb_id in ids
            ]
            if links:
                stmt = update(table).where(table.c.id == db.bindparam("_id")).values(
                    {ref.column: db.bindparam("_parent")}
                )
                db.session.execute(stmt, links, execution_options={"synchronize_session": False})

    def _link_waiting_lines(self, obj, created: list[str]) -> None:
        """Lines that named a record of `obj` before the WMS had it (an item created in
        QuickBooks after the items were pulled: `Ref.unmirrored` references are never looked
        up) get its local id once it is written."""
        if not created:
            return
        table = obj.model.__table__
        for other in self.resolver.registry.all():
            for ref in other.line_refs:
                if ref.target != obj.name or not ref.unmirrored:
                    continue
                lines = other.line_model.__table__
                found = (select(table.c.id).where(table.c.qb_id == lines.c[ref.qb_column])
                         .scalar_subquery())
                db.session.execute(
                    update(lines).where(lines.c[ref.column].is_(None),
                                        lines.c[ref.qb_column].in_(created))
                    .values({ref.column: found,
                             **({"item_name": None} if "item_name" in lines.c else {})}),
                    execution_options={"synchronize_session": False})
