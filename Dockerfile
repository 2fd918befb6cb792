# The platform's Rust services, built from source. One builder compiles every
# service binary once (dependencies cached cargo-chef style: they are rebuilt
# only when a Cargo.toml or Cargo.lock changes), then one small non-root
# runtime stage per service:
#
#   docker build --target trader        -t upbit-platform/trader:latest .
#   docker build --target dashboard-api -t upbit-platform/dashboard-api:latest .
#   docker build --target trainer       -t upbit-platform/trainer:latest .
#   docker build --target upbit-sim     -t upbit-platform/upbit-sim:latest .
#
# (compose: `build: {context: ., target: trader}`; the builder stage is shared,
# so building all four compiles the workspace once.) The last stage, `trader`,
# is the default target.
#
# Base images are build arguments, so a machine that cannot pull them can use
# local ones (`--build-arg BUILDER_IMAGE=… --build-arg RUNTIME_IMAGE=…`). The
# builder tag matches rust-toolchain.toml, so no other toolchain is downloaded.
# For binaries already built on the host, see Dockerfile.runtime.
ARG BUILDER_IMAGE=rust:1.95.0-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- toolchain + cargo-chef ---------------------------------------------------
FROM ${BUILDER_IMAGE} AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}" \
 && rm -rf "${CARGO_HOME:-/usr/local/cargo}/registry"
WORKDIR /src

# ---- dependency recipe: changes only when manifests or the lockfile change ---
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---- compile ------------------------------------------------------------------
FROM chef AS builder
COPY rust-toolchain.toml ./
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer stays cached while only our own code changes.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked \
      --bin trader --bin dashboard-api --bin trainer --bin upbit-sim \
 && mkdir -p /out \
 && cp target/release/trader target/release/dashboard-api \
       target/release/trainer target/release/upbit-sim /out/

# ---- shared runtime base: non-root user, writable /data -----------------------
FROM ${RUNTIME_IMAGE} AS runtime
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin app \
 && mkdir -p /data && chown app:app /data
USER 10001:10001
WORKDIR /data
ENV DATA_DIR=/data LOG_FORMAT=json
# SIGTERM is what `docker stop` and the orchestrator send; every service shuts
# down gracefully on it (runtime::shutdown).
STOPSIGNAL SIGTERM

FROM runtime AS upbit-sim
COPY --from=builder /out/upbit-sim /usr/local/bin/upbit-sim
CMD ["/usr/local/bin/upbit-sim"]

FROM runtime AS trainer
COPY --from=builder /out/trainer /usr/local/bin/trainer
CMD ["/usr/local/bin/trainer"]

# The control plane. It creates trader containers through the Docker API, so
# compose mounts the engine's socket into it (and adds the socket's group).
FROM runtime AS dashboard-api
COPY --from=builder /out/dashboard-api /usr/local/bin/dashboard-api
ENV API_LISTEN=0.0.0.0:8080
EXPOSE 8080
CMD ["/usr/local/bin/dashboard-api"]

# One container per trader, created at run time by the dashboard-api (FIX-5).
FROM runtime AS trader
COPY --from=builder /out/trader /usr/local/bin/trader
CMD ["/usr/local/bin/trader"]
