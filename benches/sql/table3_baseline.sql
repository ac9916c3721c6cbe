-- The baseline of the in- and outflow report benchmark: table 3
-- (trajectgegevens totaal) written by hand as one PostgreSQL query, the
-- way a data manager with SQL would count it on this database
-- (specs/mosa-report.md, docs/reports.md): from the trajectories' latest
-- versions and the clients' timelines, as the report does.
-- benches/inflow_outflow_report.rs times it and fails when its numbers
-- differ from the report's table 3.
--
-- Parameters: $1 gemeente (text), $2 the transaction time to count at (µs
-- since the epoch, bigint), $3 first day of the period, $4 last day (dates).
-- Answer: one row per column of table 3 (1 doorverwezen, 2 ingestroomd,
-- 3 uitstroom_werk_regulier, 4 uitstroom_werk_gesubsidieerd, 5 uitstroom_werk,
-- 6 uitstroom_zonder_werk, 7 bestand) with the rows `totaal` and
-- `waarvan bijstand`.
WITH
-- The latest version as of $2 of each trajectory: the row in the table of
-- latest versions when it was recorded by then, else (the trajectory
-- changed after $2) the newest version by then in the history.
tr AS (
    SELECT t.client_id, t.referral_date, t.start_date, t.end_date, t.end_reason
    FROM trajectory_current t
    WHERE t.gemeente = CAST($1 AS CHAR(4)) AND t.recorded_at <= $2
    UNION ALL
    SELECT t.client_id, t.referral_date, t.start_date, t.end_date, t.end_reason
    FROM trajectory_versions t JOIN trajectory_current c ON c.id = t.id
    WHERE c.gemeente = CAST($1 AS CHAR(4)) AND c.recorded_at > $2 AND t.recorded_at <= $2
      AND NOT EXISTS (
          SELECT 1 FROM trajectory_versions n
          WHERE n.id = t.id AND n.version > t.version AND n.recorded_at <= $2)
),
-- Each client's timeline as of $2: the generation recorded by then and not
-- yet superseded.
tl AS (
    SELECT s.client_id, s.valid_from, s.valid_to, s.kinds
    FROM client_timeline s
    WHERE s.gemeente = CAST($1 AS CHAR(4)) AND s.recorded_at <= $2
      AND (s.superseded_at IS NULL OR s.superseded_at > $2)
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
),
-- Each (column, client) pair with whether the client was in bijstand (the
-- kinds of its timeline's segment that day include bit 1, 2 or 4: bijstand,
-- IOAW, IOAZ); bestand: every client registered on $4.
evaluated AS (
    SELECT e.col, (tl.kinds & 7) <> 0 AS bijstand
    FROM events e
    JOIN tl ON tl.client_id = e.client_id
        AND (tl.valid_from IS NULL OR tl.valid_from <= e.d)
        AND (tl.valid_to IS NULL OR tl.valid_to > e.d)
    UNION ALL
    SELECT 7, (tl.kinds & 7) <> 0
    FROM tl
    WHERE tl.kinds <> 0
      AND (tl.valid_from IS NULL OR tl.valid_from <= $4)
      AND (tl.valid_to IS NULL OR tl.valid_to > $4)
)
SELECT col, COUNT(*) AS totaal, COUNT(*) FILTER (WHERE bijstand) AS waarvan_bijstand
FROM evaluated
GROUP BY col
ORDER BY col;
