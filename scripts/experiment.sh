#!/usr/bin/env bash
# The 600k experiment of http-kit, reproduced on this machine (./run.sh calls
# this after set-up and build):
#
#   1. raise what can be raised (fs.file-max, nf_conntrack_max, the accept
#      and SYN backlogs) and report the descriptor limit and process counts;
#   2. start httpkit-server, record its empty RSS and measure
#      `ab -n 100000 -c 10 -k` against it with nothing held;
#   3. run httpkit-load to the target (default 600,000), hold --steady seconds,
#      and while every connection is held run the same ab again;
#   4. print the final table; write it, the per-second CSVs, ab's outputs
#      and a chart under results/<timestamp>/;
#   5. stop everything it started, by PID, even on Ctrl-C, and restore every
#      sysctl it changed.
#
# --tls runs the same over HTTPS: a test CA and an ECDSA P-256 leaf for
# localhost are made into results/<timestamp>/certs (scripts/lib/certs.sh),
# httpkit-server serves --port with --tls-cert/--tls-key, httpkit-load runs
# --tls verifying against that CA, and ab measures https:// (ab speaks TLS
# itself; keep-alive as before). The table says TLS.
#
# Usage: scripts/experiment.sh [--connections N] [--steady S] [--port P]
#                              [--build DIR] [--nice N] [--netns yes|no] [--tls]
#                              [httpkit-load options...]
#   --nice N   run server, load and ab at niceness N (e.g. -10 on a machine
#              shared with other work; all three alike, so ratios stay fair)
#   --netns    yes (default): run everything in a network namespace created
#              for the run, whose TCP hash table is sized for the target
#              (the host's was sized at boot: 262,144 buckets here, so 2M
#              sockets meant chains of 8 walked on every packet); no: use
#              the host's namespace as it is
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

connections=600000
steady=60
port=8000
build=build
niceness=0
use_netns=yes
use_tls=0
load_extra=()
while (($#)); do
  case $1 in
    --connections) connections=$2; shift 2 ;;
    --connections=*) connections=${1#*=}; shift ;;
    --steady) steady=$2; shift 2 ;;
    --steady=*) steady=${1#*=}; shift ;;
    --port) port=$2; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --build) build=$2; shift 2 ;;
    --nice) niceness=$2; shift 2 ;;
    --netns) use_netns=$2; shift 2 ;;
    --netns=*) use_netns=${1#*=}; shift ;;
    --tls) use_tls=1; shift ;;
    -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) load_extra+=("$1"); shift ;;
  esac
done

bin=$repo/$build/bin
for b in httpkit-server httpkit-load; do
  [ -x "$bin/$b" ] || { echo "experiment: $bin/$b is not built" >&2; exit 2; }
done
command -v ab >/dev/null || { echo "experiment: ab (apache2-utils) is missing" >&2; exit 2; }

stamp=$(date +%Y%m%d-%H%M%S)
out=$repo/results/$stamp
mkdir -p "$out"
log() { printf '%s\n' "$*" | tee -a "$out/experiment.log"; }

# --tls: the certificates, and what each program is given to use them.
scheme=http
server_tls=() load_tls=() mode_text=""
if ((use_tls)); then
  source "$repo/scripts/lib/certs.sh"
  make_test_certs "$out/certs" || { echo "experiment: could not make the test certificates" >&2; exit 2; }
  scheme=https
  server_tls=(--tls-cert "$out/certs/localhost-ec.pem" --tls-key "$out/certs/localhost-ec.key")
  # Fewer connections between connect and first response per client
  # process (32, not 128): on a starved host a long queue of handshakes
  # outlived the server's 10 s handshake deadline (98 errors in a 100k run);
  # the caller's own --max-connecting replaces it.
  load_tls=(--tls --tls-ca "$out/certs/ca.pem" --tls-server-name localhost)
  [[ " ${load_extra[*]} " == *" --max-connecting"* ]] || load_tls+=(--max-connecting 32)
  mode_text=" over TLS"
fi

# ------------------------------------------------------------------ cleanup

server_pid="" load_pid="" sampler_pid="" ab_pid=""
declare -A saved_sysctl=()
netns_name=""  # the network namespace this run created, if any
ns_exec=()     # the prefix that runs a command in it

