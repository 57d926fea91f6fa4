"""The pull: QuickBooks into the WMS mirror, one object at a time (DESIGN §5, pull steps).

- `lists` and `pulls` read list objects (by name) and transactions (in date windows), through
  `paging` (one page ahead, cursor rules);
- `writer` writes each page in one transaction — references resolved by `refs`, the WMS's own
  changes merged in (webapp.sync.merge), every change in the ledger;
- `refresh` reads again what transactions changed without a new revision, `deletions` applies
  QuickBooks' deletions, `rewind` notices a company file that went back in time.

The push (webapp.sync.push) is the other half; webapp.sync.engine runs one after the other.
"""
