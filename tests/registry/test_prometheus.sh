#!/bin/bash
# A real Prometheus server scrapes the demo; its query API returns a demo metric.
# Prometheus asks for gzip and OpenMetrics on every scrape (Accept-Encoding:
# gzip, its Accept header below): the demo answers that request gzipped, and
# Prometheus's up == 1 and scrape_samples_scraped (equal to the samples in the
# decoded body) show it read the gzipped OpenMetrics body whole.
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
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$iport/metrics" 2>/dev/null && break; sleep 0.1; done
hdrs=$(curl -fsS -D - -o "$tmp/m.gz" -H "Accept: $accept" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$iport/metrics")
echo "$hdrs" | grep -qi '^content-encoding: gzip' || { echo "not gzipped for Prometheus: $hdrs"; exit 1; }
echo "$hdrs" | grep -qi '^content-type: application/openmetrics-text; version=1.0.0' || { echo "not OpenMetrics 1.0.0: $hdrs"; exit 1; }
gzip -dc "$tmp/m.gz" | tail -1 | grep -qx '# EOF' || { echo "gzipped body is not a whole OpenMetrics body"; exit 1; }
for _ in $(seq 120); do
    out=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=demo_http_requests_total" 2>/dev/null || true)
    if echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["data"]["result"] else 1)' 2>/dev/null; then
        up=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=up" )
        echo "$up" | grep -q '"1"' || { echo "target not up: $up"; exit 1; }
        # Samples Prometheus read against those in a body fetched now (the demo's own
        # series can grow between the two, e.g. a new route: allow 10%).
        got=$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=scrape_samples_scraped" |
              python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
        want=$(curl -fsS -H "Accept: $accept" "http://127.0.0.1:$iport/metrics" | grep -vc '^#')
        python3 -c "import sys; g,w=float('$got'),float('$want'); sys.exit(0 if 0.9*w <= g <= 1.1*w else 1)" ||
            { echo "Prometheus scraped $got samples, the body has $want"; exit 1; }
        echo "scrape_samples_scraped=$got (body: $want samples)"
        echo "ok: $(echo "$out" | head -c 300)"
        exit 0
    fi
    sleep 0.5
done
echo "Prometheus never returned demo_http_requests_total"; tail -20 "$tmp/prom.log"; exit 1
