#!/usr/bin/env bash
# Archestra Edge build entry point.
#   ./build.sh run       start the gateway on archestra.yaml.example (http://127.0.0.1:9000/v1/mcp/default)
#   ./build.sh test      everything CI runs: unit tests, the AOT publish, end-to-end and conformance tests
#   ./build.sh publish   the Native AOT binary into artifacts/publish/archestra-edge (zero warnings allowed)
#   ./build.sh build     compile everything (Release)
#   ./build.sh deps      install the Node tools the tests use (tests/node)
set -euo pipefail
cd "$(dirname "$0")"

CONFIGURATION=${CONFIGURATION:-Release}
RID=${RID:-linux-x64}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

deps() {
  # The conformance suite needs Node 22; the npm "node" package provides it next to the test tools.
  if [ ! -x tests/node/node_modules/node/bin/node ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  dotnet build Archestra.Edge.sln -c "$CONFIGURATION" --nologo -v quiet
}

publish() {
  dotnet publish src/Archestra.Edge/Archestra.Edge.csproj -c Release -r "$RID" -o artifacts/publish --nologo -v quiet -p:TreatWarningsAsErrors=true
  echo "published $(du -h artifacts/publish/archestra-edge | cut -f1) artifacts/publish/archestra-edge"
}

# A small AOT MCP server (perf/Archestra.Edge.PerfEcho): the upstream of the benchmarks, and the server inside the
# container image the end-to-end tests build.
publish_echo() {
  dotnet publish perf/Archestra.Edge.PerfEcho/Archestra.Edge.PerfEcho.csproj -c Release -r "$RID" -o artifacts/perf-echo --nologo -v quiet -p:TreatWarningsAsErrors=true
}

# Runs one test project. The whole output is shown and kept in artifacts/test-results/<project>.log; when a test
# fails, its message and stack trace are repeated at the very end, where a CI log's tail shows them.
run_tests() {
  local project=$1
  shift
  local log
  log="artifacts/test-results/$(basename "$project" .csproj).log"
  mkdir -p artifacts/test-results
  local status=0
  dotnet test "$project" -c "$CONFIGURATION" --no-build --nologo --blame-hang-timeout 12m \
    --logger "console;verbosity=normal" --results-directory artifacts/test-results "$@" 2>&1 | tee "$log" || status=$?
  if [ "$status" -ne 0 ]; then
    echo
    echo "=== failed in $(basename "$project" .csproj) (full log: $log) ==="
    awk '/^  Failed /{show=1} /^  Passed /||/^\[xUnit/||/^Data collector/{show=0} show' "$log" | grep -v '^   at System\.' | head -200
    return "$status"
  fi
}

case "${1:-build}" in
  build) build ;;
  publish) publish ;;
  deps) deps ;;
  run)
    [ -x artifacts/publish/archestra-edge ] || publish
    artifacts/publish/archestra-edge schema --write --config archestra.yaml.example >/dev/null   # for editors (git-ignored)
    exec artifacts/publish/archestra-edge serve --config archestra.yaml.example ;;
  unit)
    build
    run_tests tests/Archestra.Edge.Tests/Archestra.Edge.Tests.csproj ;;
  test)
    deps
    build
    publish
    publish_echo
    run_tests tests/Archestra.Edge.Tests/Archestra.Edge.Tests.csproj
    ARCHESTRA_EDGE_BINARY="$PWD/artifacts/publish/archestra-edge" \
      run_tests tests/Archestra.Edge.EndToEndTests/Archestra.Edge.EndToEndTests.csproj ;;
  *)
    sed -n '2,8p' "$0"
    exit 2 ;;
esac
