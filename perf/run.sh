#!/usr/bin/env bash
# Measures the gateway against its baselines in one run, in alternating rounds, and writes perf/RESULTS.md.
#   perf/run.sh                 full run (about 8 minutes on 2 cores)
#   ROUNDS=1 DURATION=5 perf/run.sh   a quick look
#   SOAK=1 perf/run.sh          the soak only: 1,000 sessions for SOAK_SECONDS (600) against a stdio and an HTTP
#                               upstream; errors, RSS and descriptors at start, peak and end into perf/out/.../soak.md
# Everything runs on this machine: the load generator, the gateway, the upstreams. Compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CLIENTS=${CLIENTS:-32}
RATE=${RATE:-1000}
OUT=perf/out/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "== build"
./build.sh publish >/dev/null
dotnet publish perf/Archestra.Edge.PerfEcho -c Release -r linux-x64 -o perf/out/echo --nologo -v quiet -p:TreatWarningsAsErrors=true
dotnet build perf/Archestra.Edge.LoadTest -c Release -o perf/out/loadtest --nologo -v quiet
GATEWAY=$ROOT/artifacts/publish/archestra-edge
ECHO=$ROOT/perf/out/echo/archestra-perf-echo
LOADTEST=(dotnet "$ROOT/perf/out/loadtest/archestra-loadtest.dll")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not up: $1" >&2; return 1; }

ECHO_PORT=$(free_port); CANNED_PORT=$(free_port); GATEWAY_PORT=$(free_port)
"$ECHO" --http --port "$ECHO_PORT" --name echo >/dev/null 2>&1 & ECHO_PID=$!; pids+=("$ECHO_PID")
"$ECHO" --canned --port "$CANNED_PORT" >/dev/null 2>&1 & CANNED_PID=$!; pids+=("$CANNED_PID")

CONFIG=$OUT/gateway.yaml
{
  echo "limits: { max_sessions: 20000 }"
  echo "servers:"
  echo "  echo: { remote: { url: \"http://127.0.0.1:$ECHO_PORT/mcp\" } }"
  echo "  stdio1: { process: { command: \"$ECHO\", args: [\"--stdio\"] } }"
  echo "  stdio2: { process: { command: \"$ECHO\", args: [\"--stdio\"] }, replicas: 2 }"
  for i in $(seq 0 9); do echo "  list$i: { process: { command: \"$ECHO\", args: [\"--stdio\", \"--tools\", \"50\", \"--name\", \"list$i\"] } }"; done
  echo "profiles:"
  echo "  http: { naming: bare, tools: [{ server: echo }] }"
  echo "  stdio1: { naming: bare, tools: [{ server: stdio1 }] }"
  echo "  stdio2: { naming: bare, tools: [{ server: stdio2 }] }"
  echo -n "  list: { tools: ["; for i in $(seq 0 9); do echo -n "{ server: list$i }"; [ "$i" -lt 9 ] && echo -n ", "; done; echo "] }"
  # Governance: the same HTTP echo behind 20 rules that all cover its tool (each tests the argument, none matches) and
  # redaction of secrets and personal data, beside a profile without either.
  echo "  plain: { naming: bare, tools: [{ server: echo }] }"
  echo "  governed:"
  echo "    naming: bare"
  echo "    tools: [{ server: echo }]"
  echo "    redaction: { secrets: redact, personal_data: redact }"
  echo "    policies:"
  for i in $(seq 1 20); do echo "      - { name: rule-$i, servers: [echo], tools: [\"ec*\"], when: [{ arg: text, equal_to: \"forbidden-$i\" }], decision: deny }"; done
} > "$CONFIG"
"$GATEWAY" serve --config "$CONFIG" --listen "http://127.0.0.1:$GATEWAY_PORT" --log-level warning >"$OUT/gateway.log" 2>&1 & GATEWAY_PID=$!; pids+=("$GATEWAY_PID")
wait_http "http://127.0.0.1:$GATEWAY_PORT/healthz"
wait_http "http://127.0.0.1:$ECHO_PORT/mcp" || true

G=http://127.0.0.1:$GATEWAY_PORT/v1/mcp

