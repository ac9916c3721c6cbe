//! The latest version of each fact the in- and outflow report reads, kept
//! beside its history: `trajectory_current`, `registration_current`,
//! `client_current`, `classification_current` and
//! `doelgroep_assignment_current`, one row per fact.
//!
//! Finding the latest version as of an instant in the history alone means
//! comparing every version with its newer ones: at 1,000,000 clients a pass
//! over 6.4 million trajectory versions per report (docs/benchmarks.md).
//! With these tables a report reads the latest version directly, and goes
//! to the history only for the facts changed after its `as_of`.
//!
//! They are derived data, not history: the database itself keeps them, with
//! a trigger on each history table that replaces a row when a newer version
//! is inserted, so no write path of the store (or a hand-typed INSERT) can
//! forget them. They hold only the columns the report reads: no names, no
//! BSN. `trajectory_current` also carries `cost_cents`, the sum over the
//! version's product lines of quantity × unit price: counted by the
//! version's trigger from the lines already inserted (the store inserts them
//! first), and by a trigger on `trajectory_lines` for lines inserted after
//! their version. Filled here
//! from the history, they are under the same row-level security as it.

use crate::m20261125_000006_row_level_security::tenant_policy;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000007_current_versions"
    }
}

/// One table of latest versions: its history table and the columns it
/// copies from it (besides the spine `id`, `version`, `gemeente` and
/// `recorded_at`).
pub(crate) struct Current {
    history: &'static str,
    pub(crate) current: &'static str,
    columns: fn() -> Vec<ColumnDef>,
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

pub(crate) const CURRENT: [Current; 5] = [
    Current {
        history: "trajectory_versions",
        current: "trajectory_current",
        columns: || {
            vec![
                uuid(a("client_id")),
                uuid_null(a("provider_id")),
                uuid_null(a("contract_id")),
                string_len(a("casemanager"), 100),
                date(a("referral_date")),
                date_null(a("start_date")),
                date_null(a("end_date")),
                string_len_null(a("end_reason"), 32),
            ]
        },
    },
    Current {
        history: "registration_versions",
        current: "registration_current",
        columns: || {
            vec![
                uuid(a("client_id")),
                string_len(a("kind"), 16),
                date(a("start_date")),
                date_null(a("end_date")),
            ]
        },
    },
    Current {
        history: "client_versions",
        current: "client_current",
        columns: || vec![date(a("birth_date")), string_len(a("casemanager"), 100)],
    },
    Current {
        history: "classification_versions",
        current: "classification_current",
        columns: || {
            vec![
                uuid(a("client_id")),
                string_len(a("scheme"), 32),
                string_len(a("value"), 16),
                date(a("valid_from")),
            ]
        },
    },
    Current {
        history: "doelgroep_assignment_versions",
        current: "doelgroep_assignment_current",
        columns: || vec![uuid(a("client_id")), date(a("valid_from"))],
    },
];

/// The trajectory's cost column, computed from its lines rather than copied.
const COST: &str = "cost_cents";

/// The cost of version `{row}.version` of trajectory `{row}.id` from the
/// lines already inserted.
fn lines_cost(row: &str) -> String {
    format!(
        "COALESCE((SELECT SUM(CAST(l.quantity AS BIGINT) * l.unit_price_cents) \
         FROM trajectory_lines l WHERE l.trajectory_id = {row}.id AND l.version = {row}.version), 0)"
    )
}

impl Current {
    fn is_trajectory(&self) -> bool {
        self.history == "trajectory_versions"
    }

    /// Every column of the current table, in order.
    fn column_names(&self) -> Vec<String> {
        let mut names: Vec<String> = ["id", "version", "gemeente", "recorded_at"]
            .map(str::to_owned)
            .to_vec();
        names.extend((self.columns)().iter().map(ColumnDef::get_column_name));
        if self.is_trajectory() {
            names.push(COST.to_owned());
        }
        names
    }

