#!/usr/bin/env bash
# Builds the platform's images from source exactly as the Dockerfiles say, on a
# machine that cannot pull any image (this project's CI/dev machines), then
# smoke-runs them. On demand, not part of `cargo test` (a cold build compiles
# the whole workspace in release mode: several minutes).
#
#   tests/containers/build-images.sh            # Dockerfile.{trader,dashboard-api,trainer} + Dockerfile.web
#   TARGETS="trader" tests/containers/build-images.sh
#   TARGETS="" tests/containers/build-images.sh   # web only
#   SKIP_WEB=1 tests/containers/build-images.sh
#
# Stand-ins for the public base images, all local:
#   RUNTIME_IMAGE  localhost/bookworm-min (scripts/ensure-deps makes it)
#   BUILDER_IMAGE  localhost/upbit-rust-builder: Debian + a C linker; the host's
#                  pinned Rust toolchain is bind-mounted at /usr/local/rust
#                  during RUN steps (`podman build -v`), so nothing is downloaded
#                  but crates from crates.io
#   NODE_IMAGE     localhost/upbit-node-builder: Debian + the host's node/npm,
#                  mounted the same way
# Where egress TLS is intercepted (as on these machines), the host's CA bundle
# (CA_BUNDLE, default $SSL_CERT_FILE) is mounted over the builders' bundle so
# cargo and npm trust it; the images themselves are not changed by this.
# Needs podman (or ENGINE=docker with equivalent images).
set -euo pipefail
cd "$(dirname "$0")/../.."

ENGINE=${ENGINE:-podman}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-localhost/bookworm-min}
TARGETS=${TARGETS-trader dashboard-api trainer}
TAG=${TAG:-test}
toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
rust_dir=$(readlink -f "${RUST_DIR:-$HOME/.rustup/toolchains/$toolchain-x86_64-unknown-linux-gnu}")
[ -x "$rust_dir/bin/cargo" ] || { echo "no Rust $toolchain toolchain at $rust_dir" >&2; exit 1; }

step() { printf '\n=== %s (%ss) ===\n' "$1" "$SECONDS"; }
scratch=$(mktemp -d)
cleanup() {
  "$ENGINE" rm -f -t 0 upbit-web-smoke upbit-api-stub >/dev/null 2>&1 || true
  "$ENGINE" network rm upbit-web-smoke >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

step "local builder images"
if ! "$ENGINE" image exists localhost/upbit-rust-builder; then
  mkdir -p "$scratch/rust"
  cat > "$scratch/rust/Dockerfile" <<EOF
FROM $RUNTIME_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev ca-certificates && rm -rf /var/lib/apt/lists/*
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  "$ENGINE" build -q -t localhost/upbit-rust-builder "$scratch/rust"
fi
if [ "${SKIP_WEB:-0}" != 1 ] && ! "$ENGINE" image exists localhost/upbit-node-builder; then
  mkdir -p "$scratch/node"
  cat > "$scratch/node/Dockerfile" <<EOF
FROM $RUNTIME_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libstdc++6 ca-certificates && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
EOF
  "$ENGINE" build -q -t localhost/upbit-node-builder "$scratch/node"
fi

ca_bundle=${CA_BUNDLE:-${SSL_CERT_FILE:-}}
ca_mounts=()
if [ -n "$ca_bundle" ] && [ -f "$ca_bundle" ]; then
  ca_mounts=(-v "$(readlink -f "$ca_bundle"):/etc/ssl/certs/ca-certificates.crt:ro")
fi
mounts=(-v "$rust_dir:/usr/local/rust:ro" "${ca_mounts[@]}")
for target in $TARGETS; do
  step "Dockerfile.$target"
  "$ENGINE" build "${mounts[@]}" -f "Dockerfile.$target" \
    --build-arg BUILDER_IMAGE=localhost/upbit-rust-builder \
    --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
    -t "localhost/upbit-platform/$target:$TAG" .
  step "smoke: $target runs as the non-root user"
  uid=$("$ENGINE" run --rm "localhost/upbit-platform/$target:$TAG" id -u)
  [ "$uid" = 10001 ] || { echo "expected uid 10001, got $uid" >&2; exit 1; }
  "$ENGINE" image inspect "localhost/upbit-platform/$target:$TAG" --format '{{.Size}}' \
    | awk -v t="$target" '{ printf "%s image: %.1f MB\n", t, $1 / 1e6 }'
done

if [ "${SKIP_WEB:-0}" != 1 ]; then
  step "Dockerfile.web"
  "$ENGINE" build -f Dockerfile.web "${ca_mounts[@]}" \
    -v "$(readlink -f "$(command -v node)"):/usr/local/bin/node:ro" \
    -v "$(dirname "$(readlink -f "$(command -v npm)")")/..:/usr/local/lib/node_modules/npm:ro" \
    --build-arg NODE_IMAGE=localhost/upbit-node-builder \
    --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
    -t "localhost/upbit-platform/dashboard-web:$TAG" .

  step "smoke: dashboard-web serves the UI and proxies /api to dashboard-api"
  "$ENGINE" network create upbit-web-smoke >/dev/null
  # A stand-in API (perl is in every Debian base): answers with the request line.
  stub() {
    "$ENGINE" run -d --name upbit-api-stub --network upbit-web-smoke --network-alias dashboard-api \
      "$RUNTIME_IMAGE" perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die $!;
        while (my $c = $s->accept) { my $r = <$c>; $r =~ s/\r?\n//; my $b = "stub:$r";
          print $c "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " . length($b)
            . "\r\nConnection: close\r\n\r\n$b"; close $c }' >/dev/null
  }
  stub
  port=${WEB_PORT:-18089}
  "$ENGINE" run -d --name upbit-web-smoke --network upbit-web-smoke -p "127.0.0.1:$port:8080" \
    "localhost/upbit-platform/dashboard-web:$TAG" >/dev/null
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/" | grep -q '<div id="app"' \
    || { echo "index.html not served" >&2; "$ENGINE" logs upbit-web-smoke; exit 1; }
  got=$(curl -sf "http://127.0.0.1:$port/api/v1/health")
  [ "$got" = "stub:GET /api/v1/health HTTP/1.1" ] || { echo "proxy answered: $got" >&2; exit 1; }
  # A recreated API container (new address) is found again: nginx re-resolves.
  "$ENGINE" rm -f -t 0 upbit-api-stub >/dev/null
  stub
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.2; done
  got=$(curl -sf "http://127.0.0.1:$port/api/v1/events/stream?x=1")
  [ "$got" = "stub:GET /api/v1/events/stream?x=1 HTTP/1.1" ] || { echo "after API restart: $got" >&2; exit 1; }
  uid=$("$ENGINE" exec upbit-web-smoke id -u)
  [ "$uid" = 10001 ] || { echo "nginx runs as uid $uid" >&2; exit 1; }
  "$ENGINE" image inspect "localhost/upbit-platform/dashboard-web:$TAG" --format '{{.Size}}' \
    | awk '{ printf "dashboard-web image: %.1f MB\n", $1 / 1e6 }'
fi

step "all images built and smoke-tested"
