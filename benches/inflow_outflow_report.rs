//! Times the in- and outflow report (`Store::inflow_outflow_report`, the same
//! code the gRPC ReportService and `clientvolg report` run) on demo data.
//!
//!     cargo bench --bench inflow_outflow_report -- [--clients N] [--seed S]
//!         [--database-url postgres://USER@HOST:PORT/DB]
//!
//! Without a URL it uses a fresh SQLite file in a temporary directory; with a
//! PostgreSQL URL it creates a fresh database next to the one named and drops
//! it afterwards. Data come from `clientvolg::demo` (not timed); the report for
//! 2025 is then run three times and each run's wall time printed.

use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::reports::{Edges, ReportRequest};
use clientvolg::store::Store;
use sea_orm::{ConnectionTrait, Database};
use std::process::ExitCode;
use std::time::Instant;

struct Args {
    clients: u64,
    seed: u64,
    database_url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        clients: 2_000,
        seed: 1,
        database_url: std::env::var("BENCH_DATABASE_URL").ok(),
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let mut value = || raw.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--clients" => {
                args.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?
            }
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--database-url" => args.database_url = Some(value()?),
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
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
        Some(admin) => {
            let db = format!("clientvolg_bench_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(admin.as_str())
                .await
                .expect("PostgreSQL reachable");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{db}\""))
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
        let conn = Database::connect(admin.as_str())
            .await
            .expect("PostgreSQL reachable");
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
            .await;
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
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let gemeente = GemeenteCode::parse("0363").map_err(|e| e.to_string())?;
    let started = Instant::now();
    let generated = clientvolg::demo::generate(&store, &gemeente, args.clients, args.seed)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "demo data: {} clients, {} episodes, {} trajectories, {} corrections in {:.1} s (not timed)",
        generated.clients,
        generated.episodes,
        generated.trajectories,
        generated.corrections,
        started.elapsed().as_secs_f64()
    );
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date");
    let request = ReportRequest {
        gemeente,
        period_start: date(2025, 1, 1),
        period_end: date(2025, 12, 31),
        horizon: store.horizon(None).await.map_err(|e| e.to_string())?,
        age_edges: Edges::age_default(),
        duration_edges: Edges::duration_default(),
    };
    for run in 1..=3 {
        let started = Instant::now();
        let report = store
            .inflow_outflow_report(&request)
            .await
            .map_err(|e| e.to_string())?;
        let totaal = report
            .tables
            .iter()
            .find(|t| t.name == "3_trajectgegevens_totaal")
            .and_then(|t| t.value("totaal", "bestand"));
        println!(
            "report run {run}: {:.3} s (bestand: {totaal:?})",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
