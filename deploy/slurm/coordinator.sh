#!/bin/bash
# Start the modsweep coordinator on a login or service node that the
# compute nodes can reach. It runs in the foreground, so start it inside
# tmux or screen, or detach it:
#
#   nohup deploy/slurm/coordinator.sh > coordinator.log 2>&1 &
#
# Extra arguments go to `coordinator serve` unchanged, e.g. --lease-ttl 2m.
# Ask the site first: some clusters forbid long-running services on login
# nodes and offer a service node or a long job instead.

set -euo pipefail

COORDINATOR_BIN=${COORDINATOR_BIN:-$HOME/bin/coordinator}
# gRPC address. A non-loopback address needs the token (or TLS).
LISTEN=${LISTEN:-0.0.0.0:7070}
# Status page and Prometheus /metrics. Loopback keeps them private. Reach
# them with `ssh -L 7071:127.0.0.1:7071 LOGIN_NODE`.
HTTP=${HTTP:-127.0.0.1:7071}
# The bbolt database. Keep it on a local disk: bbolt maps the file into
# memory and takes a file lock, which network file systems may not honour.
DATA=${DATA:-/var/tmp/$USER/modsweep/modsweep.db}
# Bearer token shared with the agents. It must sit on a file system that the
# compute nodes mount, because agents.sbatch reads it there.
TOKEN_FILE=${TOKEN_FILE:-$HOME/.modsweep/token}

umask 077
mkdir -p "$(dirname "$DATA")" "$(dirname "$TOKEN_FILE")"
if [[ ! -s $TOKEN_FILE ]]; then
    # 32 random bytes as 64 hex digits.
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$TOKEN_FILE"
    echo "created token file $TOKEN_FILE" >&2
fi
chmod 600 "$TOKEN_FILE"

PORT=${LISTEN##*:}
echo "start agents with: COORDINATOR=$(hostname -f):$PORT TOKEN_FILE=$TOKEN_FILE sbatch --array=0-N deploy/slurm/agents.sbatch" >&2

exec "$COORDINATOR_BIN" serve \
    --listen "$LISTEN" \
    --data "$DATA" \
    --http "$HTTP" \
    --token-file "$TOKEN_FILE" \
    "$@"
