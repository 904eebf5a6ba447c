#!/usr/bin/env bash
# Runs every test of s3medic on a fresh machine (this is the README's test command, and what
# .ci/run calls): unit and integration tests, the decision corpus, the CLI tests, the property
# tests, a bounded long run of the policy-parser fuzz property, the live tests against a local
# moto server (installed here into .venv), and the benchmarks once each in test mode. Nothing is
# skipped: a missing tool is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is required (install Rust with rustup)" >&2
  exit 1
fi

# The parser fuzz property: how many generated/mutated documents to try (bounded for CI).
export S3MEDIC_FUZZ_CASES="${S3MEDIC_FUZZ_CASES:-20000}"

# The local AWS emulator for the live tests (tests/live_*.rs): moto server, pinned, in a Python
# venv at .venv (git-ignored). Reused when that exact version is already installed there.
MOTO_VERSION="5.2.5"
VENV="$PWD/.venv"
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 is required for the live tests (moto server); install Python 3.9+ with venv" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/pip" ]; then
  echo "test.sh: creating Python venv $VENV" >&2
  if ! python3 -m venv "$VENV"; then
    echo "error: \`python3 -m venv $VENV\` failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if [ "$("$VENV/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')" != "$MOTO_VERSION" ] \
  || [ ! -x "$VENV/bin/moto_server" ]; then
  echo "test.sh: installing moto $MOTO_VERSION into $VENV" >&2
  if ! "$VENV/bin/pip" install --disable-pip-version-check --quiet \
    "moto[server,s3,s3control,iam,kms,cloudfront,sts,organizations]==$MOTO_VERSION"; then
    echo "error: installing moto $MOTO_VERSION into $VENV failed" >&2
    exit 1
  fi
fi
export S3MEDIC_MOTO_SERVER="$VENV/bin/moto_server"

cargo test --locked --all-targets
