#!/bin/bash
# A real Prometheus server scrapes the demo; its query API returns a demo metric.
set -euo pipefail
tmp=$(mktemp -d)
cleanup() { kill $demo $prom 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iport=$(free_port); aport=$(free_port); pport=$(free_port)
INTROSPECT_ADDR=127.0.0.1:$iport "$IX_BUILD_DIR/examples/introspect-demo" --listen 127.0.0.1:$aport \
    --traffic 50 > "$tmp/demo.log" 2>&1 & demo=$!
cat > "$tmp/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: demo
    static_configs: [{targets: ['127.0.0.1:$iport']}]
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address=127.0.0.1:$pport > "$tmp/prom.log" 2>&1 & prom=$!
for _ in $(seq 120); do
    out=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=demo_http_requests_total" 2>/dev/null || true)
    if echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["data"]["result"] else 1)' 2>/dev/null; then
        up=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=up" )
        echo "$up" | grep -q '"1"' || { echo "target not up: $up"; exit 1; }
        echo "ok: $(echo "$out" | head -c 300)"
        exit 0
    fi
    sleep 0.5
done
echo "Prometheus never returned demo_http_requests_total"; tail -20 "$tmp/prom.log"; exit 1
