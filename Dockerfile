# syntax=docker/dockerfile:1
# Build stage: the only place a compiler exists.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The manifest JSON Schema is compiled into the binary (include_str!).
COPY schemas ./schemas
COPY benches ./benches
COPY tests/integration ./tests/integration
RUN cargo build --release --locked --bin slsa-provenance-action \
    && cp target/release/slsa-provenance-action /slsa-provenance-action

# Runtime stage: CA certificates for HTTPS (rustls reads the system store), git for tag lookup.
# GitHub runs container actions as root (the workspace mount needs it); the binary passes
# `-c safe.directory=*` to git, so the workspace's foreign owner does not matter.
FROM debian:bookworm-slim
# Unpinned on purpose: each image build should pick up Debian's current security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /slsa-provenance-action /usr/local/bin/slsa-provenance-action
COPY entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
