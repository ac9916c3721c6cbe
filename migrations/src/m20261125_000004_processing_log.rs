//! The processing log (verwerkingenlog): one row per call that read or
//! changed a client's personal data, and which clients it concerned. Both
//! tables are append-only, like the history: a log an administrator could
//! rewrite would prove nothing.

use crate::append_only;
use crate::m20261125_000001_foundation::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_processing_log"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(a("processing_log"))
                    .col(uuid(a("id")).primary_key())
                    .col(char_len(a("gemeente"), 4))
                    .col(char_len(a("trace_id"), 32))
                    .col(char_len(a("span_id"), 16))
                    .col(char_len_null(a("parent_span_id"), 16))
                    .col(big_integer(a("started_at")))
                    .col(big_integer(a("ended_at")))
                    .col(string_len(a("rpc"), 200))
                    .col(string_len(a("processing"), 8))
                    .col(string_len(a("subject"), 100))
                    .col(string_len(a("role"), 32))
                    .col(string_len(a("organisation"), 32))
                    .col(string_len_null(a("purpose"), 300))
                    .col(string_len(a("outcome"), 32))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "processing_log_period",
                "processing_log",
                &["gemeente", "started_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "processing_log_actor",
                "processing_log",
                &["gemeente", "subject", "started_at"],
            ))
            .await?;

        // Which clients each logged call concerned: the auditor's "who looked
        // at this client" is a lookup on (gemeente, client_id).
        manager
            .create_table(
                Table::create()
                    .table(a("processing_log_clients"))
                    .col(uuid(a("log_id")))
                    .col(uuid(a("client_id")))
                    .col(char_len(a("gemeente"), 4))
                    .col(big_integer(a("started_at")))
                    .primary_key(Index::create().col(a("log_id")).col(a("client_id")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(a("processing_log_clients"), a("log_id"))
                            .to(a("processing_log"), a("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "processing_log_clients_client",
                "processing_log_clients",
                &["gemeente", "client_id", "started_at"],
            ))
            .await?;

        for table in ["processing_log", "processing_log_clients"] {
            append_only::protect(manager, table).await?;
        }
        Ok(())
    }
}
