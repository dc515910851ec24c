#!/usr/bin/env bash
# Runs both scenario scripts against a mosquitto of our own: installs the clients
# (setup.sh), starts mosquitto on two free 127.0.0.1 ports (TCP and WebSocket), runs the
# paho and MQTT.js scenarios, and stops mosquitto on exit. Exits non-zero if any scenario
# failed. Arguments are passed to both scripts (e.g. `--only v5`).
#
# MOSQUITTO names the broker binary (default: `mosquitto` on PATH, else /usr/sbin/mosquitto).
# The scripts are strict; mosquitto 2.0.11's known departures from the spec are allowed with
# `--allow` (README.md lists them).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=$("$here/setup.sh" | sed -n 's/^python=//p')

mosquitto=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$mosquitto" ] || { echo "mosquitto not found (set MOSQUITTO)" >&2; exit 1; }

dir=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
tcp_port=$(free_port)
ws_port=$(free_port)
cat >"$dir/mosquitto.conf" <<CONF
allow_anonymous true
persistence false
listener $tcp_port 127.0.0.1
listener $ws_port 127.0.0.1
protocol websockets
CONF
# Started as root, mosquitto drops to its own user, which must still read its config.
chmod -R a+rX "$dir"
"$mosquitto" -c "$dir/mosquitto.conf" >"$dir/log" 2>&1 &
broker_pid=$!

# Waits until both listeners accept connections: at most 100 attempts, 0.1 s apart.
"$python" - "$tcp_port" "$ws_port" <<'POLL' || { cat "$dir/log" >&2; exit 1; }
import socket, sys, time
for port in sys.argv[1:]:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"mosquitto did not start listening on {port}")
POLL
echo "$(sed -n 1p "$dir/log") on 127.0.0.1:$tcp_port (TCP) and :$ws_port (WebSocket)"

allow=(--allow retained-to-shared)
status=0
"$python" "$here/paho_scenarios.py" --host 127.0.0.1 --port "$tcp_port" "${allow[@]}" "$@" \
    || status=1
node "$here/mqttjs_scenarios.mjs" --host 127.0.0.1 --port "$tcp_port" \
    --ws-url "ws://127.0.0.1:$ws_port/mqtt" "${allow[@]}" "$@" || status=1
exit "$status"
