-- An experiment toward the in- and outflow report's next step
-- (docs/benchmarks.md, "Machine D, and a table of trajectory events measured
-- as a prototype"): would one row per client and trajectory event, carrying
-- the client's state on that day, make tables 3–8 cheaper to count than the
-- report's way of today? Run by hand with psql on a benchmark database
-- (PostgreSQL only), as a superuser:
--
--   psql -h 127.0.0.1 -U postgres -d clientvolg_bench_<uuid> -f benches/sql/prototype_trajectory_events.sql
--
-- It
-- 1. builds the event table from the trajectories' latest versions and the
--    clients' current timelines (`prototype_events`, an unlogged table, with
--    VACUUM ANALYZE as the benchmark gives the report's tables);
-- 2. counts the cube of tables 3–8's trajectory columns (doorverwezen,
--    ingestroomd, uitstroom werk regulier and gesubsidieerd, uitstroom zonder
--    werk) for each half of the gemeente's clients twice: the report's way
--    (each client's latest events grouped from its trajectories, joined to the
--    timeline segment holding each event's day: the part of the statement the
--    report sends, src/reports/inflow_outflow.rs, that counts these columns,
--    written out by hand) and from the event table (a filtered scan, no
--    grouping per client and no join);
-- 3. times, for the projection, what the report counts besides, which the
--    event table would not change (its statements as they are, not compared);
-- 4. fails (division by zero) unless both ways of step 2 give the same cube,
--    and leaves `prototype_events` for a look then (the next run drops it
--    first); else drops it.
-- psql prints each statement's time (\timing): the eight EXECUTEs are the
-- figures. The report's settings are used (src/reports/sql.rs); the other
-- tables it makes are temporary and go with the session.

\set ON_ERROR_STOP on
\set gemeente '0363'
\set first '2025-01-01'
\set last '2025-12-31'

SET work_mem = '256MB';
SET jit = off;
SET random_page_cost = 1.1;
SET max_parallel_workers_per_gather = 0;
DROP TABLE IF EXISTS prototype_events;

