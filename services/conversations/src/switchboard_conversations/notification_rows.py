"""The set-based statements of a batch of ERP events (`notifications.py`): each event's row (the claim
that makes a repeat a duplicate), what was decided for it, the blocklist, and each order's stage."""

from __future__ import annotations

from sqlalchemy import text

from .tables import SCHEMA

N, PROGRESS, BLOCKLIST = f"{SCHEMA}.notifications", f"{SCHEMA}.order_progress", f"{SCHEMA}.directory_blocklist"
KEYS = "unnest(CAST(:orgs AS text[]), CAST(:sources AS text[]), CAST(:ids AS text[]))"
MATCH = "n.org_id = u.o AND n.erp_source = u.s AND n.erp_event_id = u.i"

CLAIM = text(f"""
    INSERT INTO {N} (org_id, erp_source, erp_event_id, event, order_id, outcome, erp_seq)
    SELECT o, s, i, e, ord, 'pending', seq
    FROM unnest(CAST(:orgs AS text[]), CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:events AS text[]),
                CAST(:orders AS text[]), CAST(:seqs AS bigint[])) AS u(o, s, i, e, ord, seq)
    ON CONFLICT DO NOTHING
    RETURNING org_id, erp_source, erp_event_id""")
EARLIER = text(f"""SELECT n.org_id, n.erp_source, n.erp_event_id, n.erp_seq FROM {N} n
                   JOIN {KEYS} AS u(o, s, i) ON {MATCH}""")
DECIDED = text(f"""
    UPDATE {N} AS n SET outcome = u.oc, reason = u.r, message_id = u.m, rule_id = u.ru, at = now()
    FROM unnest(CAST(:orgs AS text[]), CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:outcomes AS text[]),
                CAST(:reasons AS text[]), CAST(:mids AS text[]), CAST(:rules AS text[])) AS u(o, s, i, oc, r, m, ru)
    WHERE {MATCH}""")
RELEASE = text(f"DELETE FROM {N} AS n USING {KEYS} AS u(o, s, i) WHERE {MATCH}")
BLOCKED = text(f"""SELECT b.org_id, b.phone FROM {BLOCKLIST} b
                   JOIN unnest(CAST(:orgs AS text[]), CAST(:phones AS text[])) AS u(o, p) ON b.org_id = u.o AND b.phone = u.p""")
STAGES = text(f"""SELECT p.org_id, p.order_id, p.stage FROM {PROGRESS} p
                  JOIN unnest(CAST(:orgs AS text[]), CAST(:orders AS text[])) AS u(o, ord)
                    ON p.org_id = u.o AND p.order_id = u.ord
                  ORDER BY p.org_id, p.order_id FOR UPDATE OF p""")
ADVANCE = text(f"""
    INSERT INTO {PROGRESS} (org_id, order_id, stage, event)
    SELECT * FROM unnest(CAST(:orgs AS text[]), CAST(:orders AS text[]), CAST(:stages AS int[]), CAST(:events AS text[]))
    ON CONFLICT (org_id, order_id) DO UPDATE SET stage = GREATEST({PROGRESS}.stage, excluded.stage),
        event = CASE WHEN excluded.stage >= {PROGRESS}.stage THEN excluded.event ELSE {PROGRESS}.event END, at = now()""")
