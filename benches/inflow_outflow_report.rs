//! Times the in- and outflow report (`Store::inflow_outflow_report`, the same
//! code the gRPC ReportService and `clientvolg report` run) on demo data, and
//! on PostgreSQL against hand-written baseline queries for table 3: the one
//! reading the clients' timelines as the report does
//! (`benches/sql/table3_baseline.sql`) and the one reading the latest
//! versions of episodes and clients instead
//! (`benches/sql/table3_baseline_latest_versions.sql`).
//!
//!     cargo bench --bench inflow_outflow_report -- [--clients N] [--seed S]
//!         [--runs R] [--database-url postgres://USER@HOST:PORT/DB]
//!         [--keep-database | --existing] [--parallelism P]
//!
//! Without a URL it uses a fresh SQLite file in a temporary directory; with a
//! PostgreSQL URL it creates a fresh database next to the one named, fills it
//! with `clientvolg::demo::generate_bulk` (timed separately: the build time)
//! and drops it afterwards, unless `--keep-database`. With `--existing` the
//! database named in the URL is used as it is, already filled (for instance
//! by an earlier `--keep-database` run). The report for 2025 is then run R
//! times (default 3) and, on PostgreSQL, each baseline query R times in the
//! same way; the run fails loudly when a baseline's numbers differ from the
//! report's table 3. Between the two, a demo casemanager's caseload
//! (`Store::caseload_report`) is timed R times too.
//!
//! On PostgreSQL the URL is a superuser's (it creates the database, and
//! `VACUUM ANALYZE`s it); the store, the report and the baseline run as the
//! ordinary role `clientvolg_app` that owns the database, as the service
//! does in production, so that row-level security applies to both.

use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::reports::{Edges, POSTGRES_REPORT_WORK_MEM, ReportRequest, Table, Value};
use clientvolg::store::Store;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use std::process::ExitCode;
use std::time::Instant;

/// Table 3 of the report by hand, in one PostgreSQL query each: the
/// baseline the ratio is of first.
const BASELINES: [(&str, &str); 2] = [
    ("baseline", include_str!("sql/table3_baseline.sql")),
    (
        "baseline without timelines",
        include_str!("sql/table3_baseline_latest_versions.sql"),
    ),
];

struct Args {
    clients: u64,
    seed: u64,
    runs: u32,
    database_url: Option<String>,
    keep_database: bool,
    existing: bool,
    /// Connections the report counts on at once (default: the store's).
    parallelism: Option<std::num::NonZeroUsize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        clients: 2_000,
        seed: 1,
        runs: 3,
        database_url: std::env::var("BENCH_DATABASE_URL").ok(),
        keep_database: false,
        existing: false,
        parallelism: None,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let mut value = || raw.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--clients" => {
                args.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?
            }
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--database-url" => args.database_url = Some(value()?),
            "--keep-database" => args.keep_database = true,
            "--existing" => args.existing = true,
            "--parallelism" => {
                args.parallelism = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--parallelism: {e}"))?,
                )
            }
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.existing && args.database_url.is_none() {
        return Err("--existing needs --database-url".into());
    }
    Ok(args)
}

/// The ordinary role the service runs as (docs/security.md): the same name
/// as in the tests.
const APP_ROLE: &str = "clientvolg_app";

