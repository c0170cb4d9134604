#!/usr/bin/env bash
# CI check of the benchmark module (called by .ci/run from the repository
# root): vet, the module's unit tests, and every benchmark once
# (bench/run.sh -quick), so that nothing here rots. Figures from this run
# are not results: RESULTS.md comes from a full `bench/run.sh`.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go test -race -count=1 ./...
bash run.sh -quick