if [ "${SOAK:-0}" = 1 ]; then
  SOAK_SECONDS=${SOAK_SECONDS:-600}
  echo "== soak: 1,000 sessions (500 over stdio, 500 over HTTP) for ${SOAK_SECONDS}s"
  sample() { echo "$(date +%s) $(awk '/VmRSS/{print $2}' /proc/$GATEWAY_PID/status) $(ls /proc/$GATEWAY_PID/fd | wc -l)"; }
  sample > "$OUT/soak-samples.txt"
  for profile in stdio1 http; do
    "${LOADTEST[@]}" --label "soak-$profile" --scenario echo --url "$G/$profile" --sessions 500 --clients 500 --rate 250 \
      --duration "$SOAK_SECONDS" --warmup 5 --json "$OUT/soak-$profile.json" --quiet >/dev/null & pids+=("$!")
  done
  end=$(( $(date +%s) + SOAK_SECONDS + 10 ))
  while [ "$(date +%s)" -lt "$end" ]; do sleep 5; sample >> "$OUT/soak-samples.txt"; done
  wait "${pids[@]:3}" 2>/dev/null || true
  sleep 2; sample >> "$OUT/soak-samples.txt"
  python3 - "$OUT" <<'PY' | tee "$OUT/soak.md"
import json, sys
out = sys.argv[1]
rows = [list(map(int, l.split())) for l in open(f"{out}/soak-samples.txt") if l.strip()]
rss = [r[1] for r in rows]; fds = [r[2] for r in rows]
print("| | start | peak | end |\n|---|---|---|---|")
print(f"| RSS (MiB) | {rss[0]/1024:.1f} | {max(rss)/1024:.1f} | {rss[-1]/1024:.1f} |")
print(f"| descriptors | {fds[0]} | {max(fds)} | {fds[-1]} |")
for p in ("stdio1", "http"):
    r = json.load(open(f"{out}/soak-{p}.json"))
    print(f"\n{p}: {r['ok']} calls, {r['failed']} errors, p99 {r['latencyMs']['p99']:.2f} ms")
PY
  exit 0
fi
run() { # label scenario url json [extra args]
  local label=$1 scenario=$2 url=$3 json=$4; shift 4
  "${LOADTEST[@]}" --label "$label" --scenario "$scenario" --url "$url" --duration "$DURATION" --warmup "$WARMUP" --json "$json" --quiet "$@" >/dev/null
  echo "   $label: $(python3 -c "import json,sys; r=json.load(open('$json')); print(f\"{r['throughput']:.0f}/s p99 {r['latencyMs']['p99']:.2f}ms errors {r['failed']}\")")"
}

echo "== throughput: closed loop, $CLIENTS clients, small echo ($ROUNDS alternating rounds of ${DURATION}s)"
cases=(direct gateway-http gateway-http-stateless gateway-stdio1 gateway-stdio2 canned)
for round in $(seq 1 "$ROUNDS"); do
  rotated=("${cases[@]:$(( (round-1) % ${#cases[@]} ))}" "${cases[@]:0:$(( (round-1) % ${#cases[@]} ))}")
  for c in "${rotated[@]}"; do
    j=$OUT/throughput-$c-r$round.json
    case $c in
      direct) run "$c" echo "http://127.0.0.1:$ECHO_PORT/mcp" "$j" --clients "$CLIENTS" --watch "echo=$ECHO_PID" ;;
      gateway-http) run "$c" echo "$G/http" "$j" --clients "$CLIENTS" --watch "gateway=$GATEWAY_PID" --watch "echo=$ECHO_PID" ;;
      gateway-http-stateless) run "$c" echo "$G/http" "$j" --clients "$CLIENTS" --stateless --watch "gateway=$GATEWAY_PID" --watch "echo=$ECHO_PID" ;;
      gateway-stdio1) run "$c" echo "$G/stdio1" "$j" --clients "$CLIENTS" --watch "gateway=$GATEWAY_PID" ;;
      gateway-stdio2) run "$c" echo "$G/stdio2" "$j" --clients "$CLIENTS" --watch "gateway=$GATEWAY_PID" ;;
      canned) run "$c" echo "http://127.0.0.1:$CANNED_PORT/mcp" "$j" --clients "$CLIENTS" --no-verify --watch "canned=$CANNED_PID" ;;
    esac
  done
