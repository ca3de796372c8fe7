# synapse.sh - a real Matrix homeserver for the tests (sourced after
# tests/lib.sh, which gives $dir): Synapse from PyPI in a virtual
# environment under the build folder (installed once, then cached there),
# started on 127.0.0.1 only, SQLite, no federation and no outbound
# traffic, rate limits relaxed; the test stops it (kill $spid: lib.sh's
# cleanup does not know it).
#   synapse_install BUILD   the venv at BUILD/synapse-venv (once)
#   synapse_start BUILD     a homeserver "localhost" in $dir/synapse on a
#                           free port: sets $hs (its URL), $spid, $hsconf
#   synapse_register USER PASS [admin]   prints the user's access token
# Protocol notes: ../shared/protocols.md section E. Measured here: the
# first install about 25 s, then start, register and log in about 5 s.
# The Matrix e2e tests (issue 12) source it.

synapse_install() {
    venv=$1/synapse-venv
    [ -x "$venv/bin/synapse_homeserver" ] && return 0
    python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install --quiet --upgrade pip setuptools || return 1
    "$venv/bin/pip" install --quiet matrix-synapse
}

# free_port - a port no one listens on, from the kernel
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

synapse_start() {
    venv=$(cd "$1" && pwd)/synapse-venv
    SYNAPSE_VENV=$venv
    sdir=$dir/synapse
    mkdir -p "$sdir"
    hsport=$(free_port)
    (cd "$sdir" && "$venv/bin/python" -m synapse.app.homeserver \
        --server-name localhost --config-path homeserver.yaml \
        --generate-config --report-stats=no >/dev/null) || return 1
    hsconf=$sdir/homeserver.yaml
    # the generated listener, replaced: loopback only, client API only
    "$venv/bin/python" - "$hsconf" "$hsport" <<'PY' || return 1
import sys, yaml
path, port = sys.argv[1], int(sys.argv[2])
c = yaml.safe_load(open(path))
c["listeners"] = [{"port": port, "type": "http", "tls": False,
                   "x_forwarded": False, "bind_addresses": ["127.0.0.1"],
                   "resources": [{"names": ["client"], "compress": False}]}]
c["trusted_key_servers"] = []
c["suppress_key_server_warning"] = True
c["federation_domain_whitelist"] = []
c["enable_registration"] = False
c["report_stats"] = False
fast = {"per_second": 1000, "burst_count": 1000}
for k in ("rc_message", "rc_registration", "rc_room_creation",
          "rc_admin_redaction", "rc_3pid_validation"):
    c[k] = fast
c["rc_login"] = {"address": fast, "account": fast, "failed_attempts": fast}
c["rc_joins"] = {"local": fast, "remote": fast}
c["rc_invites"] = {"per_room": fast, "per_user": fast, "per_issuer": fast}
yaml.safe_dump(c, open(path, "w"))
PY
    (cd "$sdir" && exec "$venv/bin/python" -m synapse.app.homeserver \
        -c homeserver.yaml >"$sdir/out.log" 2>&1) &
    spid=$!
    hs=http://127.0.0.1:$hsport
    for _ in $(seq 600); do
        curl -fs "$hs/health" >/dev/null 2>&1 && return 0
        kill -0 "$spid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

synapse_register() {
    venv=${SYNAPSE_VENV:-build/synapse-venv}
    admin=--no-admin
    [ "$3" = admin ] && admin=-a
    "$venv/bin/register_new_matrix_user" -c "$hsconf" -u "$1" -p "$2" \
        $admin "$hs" >/dev/null || return 1
    curl -fs -X POST "$hs/_matrix/client/v3/login" -d \
        "{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\",\"user\":\"$1\"},\"password\":\"$2\"}" |
        jq -r .access_token
}
