//! The tower layer that writes the processing log. It sits behind the auth
//! layer (it needs the caller) and in front of every service: it refuses a
//! read of personal data without a purpose before any handler runs, hands
//! the handler a `ClientsConcerned`, and appends the record once the
//! handler has answered.
//!
//! A read whose record cannot be written is not answered: personal data
//! never leaves without a trace. A write has already committed by then, and
//! its history rows name who, when and from which source; its answer goes
//! out and the failure goes to the server log.

use super::{ClientsConcerned, PURPOSE_METADATA, TRACEPARENT_METADATA, processing_of};
use crate::api::error::ApiError;
use crate::auth::{Principal, Role};
use crate::domain::processing::{Processing, ProcessingRecord, Purpose, TraceContext, new_span_id};
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::{Code, Status};
use uuid::Uuid;

#[derive(Clone)]
pub struct ProcessingLogLayer {
    store: Store,
}

impl ProcessingLogLayer {
    pub fn new(store: Store) -> Self {
        ProcessingLogLayer { store }
    }
}

impl<S> tower::Layer<S> for ProcessingLogLayer {
    type Service = ProcessingLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProcessingLog {
            inner,
            store: self.store.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ProcessingLog<S> {
    inner: S,
    store: Store,
}

/// What the layer knows about a logged call before the handler runs.
struct Pending {
    processing: Processing,
    principal: Principal,
    purpose: Option<Purpose>,
    trace: TraceContext,
    concerned: ClientsConcerned,
}

fn pending(request: &http::Request<Body>) -> Result<Option<Pending>, Status> {
    let Some(processing) = processing_of(request.uri().path()) else {
        return Ok(None);
    };
    // Public methods carry no principal and process no personal data.
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return Ok(None);
    };
    let headers = request.headers();
    let purpose = headers
        .get(PURPOSE_METADATA)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| crate::domain::Invalid::new("must be printable ASCII"))
                .and_then(Purpose::parse)
                .map_err(|invalid| {
                    Status::from(ApiError::invalid(
                        PURPOSE_METADATA,
                        format!("{invalid} (request metadata)"),
                    ))
                })
        })
        .transpose()?;
    if processing == Processing::Read && purpose.is_none() {
        return Err(ApiError::invalid(
            PURPOSE_METADATA,
            "request metadata is required for reading personal data: the processing activity \
             (doelbinding) this read serves",
        )
        .into());
    }
    let trace = TraceContext::continue_or_start(
        headers
            .get(TRACEPARENT_METADATA)
            .and_then(|value| value.to_str().ok()),
    );
    Ok(Some(Pending {
        processing,
        principal,
        purpose,
        trace,
        concerned: ClientsConcerned::default(),
    }))
}

/// The organisation a principal acts for.
fn organisation(principal: &Principal) -> String {
    match (&principal.role, &principal.provider) {
        (Role::Provider, Some(kvk)) => format!("kvk:{kvk}"),
        _ => format!("gemeente:{}", principal.gemeente),
    }
}

/// The canonical name of a gRPC status code, as the log stores it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<http::Request<Body>> for ProcessingLog<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let pending = match pending(&request) {
            Ok(pending) => pending,
            Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
        };
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(pending) = pending else {
            return Box::pin(inner.call(request));
        };
        request.extensions_mut().insert(pending.concerned.clone());
        let rpc = request.uri().path().to_owned();
        let store = self.store.clone();
        let started_at = chrono::Utc::now();
        Box::pin(async move {
            let response = inner.call(request).await?;
            // A unary error travels in the headers (trailers-only response);
            // a success carries OK in the trailers.
            let code = Status::from_header_map(response.headers())
                .map(|status| status.code())
                .unwrap_or(Code::Ok);
            let record = ProcessingRecord {
                id: Uuid::now_v7(),
                gemeente: pending.principal.gemeente.clone(),
                trace: pending.trace,
                span_id: new_span_id(),
                started_at,
                ended_at: chrono::Utc::now(),
                rpc,
                processing: pending.processing,
                subject: pending.principal.subject.clone(),
                role: pending.principal.role.as_str().to_owned(),
                organisation: organisation(&pending.principal),
                purpose: pending.purpose,
                outcome: code_name(code).to_owned(),
                clients: pending.concerned.take(),
            };
            match store.append_processing_record(&record).await {
                Ok(()) => Ok(response),
                Err(err) => {
                    tracing::error!(
                        error = %err,
                        rpc = %record.rpc,
                        log_id = %record.id,
                        "the processing log could not be written"
                    );
                    if record.processing == Processing::Read && code == Code::Ok {
                        Ok(Status::unavailable(
                            "the processing log could not be written, so the data is not \
                             returned; try again later",
                        )
                        .into_http())
                    } else {
                        Ok(response)
                    }
                }
            }
        })
    }
}
