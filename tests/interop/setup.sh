#!/usr/bin/env bash
# Installs the two client libraries the interop scenarios use, pinned:
#   - paho-mqtt (requirements.txt) into a virtual environment at target/interop/venv;
#   - MQTT.js (package.json + package-lock.json) with `npm ci` into tests/interop/node_modules
#     (git ignores it; Node resolves `import 'mqtt'` from the script's own folder).
#
# Idempotent and quick when already set up: each half is redone only when its pin file changed
# (a stamp holds the pin file's checksum). Concurrent runs (tests in parallel) take turns on a
# lock file. Prints the interpreter to use on its last line: `python=PATH`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state="$root/target/interop"
venv="$state/venv"
mkdir -p "$state"

exec 9>"$state/setup.lock"
flock -w 600 9

checksum() {
    sha256sum "$@" | sha256sum | cut -d' ' -f1
}

# ---- Python: paho-mqtt ----
python_stamp="$venv/.interop-stamp"
python_want=$(checksum "$here/requirements.txt")
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$python_stamp" 2>/dev/null)" != "$python_want" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --requirement "$here/requirements.txt"
    echo "$python_want" >"$python_stamp"
fi

# ---- Node: MQTT.js ----
node_stamp="$here/node_modules/.interop-stamp"
node_want=$(checksum "$here/package.json" "$here/package-lock.json")
if [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_want" ]; then
    (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$node_want" >"$node_stamp"
fi

echo "python=$venv/bin/python"
