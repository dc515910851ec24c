#!/usr/bin/env bash
# Runs the load generator (examples/loadgen.rs) against mosquitto, rumqttd and our broker
# example in one sitting, and prints a markdown table of medians. See benches/load/README.md.
#
# Usage: benches/load/compare.sh [OPTIONS]
#   --brokers LIST      comma-separated: mosquitto, rumqttd, ours [default: all three; ours
#                       only if examples/broker.rs exists]
#   --scenarios LIST    comma-separated: fan-in, fan-out, pairs, qos1, idle, idle-sub
#                       [default: fan-in,fan-out,pairs,qos1,idle]
#   --versions LIST     comma-separated: 3.1.1, 5.0 [default: 3.1.1,5.0]
#   --reps N            repetitions of each run; the table shows medians [default: 3]
#   --duration SECS     measured window of each traffic run [default: 10]
#   --warmup SECS       traffic before the window [default: 1]
#   --connections N     connections of the idle scenarios [default: 10000]
#   --quick             --reps 1 --duration 2 --warmup 0.5 --connections 2000
#   --strace            one more run per broker, scenario and version under `strace -c -f`:
#                       the broker's system calls per delivered message
#   --our-broker PATH   a built broker binary to use as "ours" instead of building the example
#   --out DIR           where configs, logs and raw results go [default: target/load/<time>]
#   -- ARGS             passed on to every loadgen run (e.g. -- --threads 2)
#
# Every broker is started fresh for every run, on a free loopback port, with limits raised so
# that the scenarios do not hit them; every process the script starts is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

brokers=""
scenarios="fan-in,fan-out,pairs,qos1,idle"
versions="3.1.1,5.0"
reps=3
duration=10
warmup=1
connections=10000
use_strace=false
our_broker=""
out=""
extra=()

while [ $# -gt 0 ]; do
    case "$1" in
        --brokers) brokers=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        --versions) versions=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --quick) reps=1; duration=2; warmup=0.5; connections=2000; shift ;;
        --strace) use_strace=true; shift ;;
        --our-broker) our_broker=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '==> %s\n' "$*" >&2; }

# ---- what runs ----------------------------------------------------------------------------

mosquitto_bin=$(command -v mosquitto 2>/dev/null || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true)
peers="$root/target/peers"
rumqttd_bin="$peers/bin/rumqttd"
loadgen="$root/target/release/examples/loadgen"

if [ -z "$brokers" ]; then
    brokers="mosquitto,rumqttd"
    if [ -n "$our_broker" ] || [ -f examples/broker.rs ]; then brokers="$brokers,ours"; fi
fi
IFS=, read -r -a broker_list <<<"$brokers"
IFS=, read -r -a scenario_list <<<"$scenarios"
IFS=, read -r -a version_list <<<"$versions"

for broker in "${broker_list[@]}"; do
    case "$broker" in
        mosquitto)
            [ -n "$mosquitto_bin" ] || { echo "compare.sh: mosquitto is not installed (apt-get install mosquitto)" >&2; exit 1; } ;;
        rumqttd)
            if [ ! -x "$rumqttd_bin" ]; then
                log "installing rumqttd into $peers (once)"
                cargo install rumqttd --root "$peers"
            fi ;;
        ours)
            if [ -z "$our_broker" ]; then
                [ -f examples/broker.rs ] || { echo "compare.sh: examples/broker.rs does not exist yet" >&2; exit 1; }
                log "building our broker example"
                cargo build --release --example broker
                our_broker="$root/target/release/examples/broker"
            fi ;;
        *) echo "compare.sh: unknown broker $broker" >&2; exit 2 ;;
    esac
done
for scenario in "${scenario_list[@]}"; do
    case "$scenario" in
        fan-in | fan-out | pairs | qos1 | idle | idle-sub) ;;
        *) echo "compare.sh: unknown scenario $scenario" >&2; exit 2 ;;
    esac
done
for version in "${version_list[@]}"; do
    case "$version" in
        3.1.1 | 5.0) ;;
        *) echo "compare.sh: unknown version $version" >&2; exit 2 ;;
    esac
done
if $use_strace && ! command -v strace >/dev/null; then
    echo "compare.sh: --strace needs strace (apt-get install strace)" >&2
    exit 1
fi

log "building the load generator"
cargo build --release --example loadgen

# 10,000 idle connections need as many descriptors in the generator and in the broker, which
# inherits the limit from this shell.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((connections + 100)) ]; then
    log "warning: ulimit -n is $(ulimit -n), below the $connections idle connections asked for"
fi

out=${out:-"$root/target/load/$(date +%Y%m%d-%H%M%S)"}
mkdir -p "$out"
results="$out/results.txt"
: >"$results"

# ---- starting and stopping brokers ------------------------------------------------------

broker_pid=""
strace_pid=""

stop_strace() {
    if [ -n "$strace_pid" ]; then
        kill -INT "$strace_pid" 2>/dev/null || true
        wait "$strace_pid" 2>/dev/null || true
        strace_pid=""
    fi
}

