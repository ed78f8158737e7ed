#!/usr/bin/env bash
# bench/run.sh: measure authd's hot paths against a bare baseline on this machine.
#
# Builds authd and authd-loadtest, starts
#   (a) the bare baseline (authd-loadtest baseline: same crypto per request, nothing else),
#   (b) authd on the embedded default (SQLite in a fresh temporary data folder),
#   (c) authd on PostgreSQL (+ Redis when reachable), when PostgreSQL answers on
#       127.0.0.1:5432: in a database of its own, dropped at the end,
# sets each up (clients and token pools through its admin API), then runs every
# scenario against every target back to back with the same load, and prints one table
# with every figure as a ratio to the baseline. It reports; it does not assert.
#
# Everything listens on 127.0.0.1 with ports the kernel picks (port 0), and only the
# processes this script started are stopped, by PID. Every run is bounded by the
# tool's own caps (--duration, --max-requests) and by BENCH_RUN_TIMEOUT.
#
# Settings (environment):
#   BENCH_WORKERS      concurrent connections (default 64)
#   BENCH_DURATION     per scenario (default 10s; at most 5m)
#   BENCH_RATE         req/s, open loop; 0 = closed loop as fast as the workers go (default 0)
#   BENCH_TOKENS       tokens per introspection pool (default 1000)
#   BENCH_SCENARIOS    default token-jwt,token-opaque,introspect-jwt,introspect-opaque,introspect-batch
#   BENCH_TARGETS      which of baseline,sqlite,postgres to run (default all three)
#   BENCH_PG_URL       an existing database to connect to for CREATE/DROP DATABASE
#                      (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
#   BENCH_REDIS_HOST   default 127.0.0.1; BENCH_REDIS_PORT default 6379
#   BENCH_REDIS_DB     Redis logical database (default 13); authd's keys go under a prefix
#                      of this run's own (AUTHD_REDIS_PREFIX), deleted at the end
#   BENCH_OUT          folder for the JSON results, the HTML report (report.html) and logs
#                      (default: a new temporary folder, kept)
#   BENCH_RUN_TIMEOUT  seconds one scenario run may take (default 600)
#   BENCH_PIN          1: servers on core 0 and the load generator on core 1 (taskset),
#                      so the two do not take each other's CPU (default 0: unpinned)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKERS=${BENCH_WORKERS:-64}
DURATION=${BENCH_DURATION:-10s}
RATE=${BENCH_RATE:-0}
TOKENS=${BENCH_TOKENS:-1000}
SCENARIOS=${BENCH_SCENARIOS:-token-jwt,token-opaque,introspect-jwt,introspect-opaque,introspect-batch}
TARGETS=${BENCH_TARGETS:-baseline,sqlite,postgres}
PG_ADMIN_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
REDIS_HOST=${BENCH_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${BENCH_REDIS_PORT:-6379}
REDIS_DB=${BENCH_REDIS_DB:-13}
REDIS_PREFIX="authd-bench-$$-$(date +%s):"
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-600}
SERVER_CPU=() # command prefixes that pin servers and the load generator
LOAD_CPU=()
if [[ ${BENCH_PIN:-0} == 1 ]]; then
	if ! command -v taskset >/dev/null || (($(nproc) < 2)); then
		echo "bench: BENCH_PIN=1 needs taskset and two cores" >&2
		exit 2
	fi
	SERVER_CPU=(taskset -c 0)
	LOAD_CPU=(taskset -c 1)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/authd-bench.XXXXXX")
OUT=${BENCH_OUT:-$WORK/results}
mkdir -p "$OUT"

