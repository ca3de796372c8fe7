#!/bin/sh
# e2e_listener.sh PMBOT - the HTTP listener against hostile and careless
# clients: connections that end before their head, garbage, HTTP/2, huge
# heads; the address bound exactly as configured; signatures used once;
# chunked bodies; bad Content-Length; one deadline per request however
# slowly it trickles; 5,000 connections at once with /healthz answering;
# every input of the HTTP fuzz corpus, /healthz asked after each; out of
# file descriptors.
# Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
fx=tests/fixtures/alarms
TOKEN=wh-l1stener-token
probe="python3 tests/listener_probe.py"
db() { sqlite3 "$dir/pmbot.db" "$1"; }

conf() { # conf LISTEN BODY_TIMEOUT
    cat >"$dir/pmbot.conf" <<CONF
[pmbot]
database = $dir/pmbot.db
[webhook]
listen = $1
body_timeout = $2
CONF
}
stop() {
    kill "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    bpid=
}
alive() { kill -0 "$bpid" 2>/dev/null; }
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/healthz"; }
# bound ADDRESS: the listening sockets pmbot holds, "addr:port" each
bound() { ss -Hltnp | awk -v p="pid=$bpid," 'index($0, p) { print $4 }'; }
auth="Authorization: Bearer $TOKEN"
post() { # post PATH FILE [CURL ARGS...]: the status; body in $dir/body
    p=$1
    f=$2
    shift 2
    curl -s -o "$dir/body" -w '%{http_code}' -X POST "$url$p" \
        -H 'Content-Type: application/json' --data-binary "@$f" "$@"
}
sign() { # sign TS FILE: the v0 HMAC over the exact bytes of FILE
    { printf 'v0:%s:' "$1"; cat "$2"; } |
        openssl dgst -sha256 -hmac "$TOKEN" | sed 's/^.*= //'
}
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# 1. connections that end before their head is complete
conf 127.0.0.1:0 2
start
check "the listener starts" [ -n "$port" ]
python3 -c "import socket;socket.create_connection(('127.0.0.1',$port)).close()"
check "a bare connect and close: pmbot lives" alive
check "and /healthz answers 200" [ "$(health)" = 200 ]
$probe "$port" raw "$(hex 'GET /heal')" >/dev/null
check "half a request line, then close: /healthz 200" [ "$(health)" = 200 ]
$probe "$port" raw "$(hex 'garbage garbage garbage')" >"$dir/p.txt"
check "a garbage request line: /healthz 200" [ "$(health)" = 200 ]
$probe "$port" raw "$(hex 'PRI * HTTP/2.0')0d0a0d0a$(hex 'SM')0d0a0d0a" >/dev/null
check "an HTTP/2 preface: /healthz 200" [ "$(health)" = 200 ]
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
$probe "$port" raw "$(hex "GET /healthz HTTP/1.1")0d0a$(hex "X-Big: $big")0d0a0d0a" >/dev/null
check "a head over 8 KB: /healthz 200" [ "$(health)" = 200 ]
$probe "$port" raw "16030100a1010000" >/dev/null
check "a TLS hello on plain HTTP: /healthz 200" [ "$(health)" = 200 ]
# found by fuzz_http: a GET whose head declares a body, refused before
# the body came, left lws spinning on the unread rest at 100% CPU
$probe "$port" raw "$(od -An -v -tx1 tests/fuzz/regress/http/get-with-unread-body-spins | tr -d ' \n')" >"$dir/p.txt"
check "a refused request with an unread body is answered and closed" \
    grep -q "answer='HTTP/1.1 404" "$dir/p.txt"
