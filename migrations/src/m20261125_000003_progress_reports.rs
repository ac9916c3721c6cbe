//! Kwartaalrapportages: a version table of reports (one report per
//! trajectory and quarter; a correction is a new version), the idempotency
//! keys providers submitted them with, and on trajectory versions a link to
//! the report a start or end came from.

use crate::append_only;
use crate::m20261125_000001_foundation::{index, version_table};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_progress_reports"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(version_table(
                "progress_report_versions",
                vec![
                    uuid(a("trajectory_id")),
                    char_len(a("quarter"), 7),
                    string_len(a("status"), 16),
                    integer(a("appointments_planned")),
                    integer(a("appointments_kept")),
                    text(a("activities")),
                    text(a("instruments")),
                    string_len_null(a("advice_fase"), 16),
                    text_null(a("advice_motivation")),
                    text(a("next_steps")),
                    date_null(a("reported_start")),
                    date_null(a("reported_end")),
                    string_len_null(a("end_reason"), 32),
                    string_len_null(a("job_contract_kind"), 32),
                    double_null(a("job_hours_per_week")),
                    string_len_null(a("job_title"), 200),
                    string_len_null(a("employer_name"), 200),
                    text(a("remarks")),
                    boolean_null(a("advice_accepted")),
                    text_null(a("advice_comment")),
                    uuid_null(a("advice_client_id")),
                    uuid_null(a("advice_classification_id")),
                    string_len_null(a("advice_responder"), 100),
                    big_integer(a("received_at")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "progress_report_versions_trajectory",
                "progress_report_versions",
                &["trajectory_id", "quarter"],
            ))
            .await?;

        // What a provider submitted under each idempotency key: a retry finds
        // its earlier result here instead of recording anything again.
        manager
            .create_table(
                Table::create()
                    .table(a("progress_report_submissions"))
                    .col(char_len(a("gemeente"), 4))
                    .col(char_len(a("provider_kvk"), 8))
                    .col(string_len(a("idempotency_key"), 100))
                    .col(uuid(a("report_id")))
                    .col(big_integer(a("report_version")))
                    .col(char_len(a("content_hash"), 64))
                    .col(big_integer(a("recorded_at")))
                    .primary_key(
                        Index::create()
                            .col(a("gemeente"))
                            .col(a("provider_kvk"))
                            .col(a("idempotency_key")),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(a("trajectory_versions"))
                    .add_column(uuid_null(a("progress_report_id")))
                    .to_owned(),
            )
            .await?;

        for table in ["progress_report_versions", "progress_report_submissions"] {
            append_only::protect(manager, table).await?;
        }
        Ok(())
    }
}
