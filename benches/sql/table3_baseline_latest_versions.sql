-- The second baseline of the in- and outflow report benchmark: table 3
-- (trajectgegevens totaal) written by hand as one PostgreSQL query, the
-- way a data manager with SQL would count it (specs/mosa-report.md,
-- docs/reports.md) without the clients' timelines: from the episodes' and
-- clients' latest versions instead (the baseline until the timelines came;
-- `table3_baseline.sql` reads them). benches/inflow_outflow_report.rs times
-- it too and fails when its numbers differ from the report's table 3.
--
-- Parameters: $1 gemeente (text), $2 the transaction time to count at (µs
-- since the epoch, bigint), $3 first day of the period, $4 last day (dates).
-- Answer: one row per column of table 3 (1 doorverwezen, 2 ingestroomd,
-- 3 uitstroom_werk_regulier, 4 uitstroom_werk_gesubsidieerd, 5 uitstroom_werk,
-- 6 uitstroom_zonder_werk, 7 bestand) with the rows `totaal` and
-- `waarvan bijstand`.
WITH
-- The latest version as of $2 of each trajectory, episode and client: the
-- row in the table of latest versions when it was recorded by then, else
-- (the fact changed after $2) the newest version by then in the history.
tr AS (
    SELECT t.client_id, t.referral_date, t.start_date, t.end_date, t.end_reason
    FROM trajectory_current t
    WHERE t.gemeente = $1 AND t.recorded_at <= $2
    UNION ALL
    SELECT t.client_id, t.referral_date, t.start_date, t.end_date, t.end_reason
    FROM trajectory_versions t JOIN trajectory_current c ON c.id = t.id
    WHERE c.gemeente = $1 AND c.recorded_at > $2 AND t.recorded_at <= $2
      AND NOT EXISTS (
          SELECT 1 FROM trajectory_versions n
          WHERE n.id = t.id AND n.version > t.version AND n.recorded_at <= $2)
),
ep AS (
    SELECT r.client_id, r.kind, r.start_date, r.end_date
    FROM registration_current r
    WHERE r.gemeente = $1 AND r.recorded_at <= $2
    UNION ALL
    SELECT r.client_id, r.kind, r.start_date, r.end_date
    FROM registration_versions r JOIN registration_current c ON c.id = r.id
    WHERE c.gemeente = $1 AND c.recorded_at > $2 AND r.recorded_at <= $2
      AND NOT EXISTS (
          SELECT 1 FROM registration_versions n
          WHERE n.id = r.id AND n.version > r.version AND n.recorded_at <= $2)
),
cl AS (
    SELECT c.id FROM client_current c
    WHERE c.gemeente = $1 AND (c.recorded_at <= $2 OR EXISTS (
        SELECT 1 FROM client_versions v WHERE v.id = c.id AND v.recorded_at <= $2))
),
-- Per client the latest qualifying date in the period of each column.
per_client AS (
    SELECT client_id,
        MAX(referral_date) FILTER (WHERE referral_date BETWEEN $3 AND $4) AS doorverwezen,
        MAX(start_date) FILTER (WHERE start_date BETWEEN $3 AND $4) AS ingestroomd,
        MAX(end_date) FILTER (WHERE end_date BETWEEN $3 AND $4
            AND end_reason IN ('work_regular', 'work_subsidised')) AS werk,
        MAX(end_date) FILTER (WHERE end_date BETWEEN $3 AND $4
            AND end_reason = 'work_regular') AS regulier,
        MAX(end_date) FILTER (WHERE end_date BETWEEN $3 AND $4
            AND end_reason NOT IN ('work_regular', 'work_subsidised')) AS zonder
    FROM tr
    WHERE referral_date BETWEEN $3 AND $4 OR start_date BETWEEN $3 AND $4
       OR end_date BETWEEN $3 AND $4
    GROUP BY client_id
),
-- One row per (column, client) with the day its row is evaluated on.
events AS (
    SELECT 1 AS col, client_id, doorverwezen AS d FROM per_client WHERE doorverwezen IS NOT NULL
    UNION ALL
    SELECT 2, client_id, ingestroomd FROM per_client WHERE ingestroomd IS NOT NULL
    UNION ALL
    -- The kind of the latest work ending decides; on the same day regulier.
    SELECT 3, client_id, werk FROM per_client WHERE regulier = werk
    UNION ALL
    SELECT 4, client_id, werk FROM per_client WHERE werk > regulier OR (werk IS NOT NULL AND regulier IS NULL)
    UNION ALL
    SELECT 5, client_id, werk FROM per_client WHERE werk IS NOT NULL
    UNION ALL
    SELECT 6, client_id, zonder FROM per_client WHERE zonder IS NOT NULL AND werk IS NULL
    UNION ALL
    SELECT DISTINCT 7, client_id, CAST($4 AS date) FROM ep
    WHERE start_date <= $4 AND (end_date IS NULL OR end_date >= $4)
),
-- The (column, client) pairs in bijstand on their evaluation day.
in_bijstand AS (
    SELECT DISTINCT e.col, e.client_id
    FROM events e
    JOIN ep ON ep.client_id = e.client_id
    WHERE ep.kind IN ('BIJSTAND', 'IOAW', 'IOAZ')
      AND ep.start_date <= e.d AND (ep.end_date IS NULL OR ep.end_date >= e.d)
)
SELECT e.col, COUNT(*) AS totaal, COUNT(b.client_id) AS waarvan_bijstand
FROM events e
JOIN cl ON cl.id = e.client_id
LEFT JOIN in_bijstand b ON b.col = e.col AND b.client_id = e.client_id
GROUP BY e.col
ORDER BY e.col;