check "and /healthz still answers in time" [ "$(health)" = 200 ]
# every input of the HTTP fuzz corpus and its regressions, /healthz
# asked after each
$probe "$port" replay tests/fuzz/corpus/http/* tests/fuzz/regress/http/* >"$dir/replay.txt"
cat "$dir/replay.txt"
check "the fuzz corpus, replayed: /healthz 200 after every input" \
    grep -q 'healthz_not_200=0$' "$dir/replay.txt"
check "pmbot is still running" alive

# 2. the address is bound exactly as configured
check "127.0.0.1:0 binds 127.0.0.1 only" [ "$(bound)" = "127.0.0.1:$port" ]
stop
conf '[::1]:0' 2
: >"$dir/err"
env PMBOT_WEBHOOK_TOKEN=$TOKEN "$pmbot" run -c "$dir/pmbot.conf" \
    </dev/null >>"$dir/out" 2>"$dir/err" &
bpid=$!
until_log() { for _ in $(seq 100); do grep -q "$1" "$dir/err" && return 0; sleep 0.05; done; return 1; }
until_log 'listening on \[::1\]:'
check "[::1]:0 binds [::1] only" sh -c "ss -Hltnp | grep 'pid=$bpid,' | awk '{print \$4}' | grep -qx '\[::1\]:[0-9]*'"
stop
conf 0.0.0.0:0 2
refused() { # refused PATTERN: pmbot run exits by itself, saying PATTERN
    timeout 10 "$pmbot" run -c "$dir/pmbot.conf" </dev/null 2>"$dir/e2"
    rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$1" "$dir/e2"
}
check "no token and a non-loopback address: refused" refused 'token is required'
conf 127.0.0.1.nip.invalid:0 2
check "a name that does not resolve: refused, not taken for loopback" \
    refused 'does not resolve'
conf '::1:80' 2
check "a bare IPv6 address: refused with the form to use" refused '\[::1\]:8088' 

# 3. a signature is good once
conf 127.0.0.1:0 2
start
now=$(date +%s)
sig=$(sign "$now" $fx/generic.json)
check "a signed alarm: 201" \
    [ "$(post /hooks/generic $fx/generic.json -H "X-Pmbot-Timestamp: $now" -H "X-Pmbot-Signature: v0=$sig")" = 201 ]
entries=$(db 'select count(*) from timeline')
check "the same request again: 409" \
    [ "$(post /hooks/generic $fx/generic.json -H "X-Pmbot-Timestamp: $now" -H "X-Pmbot-Signature: v0=$sig")" = 409 ]
check "it says why" grep -q 'already used' "$dir/body"
check "and changed nothing" [ "$(db 'select count(*) from timeline')" = "$entries" ]
stop
start
check "after a restart too: 409" \
    [ "$(post /hooks/generic $fx/generic.json -H "X-Pmbot-Timestamp: $now" -H "X-Pmbot-Signature: v0=$sig")" = 409 ]
check "a fresh signature of the same body is accepted" \
    [ "$(post /hooks/generic $fx/generic.json -H "X-Pmbot-Timestamp: $((now + 1))" -H "X-Pmbot-Signature: v0=$(sign $((now + 1)) $fx/generic.json)")" = 200 ]

# 4. chunked bodies, as Alertmanager and proxies send them
n=$(db 'select count(*) from incidents')
check "a chunked alarm: 201" \
    [ "$(post /hooks/alertmanager $fx/alertmanager_firing.json -H "$auth" -H 'Transfer-Encoding: chunked')" = 201 ]
check "its incident is there" [ "$(db 'select count(*) from incidents')" = $((n + 1)) ]
$probe "$port" raw "$(hex "POST /hooks/generic HTTP/1.1")0d0a$(hex "$auth")0d0a$(hex 'Transfer-Encoding: chunked')0d0a0d0a$(hex 'zz')0d0a" >"$dir/p.txt"
check "a bad chunk size: 400" grep -q "answer='HTTP/1.1 400" "$dir/p.txt"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$dir/big.json"
check "a chunked body over 1 MiB: 413" \
    [ "$(post /hooks/generic "$dir/big.json" -H "$auth" -H 'Transfer-Encoding: chunked')" = 413 ]
check "and nothing changed" [ "$(db 'select count(*) from incidents')" = $((n + 1)) ]

# 5. framing: Content-Length must be one plain number. The body is a
# good alarm, so only the framing can be what is refused.
cl() { # cl HEADER...: "STATUS BODY" of a POST of a good alarm
    body='{"title":"Framing check","severity":3}'
    h=$(hex "POST /hooks/generic HTTP/1.1")0d0a$(hex "$auth")0d0a
    for x in "$@"; do h="$h$(hex "$x")0d0a"; done
    $probe "$port" send "${h}0d0a$(hex "$body")" >"$dir/cl.txt"
    printf '%s %s\n' "$(sed -n "s/^answer='HTTP\/1.1 \([0-9]*\).*/\1/p" "$dir/cl.txt")" \
        "$(sed -n 's/^body=//p' "$dir/cl.txt")"
}
glen=38
check "a negative Content-Length: 400" \
    [ "$(cl 'Content-Length: -2')" = '400 {"error":"bad Content-Length"}' ]
check "Content-Length twice: 400" \
    [ "$(cl "Content-Length: $glen" "Content-Length: $glen")" = '400 {"error":"bad Content-Length"}' ]