    /// The values of a new current row taken from history row `row`.
    fn values_from(&self, row: &str) -> String {
        self.column_names()
            .iter()
            .map(|name| match name.as_str() {
                COST => lines_cost(row),
                _ => format!("{row}.{name}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `ON CONFLICT` clause replacing a row by a newer version only.
    fn replace_if_newer(&self, excluded: &str) -> String {
        let set = self
            .column_names()
            .iter()
            .filter(|name| name.as_str() != "id")
            .map(|name| format!("{name} = {excluded}.{name}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "ON CONFLICT (id) DO UPDATE SET {set} WHERE {current}.version < {excluded}.version",
            current = self.current
        )
    }

    fn create(&self) -> TableCreateStatement {
        let mut table = Table::create();
        table
            .table(a(self.current))
            .col(uuid(a("id")).primary_key())
            .col(big_integer(a("version")))
            .col(char_len(a("gemeente"), 4))
            .col(big_integer(a("recorded_at")));
        for mut column in (self.columns)() {
            table.col(&mut column);
        }
        if self.is_trajectory() {
            table.col(big_integer(a(COST)));
        }
        table.to_owned()
    }

    /// The latest version of every fact in the history.
    fn backfill(&self) -> String {
        format!(
            "INSERT INTO {current} ({names}) SELECT {values} FROM {history} h \
             WHERE NOT EXISTS (SELECT 1 FROM {history} n WHERE n.id = h.id AND n.version > h.version)",
            current = self.current,
            names = self.column_names().join(", "),
            values = self.values_from("h"),
            history = self.history,
        )
    }

    /// The trigger keeping the table: on SQLite one per inserted row, on
    /// PostgreSQL one per statement over the inserted rows (a bulk insert
    /// of thousands of versions then costs one upsert statement).
    fn triggers(&self, backend: DbBackend) -> Vec<String> {
        let names = self.column_names().join(", ");
        let (current, history) = (self.current, self.history);
        match backend {
            DbBackend::Postgres => vec![
                format!(
                    "CREATE FUNCTION {current}_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     INSERT INTO {current} ({names}) \
                     SELECT DISTINCT ON (n.id) {values} FROM inserted n ORDER BY n.id, n.version DESC \
                     {upsert}; RETURN NULL; END $$",
                    values = self.values_from("n"),
                    upsert = self.replace_if_newer("EXCLUDED"),
                ),
                format!(
                    "CREATE TRIGGER {history}_current AFTER INSERT ON {history} \
                     REFERENCING NEW TABLE AS inserted \
                     FOR EACH STATEMENT EXECUTE FUNCTION {current}_keep()"
                ),
            ],
            _ => vec![format!(
                "CREATE TRIGGER {history}_current AFTER INSERT ON {history} BEGIN \
                 INSERT INTO {current} ({names}) VALUES ({values}) {upsert}; END",
                values = self.values_from("NEW"),
                upsert = self.replace_if_newer("excluded"),
            )],
        }
    }
}

/// The trigger adding the cost of an inserted line to its trajectory's
/// current row, when the line belongs to the current version (the store
/// inserts a version's lines before it; then the version's own trigger has
/// counted them). One per row on both databases: each is one primary-key
/// lookup, where a statement-level join of a bulk insert's lines with the
/// whole table made PostgreSQL scan the table once per statement.
fn cost_triggers(backend: DbBackend) -> Vec<String> {
    let add = "UPDATE trajectory_current SET cost_cents = cost_cents + \
               CAST(NEW.quantity AS BIGINT) * NEW.unit_price_cents \
               WHERE id = NEW.trajectory_id AND version = NEW.version";
    match backend {
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION trajectory_current_add_cost() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN {add}; RETURN NULL; END $$"
            ),
            "CREATE TRIGGER trajectory_lines_current_cost AFTER INSERT ON trajectory_lines \
             FOR EACH ROW EXECUTE FUNCTION trajectory_current_add_cost()"
                .to_owned(),
        ],
        _ => vec![format!(
            "CREATE TRIGGER trajectory_lines_current_cost AFTER INSERT ON trajectory_lines \
             BEGIN {add}; END"
        )],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let postgres = backend == DbBackend::Postgres;
        // The history's policies hold for its owner too (FORCE); the
        // backfill reads every gemeente, so they are relaxed for the
        // owner during this migration's transaction only.
        let sources = CURRENT
            .iter()
            .map(|c| c.history)
            .chain(["trajectory_lines"]);
        if postgres {
            for table in sources.clone() {
                db.execute_unprepared(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
                    .await?;
            }
        }
        for table in &CURRENT {
            manager.create_table(table.create()).await?;
            db.execute_unprepared(&table.backfill()).await?;
            // A report as of an earlier instant looks up the facts changed
            // after it.
            manager
                .create_index(
                    Index::create()
                        .name(format!("{}_recorded_at", table.current))
                        .table(a(table.current))
                        .col(a("gemeente"))
                        .col(a("recorded_at"))
                        .to_owned(),
                )
                .await?;
            for trigger in table.triggers(backend) {
                db.execute_unprepared(&trigger).await?;
            }
        }
        for trigger in cost_triggers(backend) {
            db.execute_unprepared(&trigger).await?;
        }
        if postgres {
            for table in sources {
                db.execute_unprepared(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
                    .await?;
            }
            for table in &CURRENT {
                db.execute_unprepared(&tenant_policy(table.current)).await?;
            }
        }
        Ok(())
    }
}
