//! The foundation: the transaction clock and the version tables of clients,
//! registration episodes, classifications and doelgroepen.
//!
//! Every version table has the same spine: `id` + `version` as primary key
//! (a concurrent write of the same version fails on it), the tenant
//! `gemeente`, and the metadata of the change: `recorded_at` (transaction
//! time in microseconds since the Unix epoch), `actor`, `actor_role`,
//! `source` and `reason`. Valid time lives in the facts' own date columns.

use crate::append_only;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_foundation"
    }
}

const HISTORY_TABLES: [&str; 6] = [
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_versions",
    "doelgroep_assignment_versions",
    "doelgroep_assignment_codes",
];

/// A version table: the spine shared by all, then the fact's own columns.
pub(crate) fn version_table(name: &str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(Alias::new(name))
        .col(uuid(Alias::new("id")))
        .col(big_integer(Alias::new("version")))
        .col(char_len(Alias::new("gemeente"), 4));
    for mut column in columns {
        table.col(&mut column);
    }
    table
        .col(big_integer(Alias::new("recorded_at")))
        .col(string_len(Alias::new("actor"), 100))
        .col(string_len(Alias::new("actor_role"), 32))
        .col(string_len(Alias::new("source"), 32))
        .col(text_null(Alias::new("reason")))
        .primary_key(
            Index::create()
                .col(Alias::new("id"))
                .col(Alias::new("version")),
        );
    table.to_owned()
}

pub(crate) fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row holding the last transaction time handed out. Every write
        // transaction bumps it first, which serialises writers and makes
        // transaction times strictly increasing in commit order.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("transaction_clock"))
                    .col(integer(Alias::new("id")).primary_key())
                    .col(big_integer(Alias::new("last_recorded_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Alias::new("transaction_clock"))
                    .columns([Alias::new("id"), Alias::new("last_recorded_at")])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(version_table(
                "client_versions",
                vec![
                    char_len(Alias::new("bsn"), 9),
                    string_len(Alias::new("given_name"), 200),
                    string_len(Alias::new("surname_prefix"), 20),
                    string_len(Alias::new("surname"), 200),
                    date(Alias::new("birth_date")),
                    string_len(Alias::new("education_level"), 32),
                    text(Alias::new("work_experience")),
                    text(Alias::new("skills")),
                    text(Alias::new("wishes")),
                    text(Alias::new("notes")),
                    string_len(Alias::new("casemanager"), 100),
                    big_integer(Alias::new("created_at")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "client_versions_gemeente",
                "client_versions",
                &["gemeente", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "client_versions_bsn",
                "client_versions",
                &["gemeente", "bsn"],
            ))
            .await?;
        manager
            .create_index(index(
                "client_versions_as_of",
                "client_versions",
                &["id", "recorded_at"],
            ))
            .await?;

        manager
            .create_table(version_table(
                "registration_versions",
                vec![
                    uuid(Alias::new("client_id")),
                    string_len(Alias::new("kind"), 16),
                    date(Alias::new("start_date")),
                    date_null(Alias::new("end_date")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "registration_versions_client",
                "registration_versions",
                &["client_id"],
            ))
            .await?;

        manager
            .create_table(version_table(
                "classification_versions",
                vec![
                    uuid(Alias::new("client_id")),
                    string_len(Alias::new("scheme"), 32),
                    string_len(Alias::new("value"), 16),
                    date(Alias::new("valid_from")),
                    text(Alias::new("motivation")),
                    string_len(Alias::new("classifier"), 100),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "classification_versions_client",
                "classification_versions",
                &["client_id", "scheme"],
            ))
            .await?;

        manager
            .create_table(version_table(
                "doelgroep_versions",
                vec![
                    string_len(Alias::new("code"), 32),
                    string_len(Alias::new("display_name"), 200),
                    text(Alias::new("description")),
                ],
            ))
            .await?;
        // A code is defined once per gemeente; it never changes afterwards, so
        // uniqueness over first versions is uniqueness over doelgroepen.
        manager
            .create_index(
                index(
                    "doelgroep_versions_code",
                    "doelgroep_versions",
                    &["gemeente", "code"],
                )
                .unique()
                .and_where(Expr::col(Alias::new("version")).eq(1))
                .to_owned(),
            )
            .await?;

        manager
            .create_table(version_table(
                "doelgroep_assignment_versions",
                vec![
                    uuid(Alias::new("client_id")),
                    date(Alias::new("valid_from")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "doelgroep_assignment_versions_client",
                "doelgroep_assignment_versions",
                &["client_id"],
            ))
            .await?;
        // The members of each assignment version, one row per code, so that
        // reports can join on doelgroep codes.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("doelgroep_assignment_codes"))
                    .col(uuid(Alias::new("assignment_id")))
                    .col(big_integer(Alias::new("version")))
                    .col(string_len(Alias::new("code"), 32))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("assignment_id"))
                            .col(Alias::new("version"))
                            .col(Alias::new("code")),
                    )
                    .to_owned(),
            )
            .await?;

        append_only::install_function(manager).await?;
        for table in HISTORY_TABLES {
            append_only::protect(manager, table).await?;
        }
        Ok(())
    }
}
