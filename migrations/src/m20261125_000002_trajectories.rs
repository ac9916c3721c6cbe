//! Reïntegratiebedrijven, their contracts, and trajectories with their
//! product lines: version tables with the same spine as the foundation's.
//! Contract products and target groups are stored as JSON: they are read
//! whole, by the rules in Rust. Trajectory lines get a table of their own,
//! because reports sum their cost in SQL.

use crate::append_only;
use crate::m20261125_000001_foundation::{index, version_table};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_trajectories"
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
                "provider_versions",
                vec![
                    string_len(a("display_name"), 200),
                    char_len(a("kvk_number"), 8),
                    string_len(a("kind"), 32),
                    string_len(a("size"), 16),
                    text(a("specialisations")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "provider_versions_kvk",
                "provider_versions",
                &["gemeente", "kvk_number"],
            ))
            .await?;

        manager
            .create_table(version_table(
                "contract_versions",
                vec![
                    uuid(a("provider_id")),
                    string_len(a("display_name"), 200),
                    date(a("start_date")),
                    date(a("end_date")),
                    text(a("target_fases")),
                    text(a("target_doelgroepen")),
                    text(a("products")),
                    string_len(a("payment_model"), 32),
                    integer_null(a("input_share_percent")),
                    text(a("payment_terms")),
                    integer_null(a("target_placement_percent")),
                    integer_null(a("max_duration_months")),
                    text(a("results_description")),
                    string_len(a("volume_kind"), 16),
                    integer_null(a("volume_minimum")),
                    integer_null(a("volume_maximum")),
                    integer(a("report_due_days")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "contract_versions_provider",
                "contract_versions",
                &["gemeente", "provider_id"],
            ))
            .await?;

        manager
            .create_table(version_table(
                "trajectory_versions",
                vec![
                    uuid(a("client_id")),
                    uuid_null(a("contract_id")),
                    uuid_null(a("provider_id")),
                    string_len(a("kind"), 32),
                    string_len(a("casemanager"), 100),
                    date(a("referral_date")),
                    date_null(a("start_date")),
                    date_null(a("end_date")),
                    string_len_null(a("end_reason"), 32),
                    string_len_null(a("job_contract_kind"), 32),
                    double_null(a("job_hours_per_week")),
                    string_len_null(a("job_title"), 200),
                    string_len_null(a("employer_name"), 200),
                    text_null(a("target_group_exception")),
                ],
            ))
            .await?;
        // "The client's other trajectories" is a frequent question (at most
        // one trajectory per client per period in some monitors).
        manager
            .create_index(index(
                "trajectory_versions_client",
                "trajectory_versions",
                &["client_id", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "trajectory_versions_contract",
                "trajectory_versions",
                &["gemeente", "contract_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "trajectory_versions_provider",
                "trajectory_versions",
                &["gemeente", "provider_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "trajectory_versions_referral",
                "trajectory_versions",
                &["gemeente", "referral_date"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(a("trajectory_lines"))
                    .col(uuid(a("trajectory_id")))
                    .col(big_integer(a("version")))
                    .col(integer(a("line_no")))
                    .col(string_len(a("product_code"), 32))
                    .col(integer(a("quantity")))
                    .col(string_len(a("unit"), 16))
                    .col(big_integer(a("unit_price_cents")))
                    .primary_key(
                        Index::create()
                            .col(a("trajectory_id"))
                            .col(a("version"))
                            .col(a("line_no")),
                    )
                    .to_owned(),
            )
            .await?;

        for table in [
            "provider_versions",
            "contract_versions",
            "trajectory_versions",
            "trajectory_lines",
        ] {
            append_only::protect(manager, table).await?;
        }
        Ok(())
    }
}