PIDS=()          # processes this script started
PG_DB=""         # database this script created
REDIS_USED=""    # set once authd was given Redis: its keys are under REDIS_PREFIX

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# stop_pid PID: TERM, up to 10 s to exit, then KILL. Only PIDs from PIDS are passed.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
	if [[ -n $PG_DB ]]; then
		psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
			log "could not drop database $PG_DB: drop it by hand"
		PG_DB=""
	fi
	if [[ -n $REDIS_USED ]]; then
		# Only the keys under this run's prefix.
		redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null |
			xargs -r -n 500 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" DEL >/dev/null 2>&1 ||
			log "could not delete the Redis keys under $REDIS_PREFIX in db $REDIS_DB"
		REDIS_USED=""
	fi
	# Data folders hold secrets; results and logs stay in $OUT.
	rm -rf "$WORK/data-"* "$WORK/fixture-"* "$WORK/bin" "$WORK/baseline.addr"
	# The temporary folder goes too when the results were written elsewhere.
	[[ $OUT == "$WORK"/* ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# reachable HOST PORT: a TCP connect within 2 s.
reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

random_b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

log "building authd and authd-loadtest from $ROOT"
mkdir -p "$WORK/bin"
(cd "$ROOT" && go build -o "$WORK/bin/authd" ./cmd/authd && go build -o "$WORK/bin/authd-loadtest" ./cmd/authd-loadtest)
LT=$WORK/bin/authd-loadtest

# Targets that are up: LABEL -> public URL, admin URL, admin token.
declare -A T_PUBLIC T_ADMIN T_TOKEN
LABELS=()

# add_target LABEL PUBLIC ADMIN TOKEN: set the target up (clients, token pools) now, so
# every scenario later runs against the same fixture.
add_target() {
	local label=$1
	if AUTHD_ADMIN_TOKEN=$4 timeout --kill-after=10 300 "$LT" setup --target "$2" --admin "$3" \
		--tokens "$TOKENS" --users 0 --out "$WORK/fixture-$label.json" 2>>"$OUT/$label.log"; then
		T_PUBLIC[$label]=$2 T_ADMIN[$label]=$3 T_TOKEN[$label]=$4
		LABELS+=("$label")
	else
		log "$label: setup failed (see $OUT/$label.log)"
	fi
}

# run_load LABEL SCENARIO: one scenario against one target, JSON into $OUT.
run_load() {
	local label=$1 scenario=$2 out="$OUT/$2@$1.json"
	log "$scenario @ $label"
	if timeout --kill-after=10 "$RUN_TIMEOUT" "${LOAD_CPU[@]}" "$LT" run --label "$label" --target "${T_PUBLIC[$label]}" \
		--admin "${T_ADMIN[$label]}" --fixture "$WORK/fixture-$label.json" --scenarios "$scenario" \
		--workers "$WORKERS" --rate "$RATE" --duration "$DURATION" --json >"$out" 2>>"$OUT/$label.log"; then
		RESULTS+=("$out")
	else
		log "$scenario @ $label: the run failed (see $OUT/$label.log)"
		rm -f "$out"
	fi
}

# start_authd LABEL [ENV=VALUE...]: authd serve on ports 0 with a fresh data folder;
# sets AUTHD_PID, AUTHD_PUBLIC, AUTHD_ADMIN, AUTHD_TOKEN. Returns 1 if it did not come up.
start_authd() {
	local label=$1 i
	shift
	AUTHD_TOKEN=$(random_b64 32)
	local data=$WORK/data-$label
	mkdir -p "$data"
	env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
		AUTHD_DATA_DIR="$data" AUTHD_LISTEN=127.0.0.1:0 AUTHD_ADMIN_LISTEN=127.0.0.1:0 \
		AUTHD_ADMIN_TOKEN="$AUTHD_TOKEN" \
		AUTHD_RATE_LIMIT_IP="${BENCH_RATE_LIMIT_IP:-0}" AUTHD_RATE_LIMIT_CLIENT="${BENCH_RATE_LIMIT_CLIENT:-0}" \
		AUTHD_RATE_LIMIT_INACTIVE="${BENCH_RATE_LIMIT_INACTIVE:-0}" "$@" \
		"${SERVER_CPU[@]}" "$WORK/bin/authd" serve >"$OUT/authd-$label.out" 2>"$OUT/authd-$label.log" &
	AUTHD_PID=$!
	PIDS+=("$AUTHD_PID")
	for ((i = 0; i < 300; i++)); do
		if grep -q '"msg":"listening"' "$OUT/authd-$label.log" 2>/dev/null; then
			AUTHD_PUBLIC=$(grep -o '"public":"[^"]*"' "$OUT/authd-$label.log" | head -1 | cut -d'"' -f4)
			AUTHD_ADMIN=$(grep -o '"admin":"[^"]*"' "$OUT/authd-$label.log" | head -1 | cut -d'"' -f4)
			return 0
		fi
		kill -0 "$AUTHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "$label: authd did not start (see $OUT/authd-$label.log)"
	return 1
}

RESULTS=()
want() { [[ ",$TARGETS," == *",$1,"* ]]; }

# (a) The baseline.
if want baseline; then
	BASE_TOKEN=$(random_b64 24)
	AUTHD_BASELINE_ADMIN_TOKEN=$BASE_TOKEN "${SERVER_CPU[@]}" "$LT" baseline --listen 127.0.0.1:0 --addr-file "$WORK/baseline.addr" \
		--max-lifetime 3h >"$OUT/baseline-server.log" 2>&1 &
	BASE_PID=$!
	PIDS+=("$BASE_PID")
	for ((i = 0; i < 100; i++)); do [[ -s $WORK/baseline.addr ]] && break; sleep 0.1; done
	if [[ -s $WORK/baseline.addr ]]; then
		BASE_URL=$(cat "$WORK/baseline.addr")
		add_target baseline "$BASE_URL" "$BASE_URL" "$BASE_TOKEN"
	else
		log "baseline did not start (see $OUT/baseline-server.log)"
	fi
fi

# (b) authd, embedded.
if want sqlite && start_authd sqlite; then
	add_target sqlite "$AUTHD_PUBLIC" "$AUTHD_ADMIN" "$AUTHD_TOKEN"
fi

# (c) authd on PostgreSQL (+ Redis).
if want postgres; then
	if ! command -v psql >/dev/null || ! reachable 127.0.0.1 5432; then
		log "postgres: PostgreSQL is not reachable on 127.0.0.1:5432 (or psql is missing): skipped"
	else
		PG_DB=authd_bench_$$_$(date +%s)
		if ! psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null; then
			log "postgres: could not create a database through $PG_ADMIN_URL: skipped"
			PG_DB=""
		else
			# The same server and user as BENCH_PG_URL, in the new database.
			DB_URL=$(sed -E "s#/[^/?]+(\?|$)#/$PG_DB\1#" <<<"$PG_ADMIN_URL")
			label=postgres
			extra=(AUTHD_DATABASE_URL="$DB_URL" AUTHD_MASTER_KEY="$(random_b64 32)")
			if command -v redis-cli >/dev/null && reachable "$REDIS_HOST" "$REDIS_PORT"; then
				REDIS_USED=1
				label=postgres+redis
				extra+=(AUTHD_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB" AUTHD_REDIS_PREFIX="$REDIS_PREFIX")
			else
				log "postgres: Redis is not reachable on $REDIS_HOST:$REDIS_PORT (or redis-cli is missing): running without Redis"
			fi
			if start_authd "$label" "${extra[@]}"; then
				add_target "$label" "$AUTHD_PUBLIC" "$AUTHD_ADMIN" "$AUTHD_TOKEN"
			fi
		fi
	fi
fi

# Every scenario against every target, back to back, so that whatever else this
# machine is doing drifts the figures of all targets alike. Idle servers cost nothing.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a SCENARIO_LIST <<<"$SCENARIOS"
for scenario in "${SCENARIO_LIST[@]}"; do
	for label in "${LABELS[@]}"; do
		run_load "$label" "$scenario"
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "authd benchmark on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); results and logs in $OUT"
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER (other work on the machine skews every figure)"
if ((${#RESULTS[@]} == 0)); then
	echo "no target produced results"
	exit 1
fi
# The same results as a self-contained HTML page (charts per scenario and target,
# the table and the settings), beside the JSON in $OUT.
# (The tool says where it wrote it, on stderr.)
"$LT" report --html "$OUT/report.html" "${RESULTS[@]}"
cat <<'EOF'

REQ/S counts expected answers only (200 with an active token, an issued token, …), per second;
TOKENS/S is REQ/S × 100 for batch introspection. VS BASELINE divides a target's figure by the
baseline's for the same scenario. GOAL is the issue's target: JWT issuance ≥ 70 % of the
baseline, cached introspection ≥ 80 %, batch introspection ≥ 100,000 tokens/s.
EOF
