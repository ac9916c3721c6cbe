# syntax=docker/dockerfile:1
#
# Production-style image for the clientvolg gRPC server.
#   docker build -t clientvolg .
# The build needs no system protoc: build.rs compiles proto/ with protox.

# ---- build ---------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Whole context (see .dockerignore): the workspace has three members (the root
# crate, migrations/ and timeline/), plus build.rs and proto/ that the build
# reads.
COPY . .
# The registry cache only speeds up rebuilds; --locked keeps the image on the
# exact dependency versions CI tested.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked

# ---- runtime -------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin clientvolg \
    && mkdir -p /app/data \
    && chown clientvolg:clientvolg /app/data
WORKDIR /app
COPY --from=build /src/target/release/clientvolg /usr/local/bin/clientvolg
# config/ holds only DEVELOPMENT tokens; mount real config over it in production.
COPY config/ /app/config/
USER clientvolg
EXPOSE 50051
ENTRYPOINT ["clientvolg"]
CMD ["serve"]
