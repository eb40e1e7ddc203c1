#!/bin/bash
# Prometheus scrapes a pre-forking server through its root: the example
# configuration of docs/process-tree.md passes `promtool check config`, and a
# real Prometheus using it (http_sd_configs on /debug/pprof/processes) scrapes
# the root and its 2 workers, each target up and labelled with its pid.
set -euo pipefail
[ -z "${IX_SANITIZE:-}" ] || { echo "skipped: process trees are not run under sanitizers"; exit 77; }
command -v prometheus > /dev/null && command -v promtool > /dev/null ||
    { echo "skipped: prometheus not installed (scripts/deps.sh test)"; exit 77; }
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
srv=; prom=
cleanup() { [ -z "$prom" ] || kill "$prom" 2> /dev/null || true; [ -z "$srv" ] || kill "$srv" 2> /dev/null || true
    wait 2> /dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iport=$(free_port); pport=$(free_port)
# The documented example, as written.
sed -n '/<!-- prometheus-example -->/,/^```$/p' "$src/docs/process-tree.md" | sed '1,2d;$d' > "$tmp/example.yml"
[ -s "$tmp/example.yml" ] || { echo "no example in docs/process-tree.md"; exit 1; }
promtool check config "$tmp/example.yml"
# The same, pointed at our server and scraping every second.
sed -e "s/127.0.0.1:6060/127.0.0.1:$iport/" -e 's/15s/1s/; s/30s/1s/' "$tmp/example.yml" > "$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml"
INTROSPECT_ADDR=127.0.0.1:$iport "$IX_BUILD_DIR/tests/tree_server" 2 > "$tmp/srv.log" 2>&1 &
srv=$!
for _ in $(seq 100); do
    n=$(curl -fsS "http://127.0.0.1:$iport/debug/pprof/processes?format=http_sd" 2> /dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2> /dev/null || echo 0)
    [ "$n" = 3 ] && break
    sleep 0.1
done
[ "$n" = 3 ] || { echo "the root never listed 3 processes"; exit 1; }
pids=$(curl -fsS "http://127.0.0.1:$iport/debug/pprof/processes?format=http_sd" |
       python3 -c 'import json,sys; print(" ".join(sorted(t["labels"]["pid"] for t in json.load(sys.stdin))))')
echo "processes: $pids"
# One process's metrics through the root pass promtool.
w=${pids##* }
curl -fsS "http://127.0.0.1:$iport/metrics?pid=$w" | promtool check metrics
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address=127.0.0.1:$pport > "$tmp/prom.log" 2>&1 &
prom=$!
got=
for _ in $(seq 120); do
    got=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=up%3D%3D1" 2> /dev/null |
          python3 -c 'import json,sys; print(" ".join(sorted(r["metric"]["pid"] for r in json.load(sys.stdin)["data"]["result"])))' \
          2> /dev/null || true)
    [ "$got" = "$pids" ] && break
    sleep 0.5
done
echo "targets up: $got"
[ "$got" = "$pids" ] || { tail -20 "$tmp/prom.log"; echo "Prometheus did not scrape every process"; exit 1; }
# A series of one worker, read back with its pid label.
q=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "scrape_samples_scraped{pid=\"$w\"}")
curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=$q" | grep "\"pid\":\"$w\"" > /dev/null ||
    { echo "no series with pid=$w"; exit 1; }
echo ok
