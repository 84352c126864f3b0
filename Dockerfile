# syntax=docker/dockerfile:1
# Both base images are pinned by digest (the multi-platform index of the tag named beside it), so
# a rebuild of the same commit starts from the same bytes. To move one, resolve the tag's current
# digest (`docker buildx imagetools inspect rust:1.95-slim-bookworm`) and replace it here.

# Build stage: the only place a compiler exists.
FROM rust:1.95-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS build
WORKDIR /src

# Dependencies in their own layers, reused until Cargo.toml or Cargo.lock changes: the
# manifests alone, placeholder sources for every target Cargo.toml names (cargo refuses a
# manifest whose target files are missing), and a release build of the dependencies.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches tests/integration \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > benches/hashing.rs \
    && echo 'fn main() {}' > benches/report.rs \
    && echo 'fn main() {}' > benches/validate.rs \
    && echo 'fn main() {}' > benches/provenance.rs \
    && echo 'fn main() {}' > tests/integration/main.rs \
    && : > src/lib.rs \
    && cargo build --release --locked --bin slsa-provenance-action

# Then our own code. COPY keeps the files' old modification times, which can be older than the
# placeholders' build: touch them so cargo rebuilds the crate itself, not only what changed.
COPY src ./src
# The manifest JSON Schema is compiled into the binary (include_str!).
COPY schemas ./schemas
RUN touch src/lib.rs src/main.rs \
    && cargo build --release --locked --bin slsa-provenance-action \
    && cp target/release/slsa-provenance-action /slsa-provenance-action

# Runtime stage: CA certificates for HTTPS (rustls reads the system store), git for tag lookup.
# GitHub runs container actions as root (the workspace mount needs it); the binary passes
# `-c safe.directory=*` to git, so the workspace's foreign owner does not matter.
FROM debian:bookworm-slim@sha256:e899040a73d36e2b36fa33216943539d9957cba8172b858097c2cabcdb20a3e2
# Packages unpinned on purpose: each image build should pick up Debian's current security fixes
# on top of the pinned base.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /slsa-provenance-action /usr/local/bin/slsa-provenance-action
COPY entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
