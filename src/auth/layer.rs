//! A tower layer in front of every gRPC service: authenticates the bearer
//! token, checks the policy table for the called method, and hands the
//! `Principal` to the handler through the request extensions. Doing it here,
//! once, means no handler can forget it.

use super::{Authenticator, policy};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::body::Body;

#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Authenticator,
}

impl AuthLayer {
    pub fn new(authenticator: Authenticator) -> Self {
        AuthLayer { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    authenticator: Authenticator,
}

impl<S> Authorize<S> {
    fn check(&self, request: &http::Request<Body>) -> Result<Option<super::Principal>, Status> {
        let method = request.uri().path();
        if policy::is_public(method) {
            return Ok(None);
        }
        let bearer = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| {
                Status::unauthenticated("missing authorization metadata (Bearer token)")
            })?
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or_else(|| Status::unauthenticated("authorization must be 'Bearer <token>'"))?;
        let principal = self
            .authenticator
            .authenticate(bearer.trim())
            .ok_or_else(|| Status::unauthenticated("unknown or expired token"))?;
        if !policy::allows(method, principal.role) {
            return Err(Status::permission_denied(format!(
                "the role {} may not call {method}",
                principal.role.as_str()
            )));
        }
        Ok(Some(principal))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<http::Request<Body>> for Authorize<S>
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
        match self.check(&request) {
            Ok(principal) => {
                if let Some(principal) = principal {
                    request.extensions_mut().insert(principal);
                }
                // The clone that was polled ready serves this call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(inner.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