stop_broker() {
    stop_strace
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        # At most 5 s for a clean exit, then SIGKILL.
        for _ in $(seq 50); do
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
        broker_pid=""
    fi
}
trap stop_broker EXIT
trap 'stop_broker; exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Polls until something accepts on 127.0.0.1:$1: at most 100 attempts, 0.1 s apart.
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$broker_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Starts broker $1 fresh for MQTT version $2; sets broker_pid and broker_port.
start_broker() {
    local name=$1 version=$2 dir="$out/$1"
    mkdir -p "$dir"
    broker_port=$(free_port)
    case "$name" in
        mosquitto)
            sed -e "s/@PORT@/$broker_port/" "$root/benches/load/mosquitto.conf" >"$dir/mosquitto.conf"
            chmod -R a+rX "$dir"
            "$mosquitto_bin" -c "$dir/mosquitto.conf" >>"$dir/log" 2>&1 &
            broker_pid=$! ;;
        rumqttd)
            # rumqttd listens for 3.1.1 (v4) and 5.0 (v5) on separate ports; the other one gets
            # a free port too.
            local other
            other=$(free_port)
            local v4=$broker_port v5=$other
            if [ "$version" = 5.0 ]; then v4=$other; v5=$broker_port; fi
            sed -e "s/@V4@/$v4/; s/@V5@/$v5/" "$root/benches/load/rumqttd.toml" >"$dir/rumqttd.toml"
            "$rumqttd_bin" -q -c "$dir/rumqttd.toml" >>"$dir/log" 2>&1 &
            broker_pid=$! ;;
        ours)
            # The same limits raised as for the peers: connections (default 10,000), messages
            # in flight to one client (64), and the queue per client (1,000 messages, 1 MiB),
            # past which QoS 0 deliveries to a slow subscriber are dropped.
            "$our_broker" -p "$broker_port" --max-connections 20100 --max-inflight 1000 \
                --max-queued-messages 1000000 --max-queued-bytes 1073741824 >>"$dir/log" 2>&1 &
            broker_pid=$! ;;
    esac
    if ! wait_port "$broker_port"; then
        echo "compare.sh: $name did not start listening on $broker_port; its log:" >&2
        tail -20 "$dir/log" >&2
        exit 1
    fi
}

# ---- one run ---------------------------------------------------------------------------

# Runs scenario $2 in version $3 against broker $1 (rep $4; "strace" to run under strace) and
# appends the result line, prefixed with broker= and rep=, to the results.
run_one() {
    local name=$1 scenario=$2 version=$3 rep=$4 args=()
    case "$scenario" in
        idle) args=(--scenario idle --connections "$connections") ;;
        idle-sub) args=(--scenario idle --connections "$connections" --subscribe) ;;
        *) args=(--scenario "$scenario" --duration "$duration" --warmup "$warmup") ;;
    esac
    start_broker "$name" "$version"
    if [ "$rep" = strace ]; then
        strace -c -f -p "$broker_pid" -o "$out/$name/strace-$scenario-$version.txt" 2>/dev/null &
        strace_pid=$!
        sleep 1 # strace attaches to every thread before the load starts
    fi
    local line status=0
    line=$("$loadgen" -b "127.0.0.1:$broker_port" -V "$version" --broker-pid "$broker_pid" \
        "${args[@]}" ${extra[@]+"${extra[@]}"} 2>>"$out/loadgen.log") || status=$?
    stop_broker
    if [ "$status" != 0 ]; then
        log "$name $scenario $version rep $rep FAILED (status $status; see $out/loadgen.log)"
        echo "broker=$name rep=$rep failed scenario=${scenario%-sub} version=$version" >>"$results"
        return
    fi
    printf '%s\n' "$line" | head -1 | sed "s/^/    $name: /" >&2
    local result
    result=$(printf '%s\n' "$line" | grep '^result ' | sed 's/^result //')
    if [ "$scenario" = idle-sub ]; then result=${result/scenario=idle/scenario=idle-sub}; fi
    if [ "$rep" = strace ]; then
        local calls
        calls=$(awk '$NF == "total" { print $4 }' "$out/$name/strace-$scenario-$version.txt")
        echo "broker=$name rep=strace $result syscalls=${calls:-na}" >>"$results"
    else
        echo "broker=$name rep=$rep $result" >>"$results"
    fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $(nproc) cores, load average $load_before"
