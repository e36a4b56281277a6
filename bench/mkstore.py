"""mkstore.py - grow a seeded mailsink store to N messages with SQL.

The seed is a store that mailsink itself wrote (smtpload.py send --varied,
so every row went through the real server).  This script copies those
rows FACTOR-1 more times with INSERT ... SELECT, in one transaction per
copy.  Copy k (k = 1 .. FACTOR-1) gets ids shifted by k * SEED, received
times k whole spans later (the seed is first moved back, so the newest
copy ends at the seed's real times), and every address rewritten from
local@domain to local.rK@domain (envelope, recipients and headers), so an
address search in the big store stays as selective as it is in real life.
Bodies are copied as they are.  No ANALYZE is run: the store is left
as mailsink itself would have it.

It knows the tables of schema version 3 (store_schema.c); any other table
that has a message_id column is copied with the id shifted, and FTS5
tables are kept complete: one that triggers fill is left alone, an
external-content one is rebuilt, and one the server fills itself (schema
2's 'search') is copied by rowid with the same address rewriting; schema
3's 'indexed' then says every copy is indexed.  Anything it cannot
handle is reported on stderr, and bench.py checks the result with real
`mailsink list` queries before timing them.
"""
import argparse
import json
import sqlite3
import sys
import time

ADDR_COLS = ("mail_from", "from_hdr", "to_hdr", "cc_hdr", "message_id")


def columns(db, table):
    return [r[1] for r in db.execute("PRAGMA table_xinfo(%s)" % q(table))
            if r[6] in (0,)]  # hidden 0: ordinary column


def q(name):
    return '"%s"' % name.replace('"', '""')


def addr_expr(col, k):
    # local@domain -> local.rK@domain for every @ in the value.
    return "replace(%s, '@', '.r%d@')" % (q(col), k)


def tables(db):
    rows = db.execute("SELECT name, type, sql FROM sqlite_schema "
                      "WHERE type = 'table'").fetchall()
    return [(n, s or "") for n, t, s in rows]


def fts_tables(db):
    return [(n, s) for n, s in tables(db)
            if s.upper().startswith("CREATE VIRTUAL TABLE")
            and "FTS5" in s.upper()]


def count(db, table):
    return db.execute("SELECT count(*) FROM %s" % q(table)).fetchone()[0]


def copy_messages(db, k, seed, later_hours):
    cols = columns(db, "messages")
    sel = []
    for c in cols:
        if c == "id":
            sel.append("id + %d" % (k * seed))
        elif c == "received":
            sel.append("strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', received, "
                       "'+%d hours')" % later_hours)
        elif c in ADDR_COLS:
            sel.append(addr_expr(c, k))
        else:
            sel.append(q(c))
    db.execute("INSERT INTO messages (%s) SELECT %s FROM messages "
               "WHERE id <= ? ORDER BY id" %
               (", ".join(q(c) for c in cols), ", ".join(sel)), (seed,))


def copy_child(db, table, k, seed):
    cols = columns(db, table)
    sel = []
    for c in cols:
        if c == "message_id":
            sel.append("message_id + %d" % (k * seed))
        elif c == "addr" and table == "recipients":
            sel.append(addr_expr(c, k))
        elif c == "id" and table != "bodies":
            sel.append("NULL")  # a fresh rowid
        else:
            sel.append(q(c))
    db.execute("INSERT INTO %s (%s) SELECT %s FROM %s WHERE message_id <= ?"
               % (q(table), ", ".join(q(c) for c in cols), ", ".join(sel),
                  q(table)), (seed,))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--factor", type=int, required=True)
    a = ap.parse_args()
    t0 = time.monotonic()
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    seed = db.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
    nseed = count(db, "messages")
    if nseed == 0 or seed != nseed:
        print("mkstore: seed has %d messages, max id %s: need ids 1..N"
              % (nseed, seed), file=sys.stderr)
        return 1
    # Schema 3 indexes after the 250: the seed must be fully indexed
    # before its index rows are copied (a `mailsink list WORD` does it).
    has_upto = "indexed" in [n for n, _ in tables(db)]
    if has_upto:
        upto = db.execute("SELECT upto FROM indexed").fetchone()[0]
        if upto != seed:
            print("mkstore: the seed is indexed up to id %d of %d: run a "
                  "search on it first" % (upto, seed), file=sys.stderr)
            return 1
    fts = fts_tables(db)
    shadow = {n + sfx for n, _ in fts for sfx in
              ("_data", "_idx", "_content", "_docsize", "_config")}
    children = []
    skipped = []
    for name, sql in tables(db):
        if name in ("messages", "sqlite_sequence", "indexed") or \
                name in shadow:
            continue
        if any(name == f for f, _ in fts):
            continue
        if "message_id" in columns(db, name):
            children.append(name)
        else:
            skipped.append(name)
    fts_before = {f: count(db, f) for f, _ in fts}
    span = 1 + int(db.execute(
        "SELECT (julianday(max(received)) - julianday(min(received))) * 24 "
        "FROM messages").fetchone()[0] or 0)
    # The seed becomes the oldest copy, so that ids and received times
    # grow together as they do in a real store.
    db.execute("UPDATE messages SET received = strftime('%%Y-%%m-%%dT%%H:"
               "%%M:%%fZ', received, '-%d hours')" % ((a.factor - 1) * span))
    for k in range(1, a.factor):
        db.execute("BEGIN")
        copy_messages(db, k, seed, k * span)
        for t in children:
            copy_child(db, t, k, seed)
        db.execute("COMMIT")
    total = count(db, "messages")
    notes = []
    # A full-text table filled by triggers on messages is complete now;
    # one filled by the server is not, and is copied or rebuilt here.
    for f, sql in fts:
        n = count(db, f)
        if n >= total:
            continue
        low = sql.lower().replace(" ", "")
        if "content=''" in low or 'content=""' in low:
            notes.append("%s: contentless FTS5, left with %d of %d rows"
                         % (f, n, total))
        elif "content=" in low:
            db.execute("INSERT INTO %s(%s) VALUES('rebuild')" % (q(f), q(f)))
            notes.append("%s: external-content FTS5 rebuilt" % f)
        elif n == fts_before[f]:
            # The server fills this index itself: copy each row with the
            # addresses in it rewritten as in the tables it indexes.
            cols = columns(db, f)
            db.execute("BEGIN")
            for k in range(1, a.factor):
                db.execute("INSERT INTO %s(rowid, %s) SELECT rowid + %d, %s "
                           "FROM %s WHERE rowid <= ?" %
                           (q(f), ", ".join(q(c) for c in cols), k * seed,
                            ", ".join(addr_expr(c, k) for c in cols), q(f)),
                           (seed,))
            db.execute("COMMIT")
            notes.append("%s: FTS5 rows copied by rowid, addresses "
                         "rewritten" % f)
        else:
            notes.append("%s: FTS5 has %d of %d rows; not repaired"
                         % (f, n, total))
    if has_upto:
        # Every copy is indexed: it went in with the index rows above.
        db.execute("UPDATE indexed SET upto = (SELECT max(id) FROM "
                   "messages)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    out = {"seed": seed, "factor": a.factor, "messages": total,
           "children": children, "skipped": skipped, "notes": notes,
           "elapsed": time.monotonic() - t0}
    print(json.dumps(out), flush=True)
    for n in notes:
        print("mkstore: " + n, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
