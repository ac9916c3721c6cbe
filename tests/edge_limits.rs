//! Limits at the edge (docs/security.md): message sizes, page sizes and
//! page tokens, long inputs quoted in errors, and deadlines, with writes cut
//! off by a deadline leaving nothing behind.

#[macro_use]
mod common;
#[path = "common/history.rs"]
mod history;

use clientvolg::proto::clientvolg::v1::{self, ListClientsRequest};
use common::*;
use std::time::Duration;
use tonic::{Code, Request};

/// What a request over the size limit may answer: tonic refuses it before
/// decoding with OUT_OF_RANGE (RESOURCE_EXHAUSTED in other gRPC stacks).
const TOO_LARGE: [Code; 2] = [Code::OutOfRange, Code::ResourceExhausted];

/// What a request cut off by its deadline answers: tonic's server answers
/// CANCELLED, the gRPC convention is DEADLINE_EXCEEDED.
const CUT_OFF: [Code; 2] = [Code::Cancelled, Code::DeadlineExceeded];

fn create_client_with_notes(notes: String) -> v1::CreateClientRequest {
    v1::CreateClientRequest {
        parent: GEMEENTE.into(),
        client: Some(v1::Client {
            notes,
            ..sample_client(&bsn(1))
        }),
        change: None,
    }
}

async fn an_oversized_message_is_refused_cleanly(app: TestApp) {
    let db = raw_connection(&app.admin_database_url).await;
    let before = history::row_counts(&db).await;
    let mut anna = app.anna();
    let big = "x".repeat(clientvolg::app::MAX_MESSAGE_BYTES + 1);
    let status = anna
        .clients
        .create_client(create_client_with_notes(big))
        .await
        .expect_err("a request over MAX_MESSAGE_BYTES");
    assert!(
        TOO_LARGE.contains(&status.code()),
        "{:?}: {}",
        status.code(),
        status.message()
    );
    assert!(history::changed(&before, &history::row_counts(&db).await).is_empty());

    // Under the limit the same request is only refused for its notes.
    let fits = "x".repeat(clientvolg::app::MAX_MESSAGE_BYTES / 2);
    assert_invalid(
        anna.clients
            .create_client(create_client_with_notes(fits))
            .await,
        "client.notes",
    );

    // Bulk submissions may be larger, up to MAX_BATCH_MESSAGE_BYTES.
    let mut provider = app.provider();
    let report = |remarks: String| v1::ProgressReport {
        remarks,
        ..sample_report("trajectories/x", "2025-Q1", "k")
    };
    let request = |remarks: String| v1::SubmitProgressReportsRequest {
        parent: GEMEENTE.into(),
        reports: vec![report(remarks)],
    };
    let response = provider
        .progress_reports
        .submit_progress_reports(request("x".repeat(clientvolg::app::MAX_MESSAGE_BYTES + 1)))
        .await
        .expect("a batch over MAX_MESSAGE_BYTES is decoded")
        .into_inner();
    assert_eq!(response.rejected_count, 1, "{response:?}");
    let status = provider
        .progress_reports
        .submit_progress_reports(request(
            "x".repeat(clientvolg::app::MAX_BATCH_MESSAGE_BYTES + 1),
        ))
        .await
        .expect_err("a batch over MAX_BATCH_MESSAGE_BYTES");
    assert!(TOO_LARGE.contains(&status.code()), "{status:?}");

    // Still serving.
    anna.list_all_clients().await;
    app.cleanup().await;
}

async fn page_sizes_are_clamped_and_tokens_checked(app: TestApp) {
    let mut fb = app.beheerder();
    let max = clientvolg::api::convert::MAX_PAGE_SIZE as usize;
    for i in 0..=max {
        fb.create_doelgroep(&format!("D{i}")).await;
    }
    let list = |page_size: i32, page_token: String| v1::ListDoelgroepenRequest {
        parent: GEMEENTE.into(),
        page_size,
        page_token,
        as_of: None,
    };
    let first = fb
        .doelgroepen
        .list_doelgroepen(list(i32::MAX, String::new()))
        .await
        .expect("a page size above the maximum")
        .into_inner();
    assert_eq!(first.doelgroepen.len(), max, "clamped to MAX_PAGE_SIZE");
    let second = fb
        .doelgroepen
        .list_doelgroepen(list(i32::MAX, first.next_page_token))
        .await
        .expect("the second page")
        .into_inner();
    assert_eq!(second.doelgroepen.len(), 1);
    assert!(second.next_page_token.is_empty());
    assert_invalid(
        fb.doelgroepen
            .list_doelgroepen(list(-1, String::new()))
            .await,
        "page_size",
    );

    // An offset past i64::MAX overflowed the next page's offset (a panic
    // in a debug build); it is not a token the server hands out.
    let mut anna = app.anna();
    let with_token = |page_token: String| ListClientsRequest {
        parent: GEMEENTE.into(),
        page_token,
        ..Default::default()
    };
    assert_invalid(
        anna.clients
            .list_clients(with_token(format!("v1.1.{}", u64::MAX)))
            .await,
        "page_token",
    );
    let far = anna
        .clients
        .list_clients(with_token(format!("v1.1.{}", i64::MAX)))
        .await
        .expect("the largest offset")
        .into_inner();
    assert!(far.clients.is_empty() && far.next_page_token.is_empty());
    app.cleanup().await;
}

