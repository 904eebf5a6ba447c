#!/usr/bin/env bash
# Runs every test of s3medic on a fresh machine (this is the README's test command, and what
# .ci/run calls): unit and integration tests, the decision corpus, the CLI tests, the property
# tests, a bounded long run of the policy-parser fuzz property, and the benchmarks once each in
# test mode. Nothing is skipped: a missing tool is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is required (install Rust with rustup)" >&2
  exit 1
fi

# The parser fuzz property: how many generated/mutated documents to try (bounded for CI).
export S3MEDIC_FUZZ_CASES="${S3MEDIC_FUZZ_CASES:-20000}"

cargo test --locked --all-targets
