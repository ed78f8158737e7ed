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
#                      so the two do not take each other's CPU (default 1 when taskset
#                      and two cores are there; 0: unpinned)
#   BENCH_ROUNDS       rounds (default 3): every round runs every scenario against every
#                      authd target in turn, each just after a baseline run of its own;
#                      the table gives the median of the per-round ratios to that run
#   BENCH_AUTHD_ENV    extra settings for every authd target, KEY=VALUE separated by
#                      spaces (e.g. AUTHD_ACCESS_LOG=false), to measure what one costs
#   BENCH_LIMITS       off (request limits off), default (authd's default limits) or both
#                      (default both: each authd target twice, the second labelled +limits)
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
ROUNDS=${BENCH_ROUNDS:-3}
LIMITS=${BENCH_LIMITS:-both}
case $LIMITS in off | default | both) ;; *)
	echo "bench: BENCH_LIMITS must be off, default or both" >&2
	exit 2
	;;
esac
PIN_DEFAULT=0
if command -v taskset >/dev/null && (($(nproc) >= 2)); then PIN_DEFAULT=1; fi
if [[ ${BENCH_PIN:-$PIN_DEFAULT} == 1 ]]; then
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

# run_load LABEL SCENARIO ROUND [PAIR]: one scenario against one target, JSON into
# $OUT. PAIR names the target a baseline run is the reference of (it runs just
# before it); such a run goes into the HTML report only for the first target.
run_load() {
	local label=$1 scenario=$2 round=$3 pair=${4:-} out="$OUT/$2@$1#$3.json"
	[[ -n $pair ]] && out="$OUT/$2@$1~$pair#$3.json"
	log "$scenario @ $label${pair:+ (for $pair)} (round $round of $ROUNDS)"
	local before
	before=$(metric "$label" go_memstats_mallocs_total)
	if timeout --kill-after=10 "$RUN_TIMEOUT" "${LOAD_CPU[@]}" "$LT" run --label "$label" --target "${T_PUBLIC[$label]}" \
		--admin "${T_ADMIN[$label]}" --fixture "$WORK/fixture-$label.json" --scenarios "$scenario" \
		--workers "$WORKERS" --rate "$RATE" --duration "$DURATION" --json >"$out" 2>>"$OUT/$label.log"; then
		RESULTS+=("$out")
		[[ -z $pair || $pair == "$FIRST_TARGET" ]] && REPORT_RESULTS+=("$out")
		if [[ -n $before ]]; then
			# Memory beside speed: the server's RSS after the run and its
			# allocations per request (background work included, so a little high).
			local after rss reqs
			after=$(metric "$label" go_memstats_mallocs_total)
			rss=$(metric "$label" process_resident_memory_bytes)
			reqs=$(jq '[.results[].streams[0].requests] | add // 0' "$out")
			if [[ -n $after && -n $rss && $reqs != 0 ]]; then
				printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$scenario" "$round" \
					"$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1048576 }')" \
					"$(awk -v a="$after" -v b="$before" -v n="$reqs" 'BEGIN { printf "%.0f", (a - b) / n }')" >>"$OUT/memory.tsv"
			fi
		fi
	else
		log "$scenario @ $label: the run failed (see $OUT/$label.log)"
		rm -f "$out"
	fi
}