-- One row per client, kind of event (0 referral, 1 start, 2 work ending,
-- 3 ending without work) and day, with whether a work ending that day was
-- regulier, the client's next day with an event of the same kind, for an
-- ending without work the client's work endings around it, and the state of
-- the client's timeline on that day.
CREATE UNLOGGED TABLE prototype_events AS
WITH t AS (
    SELECT gemeente, client_id, referral_date, start_date, end_date, end_reason
    FROM trajectory_current
    WHERE gemeente = CAST(:'gemeente' AS CHAR(4))
),
raw AS (
    SELECT gemeente, client_id, 0 AS kind, referral_date AS day, false AS regulier FROM t
    UNION ALL
    SELECT gemeente, client_id, 1, start_date, false FROM t WHERE start_date IS NOT NULL
    UNION ALL
    SELECT gemeente, client_id, 2, end_date, end_reason = 'work_regular' FROM t
    WHERE end_reason IN ('work_regular', 'work_subsidised')
    UNION ALL
    SELECT gemeente, client_id, 3, end_date, false FROM t
    WHERE end_reason NOT IN ('work_regular', 'work_subsidised')
),
e AS (
    SELECT gemeente, client_id, kind, day, bool_or(regulier) AS regulier
    FROM raw GROUP BY gemeente, client_id, kind, day
),
w AS (
    SELECT e.*,
        lead(day) OVER (PARTITION BY client_id, kind ORDER BY day) AS next_same,
        max(CASE WHEN kind = 2 THEN day END) OVER (PARTITION BY client_id ORDER BY day, kind
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS work_before,
        min(CASE WHEN kind = 2 THEN day END) OVER (PARTITION BY client_id ORDER BY day, kind
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS work_after
    FROM e
)
SELECT w.gemeente, w.client_id, w.kind, w.day, w.regulier, w.next_same,
    CASE WHEN w.kind = 3 THEN w.work_before END AS work_before,
    CASE WHEN w.kind = 3 THEN w.work_after END AS work_after,
    s.kinds, s.first_start, s.next_bijstand_start, s.fase, s.doelgroepen, s.birth_date
FROM w
JOIN client_timeline s ON s.gemeente = w.gemeente AND s.client_id = w.client_id
    AND s.superseded_at IS NULL
    AND (s.valid_from IS NULL OR s.valid_from <= w.day)
    AND (s.valid_to IS NULL OR s.valid_to > w.day);
CREATE INDEX ON prototype_events (gemeente, day) INCLUDE (client_id, kind, regulier,
    next_same, work_before, work_after, kinds, first_start, next_bijstand_start, fase,
    doelgroepen, birth_date);
VACUUM ANALYZE prototype_events;

-- The report's calendar: per day of the period the day 183 days later and
-- the latest birth (registration start) with 276, 360, 690 (12, 36) full
-- months by then (src/domain/dates.rs: on a month's last day, every later
-- day of the month the edge reaches back to counts too).
CREATE TEMP TABLE cal AS
WITH d AS (SELECT day::date AS day FROM generate_series(:'first'::date, :'last'::date, '1 day') AS day),
m AS (SELECT d.day, edge.months, edge.i,
        CASE WHEN d.day = (date_trunc('month', d.day) + interval '1 month - 1 day')::date
             THEN (date_trunc('month', d.day - edge.months * interval '1 month') + interval '1 month - 1 day')::date
             ELSE (d.day - edge.months * interval '1 month')::date END AS latest
      FROM d CROSS JOIN (VALUES (0, 276), (1, 360), (2, 690), (3, 12), (4, 36)) AS edge (i, months))
SELECT d.day, d.day + 183 AS plus183,
    (SELECT latest FROM m WHERE m.day = d.day AND i = 0) AS age_0,
    (SELECT latest FROM m WHERE m.day = d.day AND i = 1) AS age_1,
    (SELECT latest FROM m WHERE m.day = d.day AND i = 2) AS age_2,
    (SELECT latest FROM m WHERE m.day = d.day AND i = 3) AS duration_0,
    (SELECT latest FROM m WHERE m.day = d.day AND i = 4) AS duration_1
FROM d;
ANALYZE cal;

-- The report's way, for the clients with ids in [$1, $2).
PREPARE report_way(uuid, uuid) AS
WITH tr AS (
    SELECT client_id, referral_date, start_date, end_date, end_reason
    FROM trajectory_current
    WHERE gemeente = CAST(:'gemeente' AS CHAR(4)) AND client_id >= $1 AND client_id < $2
      AND referral_date <= :'last' AND (end_date IS NULL OR end_date >= :'first')
),
pc AS (
    SELECT client_id,
        MAX(CASE WHEN referral_date BETWEEN :'first' AND :'last' THEN referral_date END) AS doorverwezen,
        MAX(CASE WHEN start_date BETWEEN :'first' AND :'last' THEN start_date END) AS ingestroomd,
        MAX(CASE WHEN end_date BETWEEN :'first' AND :'last'
            AND end_reason IN ('work_regular', 'work_subsidised') THEN end_date END) AS werk,
        MAX(CASE WHEN end_date BETWEEN :'first' AND :'last'
            AND end_reason = 'work_regular' THEN end_date END) AS regulier,
        MAX(CASE WHEN end_date BETWEEN :'first' AND :'last'
            AND end_reason NOT IN ('work_regular', 'work_subsidised') THEN end_date END) AS zonder
    FROM tr
    WHERE referral_date BETWEEN :'first' AND :'last' OR start_date BETWEEN :'first' AND :'last'
       OR end_date BETWEEN :'first' AND :'last'
    GROUP BY client_id
),
j AS MATERIALIZED (
    SELECT s.valid_from, s.valid_to, s.kinds, s.first_start, s.next_bijstand_start, s.fase,
        s.doelgroepen, s.birth_date, pc.doorverwezen, pc.ingestroomd, pc.werk, pc.regulier, pc.zonder
    FROM client_timeline s
    JOIN pc ON pc.client_id = s.client_id
    WHERE s.gemeente = CAST(:'gemeente' AS CHAR(4)) AND s.client_id >= $1 AND s.client_id < $2
      AND s.superseded_at IS NULL
      AND (s.valid_to IS NULL OR s.valid_to > :'first') AND (s.valid_from IS NULL OR s.valid_from <= :'last')
),
x AS (
    SELECT 0 AS col, doorverwezen AS d, kinds, first_start, next_bijstand_start, fase, doelgroepen, birth_date
    FROM j WHERE doorverwezen IS NOT NULL
      AND (valid_from IS NULL OR valid_from <= doorverwezen) AND (valid_to IS NULL OR valid_to > doorverwezen)
    UNION ALL
    SELECT 1, ingestroomd, kinds, first_start, next_bijstand_start, fase, doelgroepen, birth_date
    FROM j WHERE ingestroomd IS NOT NULL
      AND (valid_from IS NULL OR valid_from <= ingestroomd) AND (valid_to IS NULL OR valid_to > ingestroomd)
    UNION ALL
    SELECT CASE WHEN regulier = werk THEN 2 ELSE 3 END, werk, kinds, first_start, next_bijstand_start, fase,
        doelgroepen, birth_date
    FROM j WHERE werk IS NOT NULL
      AND (valid_from IS NULL OR valid_from <= werk) AND (valid_to IS NULL OR valid_to > werk)
    UNION ALL
    SELECT 5, zonder, kinds, first_start, next_bijstand_start, fase, doelgroepen, birth_date
    FROM j WHERE zonder IS NOT NULL AND werk IS NULL
      AND (valid_from IS NULL OR valid_from <= zonder) AND (valid_to IS NULL OR valid_to > zonder)
)
SELECT x.col, x.kinds, x.fase, x.doelgroepen,
    CASE WHEN x.birth_date <= cal.age_2 THEN 3 WHEN x.birth_date <= cal.age_1 THEN 2
         WHEN x.birth_date <= cal.age_0 THEN 1 ELSE 0 END AS age,
    CASE WHEN x.first_start IS NULL THEN -1 WHEN x.first_start <= cal.duration_1 THEN 2
         WHEN x.first_start <= cal.duration_0 THEN 1 ELSE 0 END AS duration,
    CASE WHEN x.next_bijstand_start <= cal.plus183 THEN 1 ELSE 0 END AS terugval,
    COUNT(*) AS n
FROM x JOIN cal ON cal.day = x.d
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- From the event table: the latest event of each kind in the period is the
-- one whose next event of that kind lies after it; an ending without work
-- counts when no work ending falls in the period.
PREPARE event_way(uuid, uuid) AS
WITH x AS (
    SELECT CASE e.kind WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN CASE WHEN e.regulier THEN 2 ELSE 3 END
           ELSE 5 END AS col,
        e.day AS d, e.kinds, e.first_start, e.next_bijstand_start, e.fase, e.doelgroepen, e.birth_date
    FROM prototype_events e
    WHERE e.gemeente = CAST(:'gemeente' AS CHAR(4)) AND e.client_id >= $1 AND e.client_id < $2
      AND e.day BETWEEN :'first' AND :'last'
      AND (e.next_same IS NULL OR e.next_same > :'last')
      AND (e.kind <> 3 OR ((e.work_before IS NULL OR e.work_before < :'first')
                           AND (e.work_after IS NULL OR e.work_after > :'last')))
)
SELECT x.col, x.kinds, x.fase, x.doelgroepen,
    CASE WHEN x.birth_date <= cal.age_2 THEN 3 WHEN x.birth_date <= cal.age_1 THEN 2
         WHEN x.birth_date <= cal.age_0 THEN 1 ELSE 0 END AS age,
    CASE WHEN x.first_start IS NULL THEN -1 WHEN x.first_start <= cal.duration_1 THEN 2
         WHEN x.first_start <= cal.duration_0 THEN 1 ELSE 0 END AS duration,
    CASE WHEN x.next_bijstand_start <= cal.plus183 THEN 1 ELSE 0 END AS terugval,
    COUNT(*) AS n
FROM x JOIN cal ON cal.day = x.d
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- What the report counts besides, unchanged by the event table, for the
-- projection: bestand and tables 1 and 2 from the timelines alone ...
PREPARE timeline_part(uuid, uuid) AS
WITH s AS MATERIALIZED (
    SELECT valid_from, valid_to, kinds, kinds_before, first_start, next_bijstand_start,
        next_instroom, next_uitstroom, fase, doelgroepen, birth_date
    FROM client_timeline
    WHERE gemeente = CAST(:'gemeente' AS CHAR(4)) AND client_id >= $1 AND client_id < $2
      AND superseded_at IS NULL
      AND (valid_to IS NULL OR valid_to > :'first'::date - 1)
      AND (valid_from IS NULL OR valid_from <= :'last'::date + 1)
),
bestand AS (
    SELECT 6 AS col, kinds, fase, doelgroepen,
        CASE WHEN birth_date <= cal.age_2 THEN 3 WHEN birth_date <= cal.age_1 THEN 2
             WHEN birth_date <= cal.age_0 THEN 1 ELSE 0 END AS age,
        CASE WHEN first_start IS NULL THEN -1 WHEN first_start <= cal.duration_1 THEN 2
             WHEN first_start <= cal.duration_0 THEN 1 ELSE 0 END AS duration,
        0 AS terugval, COUNT(*) AS n
    FROM s JOIN cal ON cal.day = :'last'
    WHERE kinds <> 0 AND (valid_from IS NULL OR valid_from <= :'last') AND (valid_to IS NULL OR valid_to > :'last')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
),
flows AS (
    SELECT CASE
        WHEN (valid_from IS NULL OR valid_from <= :'first'::date - 1) AND (valid_to IS NULL OR valid_to > :'first'::date - 1)
             AND kinds & 7 <> 0 THEN 7
        WHEN valid_from BETWEEN :'first' AND :'last' AND kinds & 7 <> 0 AND kinds_before & 7 = 0
             AND (next_instroom IS NULL OR next_instroom > :'last') THEN 8
        WHEN valid_from BETWEEN :'first'::date + 1 AND :'last'::date + 1 AND kinds_before & 7 <> 0 AND kinds & 7 = 0
             AND (next_uitstroom IS NULL OR next_uitstroom > :'last'::date + 1) THEN 9
        END AS col
    FROM s
)
SELECT * FROM bestand
UNION ALL
SELECT col, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(*) FROM flows WHERE col IS NOT NULL GROUP BY col;

-- ... and the counts per reïntegratiebedrijf and contract from the
-- trajectories.
PREPARE owners_part(uuid, uuid) AS
SELECT t.provider_id, t.contract_id,
    CASE WHEN t.end_date BETWEEN :'first' AND :'last' AND t.start_date IS NOT NULL THEN t.start_date END AS start_date,
    COUNT(CASE WHEN t.referral_date BETWEEN :'first' AND :'last' THEN 1 END) AS doorverwezen,
    COUNT(CASE WHEN t.start_date BETWEEN :'first' AND :'last' THEN 1 END) AS gestart,
    COUNT(CASE WHEN t.end_date BETWEEN :'first' AND :'last' AND t.end_reason = 'work_regular' THEN 1 END) AS regulier,
    COUNT(CASE WHEN t.end_date BETWEEN :'first' AND :'last' AND t.end_reason = 'work_subsidised' THEN 1 END) AS gesubsidieerd,
    COUNT(CASE WHEN t.end_date BETWEEN :'first' AND :'last'
        AND t.end_reason NOT IN ('work_regular', 'work_subsidised') THEN 1 END) AS zonder_werk,
    COUNT(CASE WHEN t.start_date <= :'last' AND (t.end_date IS NULL OR t.end_date > :'last') THEN 1 END) AS lopend,
    SUM(CASE WHEN t.end_date BETWEEN :'first' AND :'last' AND t.start_date IS NOT NULL
        THEN t.end_date - :'first'::date ELSE 0 END) AS end_ordinals,
    SUM(CASE WHEN t.end_date BETWEEN :'first' AND :'last' THEN t.cost_cents ELSE 0 END) AS cost
FROM trajectory_current t
WHERE t.gemeente = CAST(:'gemeente' AS CHAR(4)) AND t.client_id >= $1 AND t.client_id < $2
  AND t.referral_date <= :'last' AND (t.end_date IS NULL OR t.end_date >= :'first')
GROUP BY 1, 2, 3;

-- The two halves of the gemeente's clients, as the report splits them on
-- two connections.
SELECT '00000000-0000-0000-0000-000000000000' AS low, 'ffffffff-ffff-ffff-ffff-ffffffffffff' AS high,
    (SELECT id FROM client_current WHERE gemeente = CAST(:'gemeente' AS CHAR(4)) ORDER BY id
     OFFSET (SELECT count(*) / 2 FROM client_current WHERE gemeente = CAST(:'gemeente' AS CHAR(4)))
     LIMIT 1) AS middle \gset

\timing on
CREATE TEMP TABLE report_low AS EXECUTE report_way(:'low', :'middle');
CREATE TEMP TABLE events_low AS EXECUTE event_way(:'low', :'middle');
CREATE TEMP TABLE report_high AS EXECUTE report_way(:'middle', :'high');
CREATE TEMP TABLE events_high AS EXECUTE event_way(:'middle', :'high');
CREATE TEMP TABLE timeline_low AS EXECUTE timeline_part(:'low', :'middle');
CREATE TEMP TABLE timeline_high AS EXECUTE timeline_part(:'middle', :'high');
CREATE TEMP TABLE owners_low AS EXECUTE owners_part(:'low', :'middle');
CREATE TEMP TABLE owners_high AS EXECUTE owners_part(:'middle', :'high');
\timing off

SELECT count(*) AS differences FROM (
    (TABLE report_low UNION ALL TABLE report_high) EXCEPT ALL (TABLE events_low UNION ALL TABLE events_high)
    UNION ALL
    ((TABLE events_low UNION ALL TABLE events_high) EXCEPT ALL (TABLE report_low UNION ALL TABLE report_high))
) AS d \gset
SELECT (SELECT sum(n) FROM report_low) + (SELECT sum(n) FROM report_high) AS pairs, :differences AS differences;
-- Stops here, with an error, when the two ways differ.
SELECT 1 / CASE WHEN :differences = 0 THEN 1 ELSE 0 END AS same_cube;
DROP TABLE prototype_events;