/// An error quotes the caller's input; however long the input, the answer
/// arrives (a long quote once made the headers too large for the client).
async fn a_long_input_quoted_in_an_error_still_arrives(app: TestApp) {
    let mut anna = app.anna();
    let name = format!("clients/{}", "é".repeat(20_000));
    assert_invalid(
        anna.clients
            .get_client(v1::GetClientRequest { name, as_of: None })
            .await,
        "name",
    );
    anna.list_all_clients().await;
    app.cleanup().await;
}

async fn a_tiny_deadline_is_answered_cleanly(app: TestApp) {
    let mut anna = app.anna();
    let mut request = Request::new(ListClientsRequest {
        parent: GEMEENTE.into(),
        ..Default::default()
    });
    request.set_timeout(Duration::from_nanos(1));
    let status = anna
        .clients
        .list_clients(request)
        .await
        .expect_err("a deadline of 1 ns");
    assert!(CUT_OFF.contains(&status.code()), "{status:?}");
    anna.list_all_clients().await;
    app.cleanup().await;
}

/// A trajectory in eigen beheer with the most lines allowed: one version row
/// and 50 line rows written in one transaction.
fn fifty_lines(client: &str) -> v1::Trajectory {
    let lines = (0..50)
        .map(|i| priced_line(&format!("P{i}"), 1, 100))
        .collect();
    sample_trajectory(client, "", date(2025, 2, 1), lines)
}

/// The same write, with ever longer deadlines, until one is long enough:
/// every attempt cut off must have written nothing (or, cut off after its
/// commit, everything), and the history stays whole.
async fn a_write_cut_off_by_its_deadline_leaves_nothing(app: TestApp) {
    let db = raw_connection(&app.admin_database_url).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(1).await;
    let whole = |before: &[i64], after: &[i64]| {
        let changed = history::changed(before, after);
        changed.is_empty()
            || changed
                == [
                    ("trajectory_versions", before[8], before[8] + 1),
                    ("trajectory_lines", before[9], before[9] + 50),
                ]
    };
    let mut cut_off = 0;
    let mut deadline = Duration::from_micros(500);
    loop {
        let before = history::row_counts(&db).await;
        let mut request = Request::new(create_trajectory_req(fifty_lines(&client.name)));
        request.set_timeout(deadline);
        let answer = anna.trajectories.create_trajectory(request).await;
        // A transaction dropped by the deadline is rolled back when its
        // connection is next used; wait until the store answers again.
        anna.list_all_clients().await;
        let after = history::row_counts(&db).await;
        match answer {
            Ok(_) => {
                assert!(
                    whole(&before, &after),
                    "a created trajectory: {before:?} → {after:?}"
                );
                break;
            }
            Err(status) if CUT_OFF.contains(&status.code()) => {
                cut_off += 1;
                assert!(
                    whole(&before, &after),
                    "cut off after {deadline:?}, the write left half a change: \
                     {:?}",
                    history::changed(&before, &after)
                );
            }
            Err(status) => panic!("deadline {deadline:?}: {status:?}"),
        }
        assert!(
            deadline < Duration::from_secs(10),
            "the write never completed"
        );
        // Tokio's timer counts whole milliseconds: half a millisecond more
        // each time samples every moment of a write of a few milliseconds.
        deadline = if deadline < Duration::from_millis(20) {
            deadline + Duration::from_micros(500)
        } else {
            deadline.mul_f64(1.5)
        };
    }
    assert!(cut_off > 0, "no attempt was cut off");
    let broken = history::broken_invariants(&db).await;
    assert!(broken.is_empty(), "{broken:?}");

    // Nothing is left locked: the next write goes through at once.
    let mut request = Request::new(create_trajectory_req(fifty_lines(&client.name)));
    request.set_timeout(Duration::from_secs(5));
    anna.trajectories
        .create_trajectory(request)
        .await
        .expect("a write after the cut-off ones");
    app.cleanup().await;
}

both_databases!(
    an_oversized_message_is_refused_cleanly,
    page_sizes_are_clamped_and_tokens_checked,
    a_long_input_quoted_in_an_error_still_arrives,
    a_tiny_deadline_is_answered_cleanly,
    a_write_cut_off_by_its_deadline_leaves_nothing,
);

/// The server's own maximum applies to a client that sets no deadline: with
/// a maximum of 1 ms, a bulk submission of 10,000 items is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_configured_request_timeout_cuts_off_long_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = clientvolg::app::Config {
        tokens_file: Some(write_tokens_file(dir.path())),
        request_timeout: Some(Duration::from_millis(1)),
        ..sqlite_config(dir.path())
    };
    let served = serve(config).await.expect("the server starts");
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", served.addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut provider = Clients::new(channel, Some(format!("Bearer {PROVIDER_0363}")));
    let reports = (0..clientvolg::api::progress_reports::MAX_BATCH)
        .map(|i| {
            let trajectory = format!("trajectories/{}", uuid::Uuid::new_v4());
            sample_report(&trajectory, "2025-Q1", &format!("k-{i}"))
        })
        .collect();
    let status = provider
        .progress_reports
        .submit_progress_reports(v1::SubmitProgressReportsRequest {
            parent: GEMEENTE.into(),
            reports,
        })
        .await
        .expect_err("cut off after 1 ms");
    assert!(CUT_OFF.contains(&status.code()), "{status:?}");
}