/// The URL with its user (and password) replaced by `APP_ROLE`.
fn as_app_role(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = rest.find('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{}{APP_ROLE}:{APP_ROLE}@{host}", &url[..scheme_end])
}

/// The URL with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let base = base.rsplit_once('/').map_or(base, |(server, _)| server);
    if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (url, fresh_pg) = match &args.database_url {
        Some(existing) if args.existing => (existing.clone(), None),
        Some(admin) => {
            let db = format!("clientvolg_bench_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(admin.as_str())
                .await
                .expect("PostgreSQL reachable");
            conn.execute_unprepared(&format!(
                "DO $$ BEGIN \
                   CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}' NOSUPERUSER NOBYPASSRLS; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ))
            .await
            .expect("create the service's role");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{db}\" OWNER {APP_ROLE}"))
                .await
                .expect("create database");
            (with_database(admin, &db), Some((admin.clone(), db)))
        }
        None => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            None,
        ),
    };
    let outcome = run(&args, &url).await;
    if let Some((admin, db)) = fresh_pg {
        if args.keep_database {
            println!("kept the database: {}", with_database(&admin, &db));
        } else {
            let conn = Database::connect(admin.as_str())
                .await
                .expect("PostgreSQL reachable");
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .await;
        }
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args, url: &str) -> Result<(), String> {
    let postgres = url.starts_with("postgres");
    let service_url = if postgres {
        as_app_role(url)
    } else {
        url.to_owned()
    };
    let mut store = Store::open(&service_url).await.map_err(|e| e.to_string())?;
    if let Some(parallelism) = args.parallelism {
        store = store.with_report_parallelism(parallelism);
    }
    println!(
        "the report counts on {} connection(s) at once",
        store.report_parallelism()
    );
    let admin = Database::connect(url).await.map_err(|e| e.to_string())?;
    let gemeente = GemeenteCode::parse("0363").map_err(|e| e.to_string())?;
    if !args.existing {
        let started = Instant::now();
        let generated = clientvolg::demo::generate_bulk(&store, &gemeente, args.clients, args.seed)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "demo data (bulk): {} clients, {} episodes, {} trajectories, {} corrections; \
             build time {:.1} s",
            generated.clients,
            generated.episodes,
            generated.trajectories,
            generated.corrections,
            started.elapsed().as_secs_f64()
        );
    }
    if postgres {
        // The tables as autovacuum leaves them some time after a bulk load:
        // fresh statistics, and the rows replaced in the tables of latest
        // versions cleared away; both the report and the baseline profit
        // alike.
        let started = Instant::now();
        admin
            .execute_unprepared("VACUUM ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
        println!("VACUUM ANALYZE: {:.1} s", started.elapsed().as_secs_f64());
    }
    sizes(&admin).await?;
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date");
    let request = ReportRequest {
        gemeente,
        period_start: date(2025, 1, 1),
        period_end: date(2025, 12, 31),
        horizon: store.horizon(None).await.map_err(|e| e.to_string())?,
        age_edges: Edges::age_default(),
        duration_edges: Edges::duration_default(),
    };
    let mut report_times = Vec::new();
    let mut table3 = None;
    for run in 1..=args.runs {
        let started = Instant::now();
        let report = store
            .inflow_outflow_report(&request)
            .await
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        report_times.push(seconds);
        let table = report
            .tables
            .into_iter()
            .find(|t| t.name == "3_trajectgegevens_totaal")
            .ok_or("the report has no table 3")?;
        println!(
            "report run {run}: {seconds:.3} s (bestand: {:?})",
            table.value("totaal", "bestand")
        );
        table3 = Some(table);
    }
    caseload(&store, &request, args.runs).await?;
    let Some(table3) = table3 else {
        return Ok(());
    };
    if !postgres {
        println!("baseline: PostgreSQL only, skipped");
        return Ok(());
    }
    let best = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |times: &[f64]| {
        let mut sorted = times.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    println!(
        "report: best {:.3} s, median {:.3} s",
        best(&report_times),
        median(&report_times)
    );
    for (name, sql) in BASELINES {
        let mut baseline_times = Vec::new();
        for run in 1..=args.runs {
            let started = Instant::now();
            let numbers = baseline(&store, &request, sql).await?;
            let seconds = started.elapsed().as_secs_f64();
            baseline_times.push(seconds);
            println!("{name} run {run}: {seconds:.3} s");
            compare(&table3, &numbers).map_err(|e| format!("{name}: {e}"))?;
        }
        println!(
            "{name}: best {:.3} s, median {:.3} s; ratio of the report's median to it {:.2}",
            best(&baseline_times),
            median(&baseline_times),
            median(&report_times) / median(&baseline_times)
        );
    }
    println!("table 3 equals both baselines' numbers");
    Ok(())
}

/// Times the caseload of one demo casemanager on the period's last day, as
/// the report's transaction time: about 250 clients, the size of a real
/// caseload (in a database the generator built before it gave the demo
/// gemeente a casemanager per 250 clients, an eighth of all of them).
async fn caseload(store: &Store, request: &ReportRequest, runs: u32) -> Result<(), String> {
    const CASEMANAGER: &str = "cm-demo-1";
    for run in 1..=runs {
        let started = Instant::now();
        let caseload = store
            .caseload_report(
                &request.gemeente,
                CASEMANAGER,
                request.period_end,
                request.horizon,
            )
            .await
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        let clients: i64 = caseload
            .tables
            .iter()
            .filter(|t| t.name == "clients_per_fase")
            .flat_map(|t| &t.rows)
            .flat_map(|r| &r.values)
            .map(|v| match v {
                Value::Count(n) => *n,
                _ => 0,
            })
            .sum();
        println!("caseload of {CASEMANAGER} run {run}: {seconds:.3} s ({clients} clients)");
    }
    Ok(())
}

/// Rows per table, for the record (counted past row-level security).
async fn sizes(db: &sea_orm::DatabaseConnection) -> Result<(), String> {
    let mut parts = Vec::new();
    for table in [
        "client_versions",
        "registration_versions",
        "classification_versions",
        "doelgroep_assignment_versions",
        "trajectory_versions",
        "trajectory_lines",
        "client_timeline",
    ] {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
            ))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no count")?;
        let count: i64 = row.try_get_by_index(0).map_err(|e| e.to_string())?;
        parts.push(format!("{table} {count}"));
    }
    println!("rows: {}", parts.join(", "));
    Ok(())
}

