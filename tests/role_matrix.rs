//! The role × RPC matrix in one test: every RPC of the enforced policy table,
//! called without a token and by every role. A role the table allows must get
//! past authorisation (any answer but UNAUTHENTICATED, PERMISSION_DENIED or
//! UNIMPLEMENTED); every other role must get PERMISSION_DENIED. The requests
//! are empty, so an allowed call is refused for its arguments and writes
//! nothing. docs/security.md shows the same table (a unit test keeps them
//! equal), so a wrong cell anywhere fails here.

#[macro_use]
mod common;

use clientvolg::auth::Role;
use clientvolg::auth::policy::POLICY;
use common::*;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Request};

fn token(role: Role) -> &'static str {
    match role {
        Role::Casemanager => CM_ANNA,
        Role::FunctioneelBeheerder => FB_0363,
        Role::DataManager => DM_0363,
        Role::Provider => PROVIDER_0363,
        Role::Auditor => AUDITOR_0363,
    }
}

/// Calls `path` with an empty message and answers the status code.
async fn call(app: &TestApp, path: &'static str, token: Option<&str>) -> Code {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.expect("the server accepts calls");
    let mut request = Request::new(());
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("an ASCII header");
        request.metadata_mut().insert("authorization", value);
    }
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc
        .unary(request, PathAndQuery::from_static(path), codec)
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

async fn every_cell_of_the_policy(app: TestApp) {
    for (path, allowed) in POLICY {
        assert_eq!(
            call(&app, path, None).await,
            Code::Unauthenticated,
            "{path} without a token"
        );
        for role in Role::ALL {
            let code = call(&app, path, Some(token(role))).await;
            if allowed.contains(&role) {
                assert!(
                    !matches!(
                        code,
                        Code::PermissionDenied | Code::Unauthenticated | Code::Unimplemented
                    ),
                    "{path} must be open to {role:?}, got {code:?}"
                );
            } else {
                assert_eq!(
                    code,
                    Code::PermissionDenied,
                    "{path} must be closed to {role:?}"
                );
            }
        }
    }
    app.cleanup().await;
}

both_databases!(every_cell_of_the_policy);
