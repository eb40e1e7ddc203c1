#!/bin/bash
# HTTPS with a self-signed certificate made here, plus a token: curl trusts it
# with --cacert and refuses it without; plain HTTP on the TLS port gets no
# answer; a real Prometheus scrapes it over HTTPS with
# `authorization: {credentials: ...}`; go tool pprof fetches a profile over
# https (trusting the certificate through SSL_CERT_FILE) when one is listed. Any step that could hang has a timeout.
set -euo pipefail
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iport=$(free_port); aport=$(free_port); pport=$(free_port)
token=tls-test-$RANDOM$RANDOM

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
chmod 600 "$tmp/key.pem"

INTROSPECT_ADDR=127.0.0.1:$iport INTROSPECT_TOKEN=$token INTROSPECT_TLS_CERT=$tmp/cert.pem \
INTROSPECT_TLS_KEY=$tmp/key.pem "$IX_BUILD_DIR/examples/introspect-demo" \
    --listen 127.0.0.1:$aport --traffic 20 > "$tmp/demo.log" 2>&1 & pids+=($!)
base=https://127.0.0.1:$iport
auth="Authorization: Bearer $token"
for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 2 --cacert "$tmp/cert.pem" "$base/metrics" && break
    sleep 0.1
done

# The demo's own traffic produces its metrics; on a loaded machine the first
# request may still be in flight, so poll (bounded) for the first one.
for _ in $(seq 100); do
    code=$(curl -s -o "$tmp/m.txt" -w '%{http_code}' --max-time 10 --cacert "$tmp/cert.pem" -H "$auth" "$base/metrics")
    [ "$code" = 200 ] || { echo "https /metrics with token: $code"; cat "$tmp/demo.log"; exit 1; }
    grep -q '^demo_http_requests_total' "$tmp/m.txt" && break
    sleep 0.2
done
promtool check metrics < "$tmp/m.txt"
grep -q '^demo_http_requests_total' "$tmp/m.txt" || { echo "no demo metric over https"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$tmp/cert.pem" "$base/metrics")
[ "$code" = 401 ] || { echo "https without token: $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$tmp/cert.pem" -H "$auth" "$base/debug/pprof/cmdline")
[ "$code" = 200 ] || { echo "https cmdline with token: $code"; exit 1; }
if curl -s -o /dev/null --max-time 10 -H "$auth" "$base/metrics"; then
    echo "curl accepted the self-signed certificate without --cacert"; exit 1
fi
if curl -s -o /dev/null --max-time 5 -H "$auth" "http://127.0.0.1:$iport/metrics"; then
    echo "plain HTTP was answered on the TLS port"; exit 1
fi
# The server still answers after the plain-HTTP attempt.
curl -sf -o /dev/null --max-time 10 --cacert "$tmp/cert.pem" -H "$auth" "$base/debug/vars"
echo "curl over TLS: ok"

# A real Prometheus scrape over HTTPS with a bearer token.
cat > "$tmp/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: demo-tls
    scheme: https
    authorization: {credentials: '$token'}
    tls_config: {ca_file: '$tmp/cert.pem'}
    static_configs: [{targets: ['127.0.0.1:$iport']}]
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address=127.0.0.1:$pport > "$tmp/prom.log" 2>&1 & pids+=($!)
ok=0
for _ in $(seq 120); do
    out=$(curl -fsS --max-time 2 "http://127.0.0.1:$pport/api/v1/query?query=demo_http_requests_total" 2>/dev/null || true)
    if echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["data"]["result"] else 1)' 2>/dev/null; then
        ok=1; break
    fi
    sleep 0.5
done
[ $ok = 1 ] || { echo "Prometheus never scraped over TLS with the token"; tail -20 "$tmp/prom.log";
                 curl -s "http://127.0.0.1:$pport/api/v1/targets" | head -c 2000; exit 1; }
echo "prometheus over TLS with bearer token: ok"

# go tool pprof over https (CA via SSL_CERT_FILE), when a profile endpoint is served. pprof
# cannot send a bearer token, so this instance is loopback-only without one.
pport2=$(free_port)
INTROSPECT_ADDR=127.0.0.1:$pport2 INTROSPECT_TLS_CERT=$tmp/cert.pem INTROSPECT_TLS_KEY=$tmp/key.pem \
    LD_PRELOAD="${IX_PRELOAD_RUNTIME:+$IX_PRELOAD_RUNTIME:}$IX_BUILD_DIR/libintrospect.so" \
    "$IX_BUILD_DIR/tests/plain_sleep" 60 > "$tmp/sleep.log" 2>&1 & pids+=($!)
base2=https://127.0.0.1:$pport2
for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 2 --cacert "$tmp/cert.pem" "$base2/metrics" && break
    sleep 0.1
done
idx=$(curl -sf --max-time 10 --cacert "$tmp/cert.pem" "$base2/debug/pprof/?format=json")
prof=""
for p in /debug/pprof/heap /debug/pprof/goroutine /debug/pprof/threadcreate /debug/pprof/profile; do
    if echo "$idx" | grep -q "\"$p\""; then prof=$p; break; fi
done
if [ -n "$prof" ]; then
    q=""; [ "$prof" = /debug/pprof/profile ] && q="?seconds=1"
    # The go command's pprof ignores -tls_ca; Go's TLS stack reads SSL_CERT_FILE.
    SSL_CERT_FILE="$tmp/cert.pem" PPROF_TMPDIR="$tmp" timeout 90 go tool pprof -raw "$base2$prof$q" \
        > "$tmp/pprof.txt" 2>&1 ||
        { cat "$tmp/pprof.txt"; exit 1; }
    grep -q "PeriodType\|Samples" "$tmp/pprof.txt" || { cat "$tmp/pprof.txt"; exit 1; }
    echo "go tool pprof $prof over TLS: ok"
else
    echo "no profile endpoint on this tree yet: the go-tool-pprof-over-TLS step is skipped"
fi
echo ok
