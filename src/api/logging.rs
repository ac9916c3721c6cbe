//! One log line per request: method, status and latency. Nothing of the
//! request or response body is logged, so no BSN or name can reach the log.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::body::Body;

#[derive(Clone, Default)]
pub struct RequestLogLayer;

impl<S> tower::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLog { inner }
    }
}

#[derive(Clone)]
pub struct RequestLog<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<http::Request<Body>> for RequestLog<S>
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

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let started = Instant::now();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = inner.call(request).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            match &response {
                // A unary error travels in the headers (trailers-only
                // response); a success carries its status in the trailers.
                Ok(response) => {
                    let code = tonic::Status::from_header_map(response.headers())
                        .map(|status| status.code())
                        .unwrap_or(tonic::Code::Ok);
                    tracing::info!(method = %method, status = ?code, latency_ms = format_args!("{latency_ms:.1}"), "request");
                }
                Err(_) => {
                    tracing::warn!(method = %method, latency_ms = format_args!("{latency_ms:.1}"), "request failed in transport")
                }
            }
            response
        })
    }
}