check "a list in Content-Length: 400" \
    [ "$(cl "Content-Length: $glen, $glen")" = '400 {"error":"bad Content-Length"}' ]
check "a word in Content-Length: 400" \
    [ "$(cl 'Content-Length: two')" = '400 {"error":"bad Content-Length"}' ]
check "Content-Length with chunked: 400" \
    [ "$(cl "Content-Length: $glen" 'Transfer-Encoding: chunked')" = '400 {"error":"Content-Length and Transfer-Encoding together"}' ]
check "an unknown Transfer-Encoding: 501" \
    [ "$(cl 'Transfer-Encoding: gzip')" = '501 {"error":"unsupported Transfer-Encoding"}' ]
check "a POST of unknown length: 411" \
    [ "$(cl)" = '411 {"error":"send a Content-Length or a chunked body"}' ]
check "a huge Content-Length: 413" \
    [ "$(cl 'Content-Length: 99999999999')" = '413 {"error":"body over 1 MiB"}' ]
check "bad framing changed nothing" [ "$(db 'select count(*) from incidents')" = $((n + 1)) ]
check "while the same alarm, framed right, is taken" \
    [ "$(cl "Content-Length: $glen" | cut -c1-3)" = 201 ]
check "and recorded" [ "$(db 'select count(*) from incidents')" = $((n + 2)) ]
stop

# 6. one deadline per request: trickling does not extend it, and an idle
# body is given all of body_timeout
conf 127.0.0.1:0 7
start
$probe "$port" slow 7 >"$dir/slow.txt"
cat "$dir/slow.txt"
set -- $(tr ' =' '\n ' <"$dir/slow.txt" | awk '{print $2}')
check "50 clients trickling a byte at a time are all hung up on" [ "$1" = 50 ]
check "none before body_timeout ($2 s)" awk "BEGIN { exit !($2 >= 6.5) }"
check "all soon after it ($3 s)" awk "BEGIN { exit !($3 <= 8.5) }"
check "an idle body gets all of body_timeout, then is dropped ($4 s)" \
    awk "BEGIN { exit !($4 >= 6.5 && $4 <= 8.5) }"
check "/healthz 200 after the slow clients" [ "$(health)" = 200 ]

# 7. 5,000 connections at once: the oldest make room, /healthz answers
ulimit -n 16384 2>/dev/null
$probe "$port" flood 5000 >"$dir/flood.txt"
cat "$dir/flood.txt"
check "5,000 connections were opened" grep -q 'opened=5000 ' "$dir/flood.txt"
check "/healthz answered every time among them" grep -q 'healthz_failed=0 ' "$dir/flood.txt"
check "within 2 s each" \
    awk -F'healthz_slowest=' "{ exit !(\$2 + 0 <= 2) }" "$dir/flood.txt"
check "pmbot is still running" alive
check "the evictions are counted" \
    sh -c "curl -s '$url/metrics' | grep -q 'pmbot_webhook_connections_closed_total{reason=\"evicted\"}'"
check "no secret in the log" sh -c "! grep -q '$TOKEN' '$dir/err' '$dir/out'"
stop

# 8. out of file descriptors: refused, said once, no spin; then back
conf 127.0.0.1:0 30
: >"$dir/err"
(ulimit -n 40 && exec env PMBOT_WEBHOOK_TOKEN=$TOKEN "$pmbot" run \
    -c "$dir/pmbot.conf" </dev/null >>"$dir/out" 2>"$dir/err") &
bpid=$!
port=$(listen_port "$dir/err")
url="http://127.0.0.1:$port"
python3 - "$port" "$bpid" >"$dir/fd.txt" <<'PY2'
import os, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
held = []
for _ in range(80):
    try:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
    except OSError:
        pass
t0, c0 = time.monotonic(), cpu()
time.sleep(1.0)  # a window to measure the CPU over, not a synchronisation
print(f"cpu_share={(cpu() - c0) / (time.monotonic() - t0):.2f}")
for s in held:
    s.close()
PY2
cat "$dir/fd.txt"
check "past the descriptor limit pmbot does not spin" \
    awk -F= '{ exit !($2 + 0 < 0.5) }' "$dir/fd.txt"
check "it says so once" [ "$(grep -c 'out of file descriptors' "$dir/err")" = 1 ]
ok_again() { for _ in $(seq 100); do [ "$(health)" = 200 ] && return 0; sleep 0.05; done; return 1; }
check "and answers /healthz again once they are released" ok_again
check "pmbot is still running" alive
stop
exit $((fails > 0))