stop_pid() {  # SIGTERM, wait up to $2 seconds, then SIGKILL; only our own PIDs
  local pid=$1 seconds=${2:-30} i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? key
  trap - EXIT INT TERM
  stop_pid "$ab_pid" 5
  stop_pid "$load_pid" 60
  stop_pid "$sampler_pid" 5
  stop_pid "$server_pid" 60
  if [ -n "$netns_name" ]; then
    ip netns del "$netns_name" 2>/dev/null && echo "experiment: removed network namespace $netns_name"
  fi
  for key in "${!saved_sysctl[@]}"; do
    if sysctl -qw "$key=${saved_sysctl[$key]}" >/dev/null 2>&1; then
      echo "experiment: restored $key = ${saved_sysctl[$key]}"
    else
      echo "experiment: could not restore $key to ${saved_sysctl[$key]}" >&2
    fi
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "experiment: interrupted"; exit 130' INT
trap 'exit 143' TERM

# set_sysctl KEY VALUE [FIELD]: set KEY (if it exists and is writable) and
# remember the old value. Values with several fields are compared by field
# FIELD (default 1).
set_sysctl() {
  local key=$1 want=$2 field=${3:-1} path current
  path=/proc/sys/${key//.//}
  if [ ! -w "$path" ]; then
    log "  $key: not writable here, left as is"
    return 0
  fi
  current=$(tr -s '\t ' ' ' <"$path")
  if [ "$(cut -d' ' -f"$field" <<<"$current")" -ge "$(cut -d' ' -f"$field" <<<"$want")" ]; then
    log "  $key = $current (enough)"
    return 0
  fi
  saved_sysctl[$key]=$current
  if sysctl -qw "$key=$want" >/dev/null 2>&1; then
    log "  $key: $current -> $want (restored on exit)"
  else
    unset "saved_sysctl[$key]"
    log "  $key: could not raise from $current"
  fi
}

# ------------------------------------------------------------------ limits

fd_limit=$(ulimit -n)
load_per_process=$((fd_limit > 8000 ? (fd_limit - 4000 < 16000 ? fd_limit - 4000 : 16000) : fd_limit / 2))
load_processes=$(((connections + load_per_process - 1) / load_per_process))
# The server enforces --max-connections per event loop (an even split of the
# total), while SO_REUSEPORT hashes connections unevenly over the loops; a
# quarter of headroom keeps every loop below its share (see the README).
server_limit=$((connections + connections / 4))
server_threads=1  # processes already outnumber the cores; one loop each

# What the machine was doing before the run: figures from a busy machine
# are not comparable with a quiet one's, so the table says which it was.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "-")
log "== httpkit 600k experiment${mode_text}, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), results in results/$stamp"
((use_tls)) && log "  TLS: httpkit-server ${server_tls[*]}; httpkit-load ${load_tls[*]}; ab over https"
log "  target: $connections connections, held $steady s after the ramp, port $port, niceness $niceness"
log "  open-file limit per process: $fd_limit (soft = hard; cannot be raised here)"
log "  so httpkit-load uses $load_processes processes (<= $load_per_process connections each)"
log "  and httpkit-server --processes auto --max-connections $server_limit --threads $server_threads"
log "== sysctls"
set_sysctl fs.file-max $((2 * connections + 200000))
set_sysctl fs.nr_open 1048576
if [ -e /proc/sys/net/netfilter/nf_conntrack_max ]; then
  set_sysctl net.netfilter.nf_conntrack_max $((2 * connections + 65536))
else
  log "  nf_conntrack: module not loaded, nothing to raise"
fi
# TCP's memory thresholds (pages, the whole machine; not per namespace) are
# sized at boot from RAM: "pressure" starts at 1.5 GB here. With a million
# connections, a slow stretch (a busy host) leaves a small request or
# response unread in many sockets at once; past the threshold the kernel
# prunes buffers and drops segments, retransmissions back off for tens of
# seconds and connections time out (a 1M run on a busy host spent 49 s in
# pressure and lost 450k connections). Allow a page per connection first.
read -r tcp_min tcp_pressure _ </proc/sys/net/ipv4/tcp_mem
tcp_want=$((connections > tcp_pressure ? connections : tcp_pressure))
set_sysctl net.ipv4.tcp_mem "$tcp_min $tcp_want $((tcp_want * 3 / 2))" 2

# The TCP established-connection hash is sized once, at boot, from the
# memory of the machine (262,144 buckets here): with 2M sockets every packet
# walks a chain of ~8 cold sockets, and __inet_lookup_established was the
# largest single item of the 1M profile (19% of all CPU). A network
# namespace gets a table of its own size, so the run makes one for itself.
ehash_buckets() {  # the power of two >= 2 x connections
  local n=262144
  while ((n < 2 * connections)); do n=$((n * 2)); done
  echo "$n"
}
if [ "$use_netns" = yes ] && [ -w /proc/sys/net/ipv4/tcp_child_ehash_entries ] && command -v ip >/dev/null; then
  child_ehash_before=$(cat /proc/sys/net/ipv4/tcp_child_ehash_entries)
  candidate=httpkit-exp-$$
  if sysctl -qw net.ipv4.tcp_child_ehash_entries="$(ehash_buckets)" >/dev/null 2>&1 &&
    ip netns add "$candidate" 2>/dev/null; then
    netns_name=$candidate
    ns_exec=(ip netns exec "$netns_name")
    # The setting only shapes namespaces created from now on: restore it now.
    sysctl -qw net.ipv4.tcp_child_ehash_entries="$child_ehash_before" >/dev/null 2>&1 || true
    "${ns_exec[@]}" ip link set lo up
    log "  network namespace $netns_name (removed on exit): loopback up, TCP hash $("${ns_exec[@]}" cat /proc/sys/net/ipv4/tcp_ehash_entries) buckets (host: $(cat /proc/sys/net/ipv4/tcp_ehash_entries))"
    for setting in net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535; do
      "${ns_exec[@]}" sysctl -qw "$setting" >/dev/null 2>&1 && log "  $setting (in the namespace only)"
    done
  else
    sysctl -qw net.ipv4.tcp_child_ehash_entries="$child_ehash_before" >/dev/null 2>&1 || true
    log "  could not create a network namespace: running in the host's (TCP hash $(cat /proc/sys/net/ipv4/tcp_ehash_entries) buckets)"
  fi
fi
if [ -z "$netns_name" ]; then
  set_sysctl net.core.somaxconn 65535
  set_sysctl net.ipv4.tcp_max_syn_backlog 65535
fi

# ------------------------------------------------------------------ helpers

# RSS (kB) summed over the given PIDs.
rss_kb() { (($#)) || { echo 0; return; }; awk '/^VmRSS:/ {s += $2} END {print s + 0}' $(printf '/proc/%s/status ' "$@") 2>/dev/null || echo 0; }
# CPU seconds (user + system, with reaped children) summed over the PIDs.
cpu_s() {
  (($#)) || { echo 0; return; }
  cat $(printf '/proc/%s/stat ' "$@") 2>/dev/null |
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.2f", s / hz }'
}
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
# The machine's CPU counters (jiffies): user nice system idle iowait irq softirq steal.
cpu_counters() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}' /proc/stat; }
tree_pids() { echo "$1"; pgrep -P "$1" || true; }

ab_run() {  # ab_run LABEL: runs the seed's ab, keeps its output, prints its summary
  local label=$1 file=$out/ab_$1.txt
  log "== ab -n 100000 -c 10 -k $scheme://127.0.0.1:$port/   ($label)"
  nice -n "$niceness" "${ns_exec[@]}" timeout -k 5 300 ab -n 100000 -c 10 -k "$scheme://127.0.0.1:$port/" >"$file" 2>&1 &
  ab_pid=$!
  local status=0
  wait "$ab_pid" || status=$?
  ab_pid=""
  case $status in
    0) ;;
    124 | 137) log "  ab did not finish its 100000 requests in 300 s (stopped; no rate to report)" ;;
    *) log "  ab exited with $status: $(tail -n 1 "$file")" ;;
  esac
  { grep -E '^(SSL/TLS Protocol|Complete requests|Failed requests|Keep-Alive requests|Requests per second|Time per request|Transfer rate)' "$file" || true; } |
    sed 's/^/  /' | tee -a "$out/experiment.log"
  grep -E -A 12 '^Percentage of the requests' "$file" | sed 's/^/  /' | tee -a "$out/experiment.log" || true
}
ab_rate() { awk '/^Requests per second/ {print $4}' "$out/ab_$1.txt"; }

# ------------------------------------------------------------------ server

if "${ns_exec[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
  log "experiment: something already listens on port $port; choose another with --port"
  exit 2
fi
log "== starting httpkit-server"
nice -n "$niceness" "${ns_exec[@]}" "$bin/httpkit-server" --port "$port" --processes auto --max-connections "$server_limit" \
  --threads "$server_threads" "${server_tls[@]}" >"$out/server.log" 2>&1 &
server_pid=$!
for i in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || { log "httpkit-server died:"; cat "$out/server.log"; exit 1; }
  grep -q 'Server started' "$out/server.log" && break
  sleep 0.1
done
grep -q 'Server started' "$out/server.log" || { log "httpkit-server did not start"; exit 1; }
sleep 1
mapfile -t server_pids < <(tree_pids "$server_pid")
log "  $(head -n1 "$out/server.log") (pid $server_pid, $((${#server_pids[@]} - 1)) worker processes)"

ab_run idle
sleep 1
empty_rss=$(rss_kb "${server_pids[@]}")
empty_slab=$(slab_kb)
log "  empty server RSS: $((empty_rss / 1024)) MiB over ${#server_pids[@]} processes; kernel slab $((empty_slab / 1024)) MiB"

# ------------------------------------------------------------------ load

# One row a second: time, server RSS/CPU, client RSS/CPU, kernel slab, TCP
# sockets. One Python process reading /proc (forking tools each second falls
# behind when the load saturates both cores), at a higher priority than the
# programs it watches, or it would be starved and sample nothing.
# It is started directly (not in a subshell) so that its PID is the one we
# stop, and it quits by itself if this script goes away.
sampler_nice=$((niceness - 5 < -20 ? -20 : niceness - 5))
start_sampler() {  # start_sampler T0 OUTPUT: sets sampler_pid
  nice -n "$sampler_nice" "${ns_exec[@]}" python3 - "$1" "$load_pid" "${server_pids[@]}" >"$2" <<'PY' &
import os, sys, time
t0, load_pid, server = float(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
parent = os.getppid()
hz = os.sysconf("SC_CLK_TCK")

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []

def rss_cpu(pids):
    rss = cpu = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += sum(int(x) for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return rss, cpu / hz

def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0

def tcp_sockets():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                return int(line.split()[2])
    return 0

print("time_s,server_rss_kb,server_cpu_s,client_rss_kb,client_cpu_s,slab_kb,tcp_sockets", flush=True)
next_at = time.monotonic()
while os.getppid() == parent:
    with open("/proc/uptime") as f:
        now = float(f.read().split()[0])
    s_rss, s_cpu = rss_cpu(server)
    c_rss, c_cpu = rss_cpu([load_pid] + children(load_pid))
    print(f"{now - t0:.1f},{s_rss},{s_cpu:.2f},{c_rss},{c_cpu:.2f},{meminfo('Slab:')},{tcp_sockets()}", flush=True)
    next_at += 1
    time.sleep(max(0.05, next_at - time.monotonic()))
PY
  sampler_pid=$!
}

# Prints the lines of load.log not shown yet.
shown=0
show_new_lines() {
  local total
  total=$(wc -l <"$out/load.log")
  if ((total > shown)); then
    sed -n "$((shown + 1)),${total}p" "$out/load.log" | { grep -v '^summary-json' || true; } |
      tee -a "$out/experiment.log"
    shown=$total
  fi
}

# The run is bounded even if the target is never reached: the ramp gets
# this long (the seed needed 183 s for 600k); then the connections that are
# up are held for --steady seconds (ab runs then), then everything stops.
ramp_allowance=$((connections / 4000 > 180 ? connections / 4000 : 180))
# A TLS connect costs a full handshake on both ends (~1 ms of CPU for the
# pair with OpenSSL 3.0 here; ~260/s on a busy host): allow 200 a second.
((use_tls)) && ramp_allowance=$((connections / 200 > 180 ? connections / 200 : 180))
load_args=(--connections "$connections" --port "$port" --steady "$steady"
  --ramp-timeout "$ramp_allowance" --duration $((ramp_allowance + steady + 60)) "${load_tls[@]}")
log "== httpkit-load ${load_args[*]} ${load_extra[*]}"
t0=$(awk '{print $1}' /proc/uptime)
cpu_before=$(cpu_counters)
nice -n "$niceness" "${ns_exec[@]}" "$bin/httpkit-load" "${load_args[@]}" --csv "$out/load.csv" --summary "$out/summary.json" \
  "${load_extra[@]}" >"$out/load.log" 2>&1 &
load_pid=$!
start_sampler "$t0" "$out/samples.csv"

# Follow the load's per-second lines; once the target is held (or the ramp
# is over), let it settle a little and run ab while everything is held.
ab_done=0 settle_until=""
load_started=$SECONDS
while kill -0 "$load_pid" 2>/dev/null; do
  sleep 1
  show_new_lines
  if ((!ab_done)) && [ -z "$settle_until" ] && grep -qE '^(target reached|ramp finished)' "$out/load.log"; then
    settle_until=$((SECONDS + (steady > 20 ? 5 : 1)))
  fi
  if ((!ab_done)) && [ -z "$settle_until" ] && ((SECONDS - load_started >= ramp_allowance + 30)); then
    log "  (the ramp has not settled: ab runs against what is held now)"
    settle_until=$SECONDS
  fi
  if ((!ab_done)) && [ -n "$settle_until" ] && ((SECONDS >= settle_until)); then
    held=$(awk '/^time / {c = $4} END {sub(",", "", c); print c + 0}' "$out/load.log")
    ab_run load
    ab_done=1
  fi
done
set +e
wait "$load_pid"
load_status=$?
set -e
load_pid=""
show_new_lines
log "  httpkit-load exited with status $load_status"

# The server's CPU as of the end of the load (before its own teardown).
server_cpu=$(cpu_s "${server_pids[@]}")
cpu_after=$(cpu_counters)
load_seconds=$(awk -v a="$(awk '{print $1}' /proc/uptime)" -v b="$t0" 'BEGIN {printf "%.0f", a - b}')
stop_pid "$sampler_pid" 5
sampler_pid=""
# The TCP counters of the run (its own namespace's, so they are this run's
# alone): listen-queue overflows, SYN drops, resets, retransmissions.
"${ns_exec[@]}" nstat -asz 2>/dev/null >"$out/nstat.txt" || true
log "  TCP counters: $(awk '$1 ~ /^(TcpExtListenOverflows|TcpExtListenDrops|TcpExtTCPReqQFullDrop|TcpExtTCPTimeouts|TcpRetransSegs|TcpEstabResets|TcpExtTCPAbortOnData)$/ {printf "%s %s  ", substr($1, 4), $2}' "$out/nstat.txt")"
log "== stopping httpkit-server (SIGTERM)"
set +e
kill -TERM "$server_pid"
for i in $(seq 1 600); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  log "  httpkit-server did not stop in 60 s; killing it"
  kill -KILL "$server_pid"
fi
wait "$server_pid"
server_status=$?
set -e
server_pid=""
log "  httpkit-server exited with status $server_status"

# ------------------------------------------------------------------ table

json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2:]]; print("-" if v is None else v)' "$out/summary.json" "$@" 2>/dev/null || echo "-"; }
client_cpu=$(awk -F, 'NR > 1 && $5 > m {m = $5} END {print m + 0}' "$out/samples.csv")
peak=$(json peak_concurrency)
ab_idle=$(ab_rate idle)
ab_load=$(ab_rate load 2>/dev/null || true)
per_conn() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "-" }'; }
# Memory per connection at the second of peak concurrency (RSS and slab
# from the sample nearest to it), beyond the empty server / idle kernel.
read -r peak_t peak_c < <(awk -F, 'NR > 1 && $2 > c {c = $2; t = $1} END {print t + 0, c + 0}' "$out/load.csv")
read -r at_peak_rss at_peak_slab < <(awk -F, -v t="$peak_t" 'NR > 1 {d = $1 - t; if (d < 0) d = -d; if (best == "" || d < best) {best = d; r = $2; s = $6}} END {print r + 0, s + 0}' "$out/samples.csv")
# Where the machine's CPU went while the load ran (all processes, not only ours).
cpu_split=$(awk -v a="$cpu_before" -v b="$cpu_after" -v ours="$(awk -v s="$server_cpu" -v c="$(awk -F, 'NR > 1 && $5 > m {m = $5} END {print m + 0}' "$out/samples.csv")" 'BEGIN {print s + c}')" -v hz="$(getconf CLK_TCK)" 'BEGIN {
  n = split(a, x, " "); split(b, y, " "); total = 0
  for (i = 1; i <= n; i++) { d[i] = y[i] - x[i]; total += d[i] }
  if (total <= 0) { print "-"; exit }
  printf "user %.0f%%, nice %.0f%%, system %.0f%%, softirq %.0f%%, idle %.0f%%, steal %.0f%%; httpkit processes %.0f%% of all CPU time",
    100 * d[1] / total, 100 * d[2] / total, 100 * d[3] / total, 100 * d[7] / total, 100 * (d[4] + d[5]) / total, 100 * d[8] / total, 100 * ours * hz / total }')
ratio=$(awk -v a="${ab_load:-0}" -v b="${ab_idle:-0}" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "-" }')

ramp_rate() { awk -v p="$peak" -v t="$(json time_to_target_s)" 'BEGIN { if (t + 0 > 0) printf "%.0f", p / t; else print "-" }'; }
ab_note=""
((use_tls)) && ab_note=" (https)"
{
  echo "== results: $connections connections${mode_text}, steady $steady s ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  printf '  %-44s %s\n' \
    "peak concurrency" "$peak" \
    "time to reach the target (s)" "$(json time_to_target_s)" \
    "ramp rate (connections/s to the target)" "$(ramp_rate)" \
    "total requests" "$(json total_requests)" \
    "errors" "$(json errors)" \
    "requests/s (cumulative average)" "$(json requests_per_s)" \
    "fewest requests on one connection" "$(json min_requests_per_connection)" \
    "ab -c 10 -k req/s, nothing held$ab_note" "${ab_idle:--}" \
    "ab -c 10 -k req/s, all connections held$ab_note" "${ab_load:--}" \
    "ab ratio (held / idle)" "$ratio" \
    "server processes" "${#server_pids[@]} (1 master + workers)" \
    "server RSS empty (MiB)" "$((empty_rss / 1024))" \
    "connections held while ab ran" "${held:--}" \
    "server RSS at peak concurrency (MiB)" "$((at_peak_rss / 1024))" \
    "server RSS per connection beyond empty (B)" "$(per_conn "$at_peak_rss" "$empty_rss" "$peak_c")" \
    "kernel slab per connection, both ends (B)" "$(per_conn "$at_peak_slab" "$empty_slab" "$peak_c")" \
    "server CPU seconds (user+sys)" "$server_cpu" \
    "client CPU seconds (user+sys)" "$client_cpu" \
    "httpkit-load exit status" "$load_status" \
    "httpkit-server exit status (SIGTERM)" "$server_status"
  ((use_tls)) && echo "  TLS: ECDSA P-256 leaf of a test CA; httpkit-load verified it (--tls-ca), $(grep -m1 '^SSL/TLS Protocol' "$out/ab_idle.txt" 2>/dev/null | sed 's/^SSL\/TLS Protocol: *//;s/^/ab negotiated /')"
  echo "  errors by kind: $(json errors_by_kind)"
  echo "  machine CPU over the ${load_seconds:-?} s of load: $cpu_split"
  echo "  machine load average (1/5/15 min) before the run: $load_before; commit $commit"
  echo "  command: scripts/experiment.sh --connections $connections --steady $steady --port $port --nice $niceness$( ((use_tls)) && echo " --tls") ${load_extra[*]}"
} | tee "$out/table.txt" | tee -a "$out/experiment.log"

# ------------------------------------------------------------------ chart

if command -v gnuplot >/dev/null; then
  gnuplot <<EOF 2>>"$out/experiment.log" || log "  (gnuplot failed; see experiment.log)"
set terminal pngcairo size 1200,900 font ",10"
set output "$out/chart.png"
set datafile separator ","
set key autotitle columnhead top left
set grid
set multiplot layout 3,1 title "httpkit: $connections connections${mode_text}, steady ${steady}s (results/$stamp)"
set ylabel "connections"
plot "$out/load.csv" using 1:2 with lines lw 2 title "concurrency"
set ylabel "requests/s"
plot "$out/load.csv" using 1:8 with lines title "requests this second", \
     "$out/load.csv" using 1:5 with lines title "cumulative average"
set ylabel "MiB"
set xlabel "seconds since the load started"
plot "$out/samples.csv" using 1:(\$2/1024) with lines lw 2 title "server RSS (all processes)", \
     "$out/samples.csv" using 1:(\$6/1024) with lines title "kernel slab"
unset multiplot
EOF
  [ -s "$out/chart.png" ] && log "  chart: results/$stamp/chart.png"
fi
log "  files: $(cd "$out" && ls | tr '\n' ' ')"
exit "$load_status"