done

echo "== latency: open loop at $RATE calls/s (latency from the intended send time)"
for round in $(seq 1 "$ROUNDS"); do
  for c in direct gateway-http; do
    j=$OUT/latency-$c-r$round.json
    if [ "$c" = direct ]; then run "$c" echo "http://127.0.0.1:$ECHO_PORT/mcp" "$j" --rate "$RATE" --sessions 32;
    else run "$c" echo "$G/http" "$j" --rate "$RATE" --sessions 32; fi
  done
done

echo "== other scenarios"
run direct-64k echo64k "http://127.0.0.1:$ECHO_PORT/mcp" "$OUT/scenario-direct-64k.json" --clients 8
run gateway-64k echo64k "$G/http" "$OUT/scenario-gateway-64k.json" --clients 8 --watch "gateway=$GATEWAY_PID"
run gateway-list list "$G/list" "$OUT/scenario-gateway-list.json" --clients 8 --expect-tools 500 --watch "gateway=$GATEWAY_PID"
run gateway-churn churn "$G/http" "$OUT/scenario-gateway-churn.json" --clients 8 --watch "gateway=$GATEWAY_PID"
run gateway-mix mix "$G/http" "$OUT/scenario-gateway-mix.json" --clients "$CLIENTS" --tool echo --watch "gateway=$GATEWAY_PID"
GOVERNANCE_ROUNDS=$(( ROUNDS < 2 ? ROUNDS : ROUNDS * 2 - 1 ))
echo "== governance: 20 policy rules and redaction beside neither ($GOVERNANCE_ROUNDS alternating rounds: the difference is small beside the box's noise)"
for round in $(seq 1 "$GOVERNANCE_ROUNDS"); do
  for c in plain governed; do
    run "governance-$c" echo "$G/$c" "$OUT/governance-$c-r$round.json" --clients "$CLIENTS" --watch "gateway=$GATEWAY_PID" --watch "echo=$ECHO_PID"
  done
done
kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true