log "brokers ${broker_list[*]}; scenarios ${scenario_list[*]}; versions ${version_list[*]}; $reps x ${duration}s"
for scenario in "${scenario_list[@]}"; do
    for version in "${version_list[@]}"; do
        for rep in $(seq "$reps"); do
            # Alternating order: each repetition starts with the next broker.
            count=${#broker_list[@]}
            for i in $(seq 0 $((count - 1))); do
                name=${broker_list[$(((i + rep - 1) % count))]}
                log "$scenario $version rep $rep: $name"
                run_one "$name" "$scenario" "$version" "$rep"
            done
        done
        # System calls per message mean nothing for the idle scenarios.
        if $use_strace && [ "${scenario#idle}" = "$scenario" ]; then
            for name in "${broker_list[@]}"; do
                log "$scenario $version under strace: $name"
                run_one "$name" "$scenario" "$version" strace
            done
        fi
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average at the end: $load_after"

# ---- the tables ------------------------------------------------------------------------

# The median of field $4 over the runs of broker $1, scenario $2, version $3 (not strace).
median() {
    grep -E "^broker=$1 rep=[0-9]+ scenario=$2 version=$3 " "$results" \
        | tr ' ' '\n' | sed -n "s/^$4=//p" | grep -v '^na$' | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print "na"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The value of field $4 in the strace run of broker $1, scenario $2, version $3.
strace_field() {
    grep -E "^broker=$1 rep=strace scenario=$2 version=$3 " "$results" \
        | tr ' ' '\n' | sed -n "s/^$4=//p" | head -1
}

# 143012 -> "143 k", 4110000 -> "4.11 M".
human() {
    awk -v v="$1" 'BEGIN {
        if (v == "na" || v == "") { print "—"; exit }
        if (v >= 1e6) printf "%.3g M\n", v / 1e6
        else if (v >= 1e3) printf "%.3g k\n", v / 1e3
        else printf "%.0f\n", v }'
}

label() {
    case "$1" in
        fan-in) echo "fan-in 8→1" ;;
        fan-out) echo "fan-out 1→100" ;;
        pairs) echo "16 pairs 1→1" ;;
        qos1) echo "QoS 1, 100 in flight" ;;
        idle) echo "RSS per idle connection" ;;
        idle-sub) echo "RSS per idle subscribed connection" ;;
    esac
}

cell() {
    local name=$1 scenario=$2 version=$3
    case "$scenario" in
        idle | idle-sub)
            local bytes
            bytes=$(median "$name" "$scenario" "$version" bytes_per_connection)
            if [ "$bytes" = na ]; then echo "—"; else
                printf '%.0f B\n' "$bytes" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\( \|,\)/\1,\2\3/; ta'
            fi ;;
        *) human "$(median "$name" "$scenario" "$version" received_per_s)" ;;
    esac
}

echo
echo "Medians of $reps run(s); traffic: deliveries/s received in the ${duration}s window, 64 B payloads."
echo "Machine: $(nproc) cores; load average $load_before before, $load_after after."
echo
header="| |"
rule="|---|"
for scenario in "${scenario_list[@]}"; do
    header="$header $(label "$scenario") |"
    rule="$rule---|"
done
echo "$header"
echo "$rule"
for name in "${broker_list[@]}"; do
    for version in "${version_list[@]}"; do
        row="| $name $version |"
        for scenario in "${scenario_list[@]}"; do
            row="$row $(cell "$name" "$scenario" "$version") |"
        done
        echo "$row"
    done
done

traffic=false
for scenario in "${scenario_list[@]}"; do
    case "$scenario" in idle | idle-sub) ;; *) traffic=true ;; esac
done
if ! $traffic; then
    echo
    echo "Raw results: $results"
    exit 0
fi

echo
echo "| broker | scenario | version | sent/s | received/s | lost | dup | p50 | p99 | broker CPU | generator CPU | syscalls/delivery |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for scenario in "${scenario_list[@]}"; do
    case "$scenario" in idle | idle-sub) continue ;; esac
    for version in "${version_list[@]}"; do
        for name in "${broker_list[@]}"; do
            broker_cpu=$(median "$name" "$scenario" "$version" broker_cpu_s)
            generator_cpu=$(median "$name" "$scenario" "$version" generator_cpu_s)
            syscalls="—"
            if $use_strace; then
                calls=$(strace_field "$name" "$scenario" "$version" syscalls)
                received=$(strace_field "$name" "$scenario" "$version" received)
                if [ -n "$calls" ] && [ "$calls" != na ] && [ -n "$received" ] && [ "$received" != 0 ]; then
                    syscalls=$(awk -v c="$calls" -v r="$received" 'BEGIN { printf "%.2f", c / r }')
                fi
            fi
            awk -v name="$name" -v scenario="$scenario" -v version="$version" \
                -v sent="$(median "$name" "$scenario" "$version" sent_per_s)" \
                -v received="$(median "$name" "$scenario" "$version" received_per_s)" \
                -v lost="$(median "$name" "$scenario" "$version" lost)" \
                -v dup="$(median "$name" "$scenario" "$version" duplicated)" \
                -v p50="$(median "$name" "$scenario" "$version" p50_us)" \
                -v p99="$(median "$name" "$scenario" "$version" p99_us)" \
                -v bcpu="$broker_cpu" -v gcpu="$generator_cpu" -v secs="$duration" \
                -v syscalls="$syscalls" 'BEGIN {
                    b = (bcpu == "na") ? "—" : sprintf("%.0f %%", 100 * bcpu / secs)
                    g = (gcpu == "na") ? "—" : sprintf("%.0f %%", 100 * gcpu / secs)
                    printf "| %s | %s | %s | %.0f | %.0f | %s | %s | %.2f ms | %.2f ms | %s | %s | %s |\n",
                        name, scenario, version, sent, received, lost, dup, p50 / 1000, p99 / 1000,
                        b, g, syscalls }'
        done
    done
done
echo
echo "Raw results: $results"
