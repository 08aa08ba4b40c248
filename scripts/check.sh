#!/usr/bin/env bash
# The fast loop while you work: format, lint, the unit tests and the
# embedded integration suite. No Cassandra, Nginx, browser or client
# install: tests that need Cassandra skip themselves (S3GW_TEST_CASSANDRA
# unset). Under 5 minutes warm on 2 cores; scripts/test.sh is the full
# command (and CI).
#
#   scripts/check.sh            everything below
#   scripts/check.sh --quick    no clippy (format, then the tests)
#
# Prints a timing line per step and exits non-zero at the first failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

quick=0
[ "${1:-}" = "--quick" ] && quick=1

unset S3GW_TEST_CASSANDRA S3GW_REQUIRE_CASSANDRA S3GW_TEST_BACKEND

run() {
  local began=$SECONDS
  printf '\n=== check: %s ===\n' "$1"
  shift
  "$@"
  printf '=== %ds ===\n' "$((SECONDS - began))"
}

run "cargo fmt --check" cargo fmt --all -- --check
run "dependency arrows (scripts/check-arrows.py)" python3 scripts/check-arrows.py
if [ "$quick" = 0 ]; then
  run "cargo clippy -D warnings" cargo clippy --all-targets --locked -- -D warnings
fi
run "unit tests and the embedded integration suite" cargo test --locked
printf '\ncheck: all passed in %ds\n' "$SECONDS"