# metric LABEL NAME: a value from an authd target's /metrics ("" for the baseline
# or when it cannot be read).
metric() {
	[[ $1 == baseline ]] && return 0
	# awk reads to the end (no early exit), so curl never meets a closed pipe,
	# and a failed read is "", never an error that would end the script.
	{ curl -s --max-time 5 -H "Authorization: Bearer ${T_TOKEN[$1]}" "${T_ADMIN[$1]}/metrics" 2>/dev/null || true; } |
		awk -v m="$2" '$1 == m && !done { printf "%.0f", $2; done = 1 }' || true
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
		"${LIMIT_ENV[@]}" "$@" \
		"${SERVER_CPU[@]}" "$WORK/bin/authd" serve >"$OUT/authd-$label.out" 2>"$OUT/authd-$label.log" &
	AUTHD_PID=$!
	PIDS+=("$AUTHD_PID")
	for ((i = 0; i < 300; i++)); do
		if grep -q '"msg":"listening"' "$OUT/authd-$label.log" 2>/dev/null; then
			AUTHD_PUBLIC=$(grep -o '"public":"[^"]*"' "$OUT/authd-$label.log" | head -1 | cut -d'"' -f4)
			AUTHD_ADMIN=$(grep -o '"admin":"[^"]*"' "$OUT/authd-$label.log" | head -1 | cut -d'"' -f4)
			# Idle memory: the resident set 5 s after start-up, before any request
			# (taskset execs authd, so the PID is authd's).
			sleep 5
			awk -v l="$label" '/^VmRSS:/ { printf "%s\t%.1f\n", l, $2 / 1024 }' "/proc/$AUTHD_PID/status" >>"$OUT/idle.tsv" 2>/dev/null || true
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

# LIMIT_MODES are the request-limit settings each authd target runs under:
# off (the load comes from one address and one client, which the baseline
# does not limit) and/or authd's defaults, labelled +limits.
LIMIT_MODES=()
case $LIMITS in off) LIMIT_MODES=(off) ;; default) LIMIT_MODES=(default) ;; both) LIMIT_MODES=(off default) ;; esac
read -r -a EXTRA_ENV <<<"${BENCH_AUTHD_ENV:-}"
limit_env() {
	LIMIT_ENV=("${EXTRA_ENV[@]}")
	if [[ $1 == off ]]; then
		LIMIT_ENV+=(AUTHD_RATE_LIMIT_IP="${BENCH_RATE_LIMIT_IP:-0}" AUTHD_RATE_LIMIT_CLIENT="${BENCH_RATE_LIMIT_CLIENT:-0}"
			AUTHD_RATE_LIMIT_INACTIVE="${BENCH_RATE_LIMIT_INACTIVE:-0}")
	fi
}
suffix() { [[ $1 == off ]] && echo "" || echo "+limits"; }

# (b) authd, embedded.
if want sqlite; then
	for mode in "${LIMIT_MODES[@]}"; do
		limit_env "$mode"
		label=sqlite$(suffix "$mode")
		if start_authd "$label"; then
			add_target "$label" "$AUTHD_PUBLIC" "$AUTHD_ADMIN" "$AUTHD_TOKEN"
		fi
	done
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
			base_label=$label
			for mode in "${LIMIT_MODES[@]}"; do
				limit_env "$mode"
				label=$base_label$(suffix "$mode")
				if start_authd "$label" "${extra[@]}"; then
					add_target "$label" "$AUTHD_PUBLIC" "$AUTHD_ADMIN" "$AUTHD_TOKEN"
				fi
			done
		fi
	fi
fi

# Every scenario against every target, back to back, each authd target just
# after a baseline run of its own: this machine's speed drifts by as much as 2×
# from one run to the next, so a target's ratio is to the baseline beside it,
# not to one baseline run for the whole round. Idle servers cost nothing.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a SCENARIO_LIST <<<"$SCENARIOS"
REPORT_RESULTS=()
FIRST_TARGET=""
for label in "${LABELS[@]}"; do
	[[ $label != baseline ]] && { FIRST_TARGET=$label; break; }
done
for ((round = 1; round <= ROUNDS; round++)); do
	for scenario in "${SCENARIO_LIST[@]}"; do
		for label in "${LABELS[@]}"; do
			[[ $label == baseline ]] && continue
			[[ -n ${T_PUBLIC[baseline]:-} ]] && run_load baseline "$scenario" "$round" "$label"
			run_load "$label" "$scenario" "$round"
		done
		# Only the baseline was set up: it still gets its figures.
		[[ -z $FIRST_TARGET && -n ${T_PUBLIC[baseline]:-} ]] && run_load baseline "$scenario" "$round"
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
"$LT" report --html "$OUT/report.html" "${REPORT_RESULTS[@]}"