echo "== fleet: the token check on PostgreSQL beside SQLite, and a call forwarded to its session's owner beside a local one"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -x "$PG_BIN/postgres" ]; then
  PGDIR=$(realpath "$OUT")/pg; mkdir -p "$PGDIR"; as_pg=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDIR"; as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --); fi
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -U edge -A trust --no-sync >/dev/null
  PG_PORT=$(free_port)
  "${as_pg[@]}" "$PG_BIN/postgres" -D "$PGDIR/data" -p "$PG_PORT" -k "$PGDIR" -c listen_addresses=127.0.0.1 >"$OUT/postgres.log" 2>&1 & pids+=("$!")
  for _ in $(seq 1 300); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.1; done
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { echo "postgres did not start: $OUT/postgres.log" >&2; exit 1; }
  export ARCHESTRA_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=edge;Database=postgres"
  auth_config() { # file [storage line]
    { echo "server: { data_dir: \"$OUT/state-$(basename "$1" .yaml)\" }"
      echo "limits: { max_sessions: 20000 }"
      echo "servers:"
      echo "  echo: { remote: { url: \"http://127.0.0.1:$ECHO_PORT/mcp\" } }"
      echo "profiles:"
      echo "  http: { naming: bare, access: { org: true }, tools: [{ server: echo }] }"
      echo "auth: { bearer: { tokens: [] } }"
      if [ -n "${2:-}" ]; then echo "$2"; fi; } > "$1"
  }
  auth_config "$OUT/auth-sqlite.yaml"
  auth_config "$OUT/auth-fleet.yaml" 'storage: { backend: postgres, connection: "${env:ARCHESTRA_POSTGRES}" }'
  SQLITE_TOKEN=$("$GATEWAY" token create --config "$OUT/auth-sqlite.yaml" --name perf --scope org 2>/dev/null)
  FLEET_TOKEN=$("$GATEWAY" token create --config "$OUT/auth-fleet.yaml" --name perf --scope org 2>/dev/null)
  S_PORT=$(free_port); A_PORT=$(free_port); B_PORT=$(free_port)
  "$GATEWAY" serve --config "$OUT/auth-sqlite.yaml" --listen "http://127.0.0.1:$S_PORT" --log-level warning >"$OUT/gateway-sqlite.log" 2>&1 & S_PID=$!; pids+=("$S_PID")
  "$GATEWAY" serve --config "$OUT/auth-fleet.yaml" --listen "http://127.0.0.1:$A_PORT" --data-dir "$OUT/state-a" --log-level warning >"$OUT/gateway-a.log" 2>&1 & A_PID=$!; pids+=("$A_PID")
  "$GATEWAY" serve --config "$OUT/auth-fleet.yaml" --listen "http://127.0.0.1:$B_PORT" --data-dir "$OUT/state-b" --log-level warning >"$OUT/gateway-b.log" 2>&1 & B_PID=$!; pids+=("$B_PID")
  for p in "$S_PORT" "$A_PORT" "$B_PORT"; do wait_http "http://127.0.0.1:$p/healthz"; done
  for _ in $(seq 1 150); do curl -s "http://127.0.0.1:$A_PORT/readyz" | grep -q '"fleet_members":2' && break; sleep 0.2; done
  for round in $(seq 1 "$ROUNDS"); do
    for c in auth-sqlite fleet-local fleet-forwarded; do
      j=$OUT/fleet-$c-r$round.json
      case $c in
        auth-sqlite) run "$c" echo "http://127.0.0.1:$S_PORT/v1/mcp/http" "$j" --clients "$CLIENTS" --token "$SQLITE_TOKEN" --watch "gateway=$S_PID" ;;
        fleet-local) run "$c" echo "http://127.0.0.1:$A_PORT/v1/mcp/http" "$j" --clients "$CLIENTS" --token "$FLEET_TOKEN" --watch "gateway=$A_PID" --watch "front=$B_PID" ;;
        fleet-forwarded) run "$c" echo "http://127.0.0.1:$A_PORT/v1/mcp/http" "$j" --clients "$CLIENTS" --token "$FLEET_TOKEN" \
          --call-url "http://127.0.0.1:$B_PORT/v1/mcp/http" --watch "gateway=$A_PID" --watch "front=$B_PID" ;;
      esac
    done
  done
  kill "$S_PID" "$A_PID" "$B_PID"; wait "$S_PID" "$A_PID" "$B_PID" 2>/dev/null || true
else
  echo "   (PostgreSQL is not installed: skipped)"
fi

echo "== start-up, idle memory, memory per session"
PORT=$(free_port)
"${LOADTEST[@]}" --label startup --scenario startup --url "http://127.0.0.1:$PORT/v1/mcp/default" --repeat 10 --json "$OUT/startup.json" --quiet \
  --spawn "$GATEWAY" serve --config "$ROOT/archestra.yaml.example" --listen "http://127.0.0.1:$PORT" --log-level warning >/dev/null
for n in 1000 10000; do
  PORT=$(free_port)
  "$GATEWAY" serve --config "$CONFIG" --listen "http://127.0.0.1:$PORT" --log-level warning >/dev/null 2>&1 & GP=$!
  wait_http "http://127.0.0.1:$PORT/healthz"
  "${LOADTEST[@]}" --label "sessions-$n" --scenario sessions --url "http://127.0.0.1:$PORT/v1/mcp/http" --sessions "$n" --clients 16 \
    --watch "gateway=$GP" --json "$OUT/sessions-$n.json" --quiet >/dev/null
  kill "$GP"; wait "$GP" 2>/dev/null || true
done

cat > "$OUT/meta.json" <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
  "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)",
  "dotnet": "$(dotnet --version)",
  "binaryBytes": $(stat -c %s "$GATEWAY"),
  "command": "ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CLIENTS=$CLIENTS RATE=$RATE perf/run.sh",
  "commit": "$(git rev-parse --short HEAD)$(git diff --quiet || echo '+local')"
}
JSON

"${LOADTEST[@]}" summarize "$OUT" perf/RESULTS.md
echo "== wrote perf/RESULTS.md (raw reports in $OUT)"