/// A baseline's (totaal, waarvan bijstand) per column of table 3, in a
/// transaction with the same settings as the report's: its `work_mem`, no
/// JIT compilation, and the gemeente for row-level security.
async fn baseline(
    store: &Store,
    request: &ReportRequest,
    sql: &str,
) -> Result<Vec<(i64, i64)>, String> {
    let txn = store
        .connection()
        .begin()
        .await
        .map_err(|e| e.to_string())?;
    txn.execute_unprepared(&format!(
        "SET LOCAL work_mem = '{POSTGRES_REPORT_WORK_MEM}'; SET LOCAL jit = off"
    ))
    .await
    .map_err(|e| e.to_string())?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('clientvolg.gemeente', $1, true)",
        [request.gemeente.as_str().into()],
    ))
    .await
    .map_err(|e| e.to_string())?;
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [
                request.gemeente.as_str().into(),
                request.horizon.micros().into(),
                request.period_start.into(),
                request.period_end.into(),
            ],
        ))
        .await
        .map_err(|e| format!("baseline query: {e}"))?;
    txn.rollback().await.map_err(|e| e.to_string())?;
    let mut numbers = vec![(0, 0); 7];
    for row in rows {
        let column: i32 = row.try_get_by_index(0).map_err(|e| e.to_string())?;
        let index = usize::try_from(column - 1).map_err(|e| e.to_string())?;
        let slot = numbers
            .get_mut(index)
            .ok_or_else(|| format!("baseline column {column}"))?;
        *slot = (
            row.try_get_by_index(1).map_err(|e| e.to_string())?,
            row.try_get_by_index(2).map_err(|e| e.to_string())?,
        );
    }
    Ok(numbers)
}

fn compare(table3: &Table, baseline: &[(i64, i64)]) -> Result<(), String> {
    for (index, column) in table3.columns.iter().enumerate() {
        let (totaal, bijstand) = baseline[index];
        for (label, expected) in [("totaal", totaal), ("waarvan bijstand", bijstand)] {
            let actual = table3.value(label, column);
            if actual != Some(Value::Count(expected)) {
                return Err(format!(
                    "table 3 differs from the baseline: {label} / {column}: \
                     report {actual:?}, baseline {expected}"
                ));
            }
        }
    }
    Ok(())
}