# The pinned method's table: per scenario and target, the median over rounds of
# the per-round ratio to the baseline run just before it, and the median p50/p99
# of both.
echo
echo "rounds: $ROUNDS; pinned: $([[ ${#SERVER_CPU[@]} -gt 0 ]] && echo "servers on CPU 0, load generator on CPU 1" || echo no); limits: $LIMITS"
for f in "${RESULTS[@]}"; do
	round=${f##*#}
	round=${round%.json}
	pair=""
	[[ $f == *"~"* ]] && { pair=${f##*~}; pair=${pair%%#*}; }
	jq -r --arg round "$round" --arg pair "$pair" '.results[] | select(.status == "ok") | .streams[0] as $s |
		[.target, .scenario, $round, (if ($s.items_per_second // 0) > 0 then $s.items_per_second else $s.ok_rps end),
		 $s.latency.p50_ms, $s.latency.p99_ms, $pair] | @tsv' "$f"
done | awk -F'\t' '
	{ key = $2 SUBSEP $3; val[$1, key] = $4; p50[$1, $2] = p50[$1, $2] " " $5; p99[$1, $2] = p99[$1, $2] " " $6
	  if ($7 != "") { ref[$7, key] = $4; bp50[$7, $2] = bp50[$7, $2] " " $5; bp99[$7, $2] = bp99[$7, $2] " " $6 }
	  targets[$1] = 1; scen[$2] = 1; rounds[$2, $3] = 1 }
	function median(list,    a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
		if (n == 0) return "-"
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		printf "%-18s %-16s %8s %13s %13s %13s\n", "SCENARIO", "TARGET", "RATIO", "RANGE", "P50/P99 MS", "BASE P50/P99"
		for (sc in scen) for (t in targets) {
			if (t == "baseline") continue
			ratios = ""
			for (k in rounds) { split(k, kk, SUBSEP); if (kk[1] != sc) continue
				r = kk[2]; if (!((t, sc SUBSEP r) in val)) continue
				# The baseline run just before this one, else any of the round.
				b = ((t, sc SUBSEP r) in ref) ? ref[t, sc SUBSEP r] : val["baseline", sc SUBSEP r]
				if (b > 0) ratios = ratios " " val[t, sc SUBSEP r] / b }
			if (ratios == "") continue
			n = split(ratios, rs, " "); lo = rs[1]; hi = rs[1]
			for (i = 1; i <= n; i++) { if (rs[i] < lo) lo = rs[i]; if (rs[i] > hi) hi = rs[i] }
			printf "%-18s %-16s %8.2f %6.2f-%-6.2f %6.2f/%-6.2f %6.2f/%-6.2f\n", sc, t, median(ratios), lo, hi,
				median(p50[t, sc]), median(p99[t, sc]),
				median(((t, sc) in bp50) ? bp50[t, sc] : p50["baseline", sc]), median(((t, sc) in bp99) ? bp99[t, sc] : p99["baseline", sc])
		}
	}' | LC_ALL=C sort
if [[ -s $OUT/memory.tsv ]]; then
	echo
	awk -F'\t' '{ rss[$1 "\t" $2] = rss[$1 "\t" $2] " " $4; al[$1 "\t" $2] = al[$1 "\t" $2] " " $5 }
		function median(list,    a, n, i, j, t) {
			n = split(list, a, " ")
			for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END {
			printf "%-18s %-16s %10s %14s\n", "SCENARIO", "TARGET", "RSS MB", "ALLOCS/REQ"
			for (k in rss) { split(k, kk, "\t"); printf "%-18s %-16s %10.1f %14.0f\n", kk[2], kk[1], median(rss[k]), median(al[k]) }
		}' "$OUT/memory.tsv" | LC_ALL=C sort
fi
if [[ -s $OUT/idle.tsv ]]; then
	echo
	printf '%-18s %10s\n' "IDLE (5 s, no load)" "RSS MB"
	LC_ALL=C sort "$OUT/idle.tsv" | awk -F'\t' '{ printf "%-18s %10.1f\n", $1, $2 }'
fi
cat <<'EOF'

REQ/S counts expected answers only (200 with an active token, an issued token, …), per second;
TOKENS/S is REQ/S × 100 for batch introspection. VS BASELINE divides a target's figure by the
baseline's for the same scenario. RATIO is the median over rounds of that per-round ratio
(RANGE its lowest and highest), the figure to quote; targets labelled +limits ran with authd's
default request limits, the others with them off. Goals (issue 12): JWT issuance and cached
introspection ≥ 0.90 of the baseline, batch introspection ≥ 0.90 of its tokens/s, opaque
issuance ≥ 0.50, p99 at most 2× the baseline's, idle RSS under 30 MB.
EOF
