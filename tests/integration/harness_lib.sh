# SPDX-License-Identifier: MIT
# harness_lib.sh - shared helpers for tests/integration/test_harness_*.sh (sourced, bash).
#
# Each test script: `. "$(dirname "$0")/harness_lib.sh"; hl_init; hl_cfemu_start; ...; hl_done`.
#  - hl_init makes a private temporary directory ($HL_T, mode 0700) and installs a trap that
#    kills what the test started (by pid), stops cfemu with SIGTERM (and checks it exits 0),
#    and removes the directory (HL_KEEP=1 keeps it for debugging; its path is printed).
#  - hl_cfemu_start runs cfemu on 127.0.0.1:0 over TLS with --port-file/--ca-out/--creds-out,
#    waits (bounded) for the port file, and reads the creds file into shell variables that are
#    NOT exported (so no secret reaches a child's environment). Token values are written to
#    0600 files for --token-file / --secret-file; every secret value is recorded in
#    $HL_T/secrets.lst, which hl_no_secrets greps for (grep -F -f: never in argv).
#  - hl_run NAME ARGS... runs rotp-harness (bounded by `timeout`) with --plugin, --api-base and
#    --ca-file appended, capturing stdout/stderr to $HL_T/cap/NN-NAME.{out,err}; sets HL_RC,
#    HL_OUT, HL_ERR. Every capture stays in $HL_T/cap so the hygiene checks can scan them.
#  - Checks (hl_expect_rc, hl_check, hl_json_check, ...) count failures and go on; hl_done
#    exits 1 if any check failed. A failing check prints file names and redacted excerpts,
#    never a secret value.
#
# Environment (set by tests/integration/CMakeLists.txt): ROTP_HARNESS, CFEMU_BIN, ROTP_PLUGIN,
# ROTP_SOURCE_DIR, ROTP_TEST_DATA, ROTP_PYTHON3. For a manual run, ROTP_BUILD_DIR=<build> is
# enough (the programs are taken from <build>/bin).

set -u
set -o pipefail

HL_PY=${ROTP_PYTHON3:-/usr/bin/python3}
[ -x "$HL_PY" ] || HL_PY=/usr/bin/python3
HL_FAILS=0
HL_CHECKS=0
HL_T=""
HL_CFEMU_PID=""
HL_CFEMU_DIR=""
HL_BG_PIDS=()
HL_NCAP=0
HL_RC=0
HL_OUT=""
HL_ERR=""
HL_STDIN=/dev/null
HL_TIMEOUT=${HL_TIMEOUT:-90}

KU=cloudflare.user_token
KA=cloudflare.account_token
KS=cloudflare.access_service_token

hl_say() { printf '%s\n' "$*"; }

# Prints a file with every known secret value replaced by <SECRET:n> (at most 40 lines).
hl_show() {
    local f=$1
    [ -f "$f" ] || { hl_say "    ($f: missing)"; return 0; }
    "$HL_PY" - "$f" "$HL_T/secrets.lst" <<'EOF'
import sys
path, lst = sys.argv[1], sys.argv[2]
try:
    secrets = [s for s in open(lst, encoding="utf-8", errors="replace").read().split("\n") if s]
except OSError:
    secrets = []
text = open(path, encoding="utf-8", errors="replace").read()
for i, s in enumerate(sorted(secrets, key=len, reverse=True)):
    text = text.replace(s, "<SECRET:%d>" % i)
# Secrets this test never saw (a sandbox's throwaway values) have known shapes: API-token values
# and 64-hex service-token client secrets (sha256 sums get masked too; that costs nothing).
import re
text = re.sub(r"cf[ua]t_[A-Za-z0-9_\-]{16,}", "<TOKEN-SHAPED>", text)
text = re.sub(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", "<HEX64>", text)
lines = text.split("\n")
for l in lines[:40]:
    print("    | " + l[:300])
if len(lines) > 40:
    print("    | ... (%d more lines)" % (len(lines) - 40))
EOF
}

hl_fail() {
    HL_FAILS=$((HL_FAILS + 1))
    hl_say "FAIL: $*"
}

hl_pass() {
    HL_CHECKS=$((HL_CHECKS + 1))
    hl_say "ok:   $*"
}

# hl_check DESC CMD...: passes if CMD succeeds.
hl_check() {
    local desc=$1
    shift
    if "$@"; then hl_pass "$desc"; else hl_fail "$desc"; fi
}

# Shows the last capture (redacted), for a failing check.
hl_show_last() {
    hl_say "    stdout: $HL_OUT"
    hl_show "$HL_OUT"
    hl_say "    stderr: $HL_ERR"
    hl_show "$HL_ERR"
}

# hl_expect_rc WANT DESC: the exit code of the last hl_run.
hl_expect_rc() {
    local want=$1 desc=$2
    if [ "$HL_RC" = "$want" ]; then
        hl_pass "$desc (exit $HL_RC)"
        return 0
    fi
    hl_fail "$desc: exit $HL_RC, want $want"
    hl_show_last
    return 1
}

# hl_expect_rc_not WANT DESC
hl_expect_rc_not() {
    local bad=$1 desc=$2
    if [ "$HL_RC" != "$bad" ]; then
        hl_pass "$desc (exit $HL_RC)"
        return 0
    fi
    hl_fail "$desc: exit $HL_RC"
    hl_show_last
    return 1
}

# hl_json_check FILE DESC PYEXPR: evaluates PYEXPR with d = the JSON document in FILE; passes if
# it is true. The expression's value is never printed (it could be a secret).
hl_json_check() {
    local f=$1 desc=$2 expr=$3
    if "$HL_PY" - "$f" "$expr" <<'EOF'; then
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("    (not JSON: %s)" % type(e).__name__)
    sys.exit(2)
def steps_ok(d, allow=("PASS", "SKIP")):
    s = d.get("steps")
    return isinstance(s, list) and len(s) > 0 and all(x.get("status") in allow for x in s)
def step(d, name):
    return [x for x in d.get("steps", []) if x.get("step") == name]
try:
    ok = bool(eval(sys.argv[2]))
except Exception as e:
    print("    (expression failed: %s: %s)" % (type(e).__name__, e))
    ok = False
sys.exit(0 if ok else 1)
EOF
        hl_pass "$desc"
        return 0
    fi
    hl_fail "$desc [$expr] in $f"
    hl_show "$f"
    return 1
}

# hl_json_get FILE PYEXPR: prints the value (for ids and other non-secrets only).
hl_json_get() {
    "$HL_PY" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if v is not None else "")
EOF
}

# hl_json_lines_check FILE DESC PYEXPR: every line of FILE is a JSON object; PYEXPR over
# L = [the objects] must be true.
hl_json_lines_check() {
    local f=$1 desc=$2 expr=$3
    if "$HL_PY" - "$f" "$expr" <<'EOF'; then
import json, sys
L = []
for n, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        continue
    try:
        o = json.loads(line)
    except Exception:
        print("    (line %d is not JSON)" % n)
        sys.exit(2)
    if not isinstance(o, dict):
        print("    (line %d is not an object)" % n)
        sys.exit(2)
    L.append(o)
try:
    ok = bool(eval(sys.argv[2]))
except Exception as e:
    print("    (expression failed: %s: %s)" % (type(e).__name__, e))
    ok = False
sys.exit(0 if ok else 1)
EOF
        hl_pass "$desc"
        return 0
    fi
    hl_fail "$desc [$expr] in $f"
    hl_show "$f"
    return 1
}

# --- setup / teardown ----------------------------------------------------------------------------

hl_find_programs() {
    local b=${ROTP_BUILD_DIR:-}
    if [ -n "$b" ]; then
        : "${ROTP_HARNESS:=$b/bin/rotp-harness}"
        : "${CFEMU_BIN:=$b/bin/cfemu}"
        : "${ROTP_PLUGIN:=$b/bin/cloudflare.so}"
    fi
    : "${ROTP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
    : "${ROTP_TEST_DATA:=$ROTP_SOURCE_DIR/tests/data}"
    local missing=0 v
    for v in ROTP_HARNESS CFEMU_BIN ROTP_PLUGIN; do
        if [ -z "${!v:-}" ] || [ ! -e "${!v}" ]; then
            hl_say "FAIL: \$$v is not set or does not exist (${!v:-unset})"
            missing=1
        fi
    done
    [ $missing = 0 ] || exit 1
    export ROTP_HARNESS CFEMU_BIN ROTP_PLUGIN ROTP_SOURCE_DIR ROTP_TEST_DATA
}

hl_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local p i
    for p in "${HL_BG_PIDS[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill -9 "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    if [ -n "$HL_CFEMU_PID" ]; then
        hl_cfemu_stop
    fi
    if [ -n "$HL_T" ] && [ -d "$HL_T" ]; then
        if [ "${HL_KEEP:-0}" = 1 ]; then
            hl_say "kept: $HL_T"
        else
            rm -rf -- "$HL_T"
        fi
    fi
    if [ "$HL_FAILS" -gt 0 ]; then
        hl_say "== $(basename "$0"): $HL_FAILS check(s) FAILED, $HL_CHECKS passed"
        exit 1
    fi
    if [ "$rc" != 0 ]; then
        hl_say "== $(basename "$0"): aborted (exit $rc) after $HL_CHECKS passed checks"
        exit "$rc"
    fi
    hl_say "== $(basename "$0"): all $HL_CHECKS checks passed"
    exit 0
}

hl_init() {
    hl_find_programs
    umask 077
    HL_T=$(mktemp -d "${TMPDIR:-/tmp}/rotp-htest.XXXXXX") || { hl_say "FAIL: mktemp"; exit 1; }
    chmod 700 "$HL_T"
    mkdir -p "$HL_T/cap" "$HL_T/files"
    : >"$HL_T/secrets.lst"
    chmod 600 "$HL_T/secrets.lst"
    trap hl_cleanup EXIT
    trap 'exit 130' INT TERM
}

hl_done() {
    exit 0 # the EXIT trap reports and sets the status
}

# Bounded wait: hl_wait_for SECONDS CMD... (polls every 0.1 s). 0 if CMD succeeded in time.
hl_wait_for() {
    local secs=$1 i n
    shift
    n=$((secs * 10))
    for ((i = 0; i < n; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    "$@"
}

hl_secret_add() { # VALUE (never echoed)
    [ -n "$1" ] && printf '%s\n' "$1" >>"$HL_T/secrets.lst"
    return 0
}

# Reads the creds file into shell variables (not exported) and records the secrets.
hl_load_creds() {
    local f=$1 line key val
    while IFS= read -r line || [ -n "$line" ]; do
        key=${line%%=*}
        val=${line#*=}
        [[ $key =~ ^CFEMU_[A-Z0-9_]+$ ]] || continue
        if [[ $val == \"*\" ]]; then val=${val:1:${#val}-2}; fi
        printf -v "$key" '%s' "$val"
        case $key in
        *_VALUE | *_CLIENT_SECRET) hl_secret_add "$val" ;;
        esac
    done <"$f"
}

# Writes a secret held in a shell variable to a 0600 file (for --token-file / --secret-file).
hl_write_secret() { # VARNAME FILE
    (umask 077 && printf '%s\n' "${!1}" >"$2")
}

# A service token's current secret in the --out format (a --secret-file the harness accepts).
hl_write_st_secret() { # NAME FILE   (NAME = CONSOLE_PROBE ...)
    local cid="CFEMU_ST_$1_CLIENT_ID" sec="CFEMU_ST_$1_CLIENT_SECRET"
    (umask 077 && printf 'CF_ACCESS_CLIENT_ID=%s\nCF_ACCESS_CLIENT_SECRET=%s\n' "${!cid}" "${!sec}" >"$2")
}

hl_port_ready() { [ -s "$HL_CFEMU_DIR/port" ] && [ -s "$HL_CFEMU_DIR/creds.env" ] && [ -s "$HL_CFEMU_DIR/ca.pem" ]; }

# hl_cfemu_start [extra cfemu args]
hl_cfemu_start() {
    HL_CFEMU_DIR=$HL_T/cfemu
    mkdir -p "$HL_CFEMU_DIR"
    # Under `timeout` so that cfemu cannot outlive a test that is itself killed (CTest's
    # timeout); timeout passes our SIGTERM on and exits with cfemu's status. Its kill-after
    # timer also starts on our SIGTERM: give cfemu longer than hl_cfemu_stop waits (15 s), since
    # under ASan on a loaded machine its exit (leak check) can take more than a few seconds.
    timeout -k 20 "${HL_CFEMU_LIFETIME:-290}" "$CFEMU_BIN" --listen 127.0.0.1:0 \
        --port-file "$HL_CFEMU_DIR/port" \
        --ca-out "$HL_CFEMU_DIR/ca.pem" --creds-out "$HL_CFEMU_DIR/creds.env" \
        --log "$HL_CFEMU_DIR/requests.log" "$@" \
        </dev/null >"$HL_T/cap/cfemu.out" 2>"$HL_T/cap/cfemu.err" &
    HL_CFEMU_PID=$!
    if ! hl_wait_for 20 hl_port_ready; then
        hl_say "FAIL: cfemu did not write its port file within 20 s"
        hl_show "$HL_T/cap/cfemu.err"
        exit 1
    fi
    sleep 0.1 # the port file may be written in more than one write
    # cfemu's own pid (the child of timeout), for /proc checks
    HL_CFEMU_REALPID=$(awk '{print $1}' "/proc/$HL_CFEMU_PID/task/$HL_CFEMU_PID/children" 2>/dev/null)
    : "${HL_CFEMU_REALPID:=$HL_CFEMU_PID}"
    HL_PORT=$(tr -dc '0-9' <"$HL_CFEMU_DIR/port")
    HL_ORIGIN="https://127.0.0.1:$HL_PORT"
    HL_API="$HL_ORIGIN/client/v4"
    HL_CA="$HL_CFEMU_DIR/ca.pem"
    hl_load_creds "$HL_CFEMU_DIR/creds.env"
    local f
    for f in CFEMU_USER_ID CFEMU_ACCOUNT_ID CFEMU_ZONE_ID CFEMU_TOKEN_MGMT_VALUE \
        CFEMU_TOKEN_PAGES_DEPLOY_ID CFEMU_TOKEN_CI_READONLY_ID CFEMU_TOKEN_READONLY_VALUE \
        CFEMU_ST_CONSOLE_PROBE_ID CFEMU_ST_VAULT_PROBE_ID CFEMU_ST_EDGE_PROBE_ID \
        CFEMU_APP_CONSOLE_ID CFEMU_APP_VAULT_ID CFEMU_APP_EDGE_ID; do
        if [ -z "${!f:-}" ]; then
            hl_say "FAIL: cfemu's creds file lacks $f"
            exit 1
        fi
    done
    ACC=$CFEMU_ACCOUNT_ID
    ZONE=$CFEMU_ZONE_ID
    F=$HL_T/files
    hl_write_secret CFEMU_TOKEN_MGMT_VALUE "$F/mgmt.tok"
    hl_write_secret CFEMU_TOKEN_READONLY_VALUE "$F/readonly.tok"
    hl_write_secret CFEMU_TOKEN_PAGES_DEPLOY_VALUE "$F/pages.0"
    hl_write_secret CFEMU_TOKEN_CI_READONLY_VALUE "$F/ci.0"
    hl_write_st_secret CONSOLE_PROBE "$F/console.0"
    hl_write_st_secret VAULT_PROBE "$F/vault.0"
    hl_write_st_secret EDGE_PROBE "$F/edge.0"
    # A well-formed token value no token has (not a secret of the run).
    printf 'cfut_%s\n' "0000bogus0000bogus0000bogus0000bogus00" >"$F/bogus.tok"
    MG=(--token-file "$F/mgmt.tok")
    PROBE_CONSOLE="$HL_ORIGIN/cdn-cgi/access/probe/$CFEMU_APP_CONSOLE_ID"
    PROBE_VAULT="$HL_ORIGIN/cdn-cgi/access/probe/$CFEMU_APP_VAULT_ID"
    PROBE_EDGE="$HL_ORIGIN/cdn-cgi/access/probe/$CFEMU_APP_EDGE_ID"
    hl_say "cfemu on port $HL_PORT (pid $HL_CFEMU_REALPID)"
}

hl_cfemu_stop() {
    local pid=$HL_CFEMU_PID real=${HL_CFEMU_REALPID:-} st
    HL_CFEMU_PID=""
    # SIGTERM to cfemu itself as well as to the `timeout` around it: on a loaded CI machine a
    # run was seen where cfemu never printed "signal 15, stopping" within 15 s of the signal
    # sent only to `timeout`.
    kill -TERM "$pid" 2>/dev/null
    [ -n "$real" ] && kill -TERM "$real" 2>/dev/null
    if ! hl_wait_for 15 hl_not_alive "$pid"; then
        if [ -n "$real" ] && [ -r "/proc/$real/status" ]; then
            hl_say "cfemu (pid $real) still running 15 s after SIGTERM:"
            grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|Threads):' "/proc/$real/status" |
                sed 's/^/    | /'
        fi
        hl_fail "cfemu did not exit within 15 s of SIGTERM"
        kill -9 "$pid" 2>/dev/null
        [ -n "$real" ] && kill -9 "$real" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    st=$?
    if [ "$st" = 0 ]; then
        hl_pass "cfemu exited 0 on SIGTERM"
    else
        hl_fail "cfemu exit status $st on SIGTERM (stderr: $HL_T/cap/cfemu.err)"
        hl_show "$HL_T/cap/cfemu.err"
    fi
}

hl_not_alive() { ! kill -0 "$1" 2>/dev/null; }

# --- running the harness -------------------------------------------------------------------------

# hl_run NAME ARGS...: rotp-harness ARGS --plugin --api-base --ca-file (stdin: $HL_STDIN).
hl_run() {
    local name=$1
    shift
    HL_NCAP=$((HL_NCAP + 1))
    local base
    base=$(printf '%s/cap/%03d-%s' "$HL_T" "$HL_NCAP" "$name")
    HL_OUT=$base.out
    HL_ERR=$base.err
    {
        timeout -k 5 "$HL_TIMEOUT" "$ROTP_HARNESS" "$@" --plugin "$ROTP_PLUGIN" \
            --api-base "$HL_API" --ca-file "$HL_CA" <"$HL_STDIN" >"$HL_OUT" 2>"$HL_ERR"
    } 2>/dev/null
    HL_RC=$?
    return 0
}

# hl_run_raw NAME ARGS...: rotp-harness ARGS only (no added options).
hl_run_raw() {
    local name=$1
    shift
    HL_NCAP=$((HL_NCAP + 1))
    local base
    base=$(printf '%s/cap/%03d-%s' "$HL_T" "$HL_NCAP" "$name")
    HL_OUT=$base.out
    HL_ERR=$base.err
    {
        timeout -k 5 "$HL_TIMEOUT" "$ROTP_HARNESS" "$@" <"$HL_STDIN" >"$HL_OUT" 2>"$HL_ERR"
    } 2>/dev/null
    HL_RC=$?
    return 0
}

# hl_bg NAME ARGS...: starts rotp-harness in the background (pid in HL_BGPID, exec'd directly so
# the pid is the harness's own); captures as hl_run does.
hl_bg() {
    local name=$1
    shift
    HL_NCAP=$((HL_NCAP + 1))
    local base
    base=$(printf '%s/cap/%03d-%s' "$HL_T" "$HL_NCAP" "$name")
    HL_OUT=$base.out
    HL_ERR=$base.err
    "$ROTP_HARNESS" "$@" --plugin "$ROTP_PLUGIN" --api-base "$HL_API" --ca-file "$HL_CA" \
        <"$HL_STDIN" >"$HL_OUT" 2>"$HL_ERR" &
    HL_BGPID=$!
    HL_BG_PIDS+=("$HL_BGPID")
}

# hl_bg_kill: SIGKILL to the background harness, then hl_bg_wait 10 (bash's "Killed" job notice
# is kept off the test's output).
hl_bg_kill() {
    exec 3>&2 2>/dev/null
    kill -9 "$HL_BGPID" 2>/dev/null
    hl_bg_wait 10
    exec 2>&3 3>&-
}

# hl_bg_wait SECONDS: waits (bounded) for the background harness; sets HL_RC (124 on timeout,
# after which it is killed).
hl_bg_wait() {
    if ! hl_wait_for "$1" hl_not_alive "$HL_BGPID"; then
        kill -9 "$HL_BGPID" 2>/dev/null
        wait "$HL_BGPID" 2>/dev/null
        HL_RC=124
        return 1
    fi
    wait "$HL_BGPID" 2>/dev/null
    HL_RC=$?
    return 0
}

# --- cfemu control API ---------------------------------------------------------------------------

# hl_ctl METHOD PATH [JSON]: prints the response body; returns 0 on HTTP 200.
hl_ctl() {
    local m=$1 p=$2 body=${3:-} code tmp
    tmp=$(mktemp "$HL_T/ctl.XXXXXX")
    if [ -n "$body" ]; then
        code=$(curl -sS --max-time 10 --cacert "$HL_CA" -X "$m" -H 'Content-Type: application/json' \
            --data-binary "$body" -o "$tmp" -w '%{http_code}' "$HL_ORIGIN$p")
    else
        code=$(curl -sS --max-time 10 --cacert "$HL_CA" -X "$m" -o "$tmp" -w '%{http_code}' \
            "$HL_ORIGIN$p")
    fi
    cat "$tmp"
    rm -f "$tmp"
    [ "$code" = 200 ]
}

# hl_fault JSON: queues a cfemu fault; fails the test if cfemu refuses it.
hl_fault() {
    if ! hl_ctl POST /__cfemu/faults "$1" >"$HL_T/fault.last"; then
        hl_fail "cfemu refused the fault $1"
        hl_show "$HL_T/fault.last"
        return 1
    fi
    return 0
}

hl_faults_clear() { hl_ctl DELETE /__cfemu/faults >/dev/null; }

# Number of queued faults (-1 on error).
hl_faults_queued() {
    hl_ctl GET /__cfemu/faults >"$HL_T/faults.json" || { echo -1; return; }
    "$HL_PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["result"]))' "$HL_T/faults.json" 2>/dev/null || echo -1
}
hl_no_fault_queued() { [ "$(hl_faults_queued)" = 0 ]; }

hl_log_reset() { hl_ctl DELETE /__cfemu/log >/dev/null; }

# hl_log_get FILE: the request log (the envelope's result list) into FILE.
hl_log_get() {
    hl_ctl GET /__cfemu/log >"$1.env" || { hl_fail "GET /__cfemu/log"; return 1; }
    "$HL_PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["result"], open(sys.argv[2],"w"))' "$1.env" "$1"
}

# hl_state_get FILE: cfemu's state (secrets left out) into FILE.
hl_state_get() {
    hl_ctl GET /__cfemu/state >"$1.env" || { hl_fail "GET /__cfemu/state"; return 1; }
    "$HL_PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["result"], open(sys.argv[2],"w"))' "$1.env" "$1"
}

# log_check DESC PYEXPR: over L = cfemu's request log since the last hl_log_reset.
# count(method, regex) counts entries.
log_check() {
    local f
    f=$(mktemp "$HL_T/log.XXXXXX")
    hl_log_get "$f" || return 1
    local expr="$2"
    hl_json_check "$f" "$1" "(lambda L: (lambda count: ($expr))(lambda m, rx: sum(1 for e in L if e['method']==m and __import__('re').search(rx, e['path']))))(d)"
}

# --- secrets in files ----------------------------------------------------------------------------

# hl_out_secrets FILE raw|dotenv: records the secret values an --out file holds.
#   raw: the file is one API-token value and a newline;
#   dotenv: every KEY=VALUE whose KEY has no "__" and is not CF_ACCESS_CLIENT_ID is a secret.
hl_out_secrets() {
    [ -f "$1" ] || return 0
    "$HL_PY" - "$1" "$2" >>"$HL_T/secrets.lst" <<'EOF'
import sys
path, fmt = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8", errors="replace").read()
if fmt == "raw":
    v = text[:-1] if text.endswith("\n") else text
    if v:
        print(v)
else:
    for line in text.split("\n"):
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        if "__" in k or k == "CF_ACCESS_CLIENT_ID":
            continue
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1].replace('\\"', '"').replace("\\$", "$").replace("\\`", "`").replace("\\\\", "\\")
        if v:
            print(v)
EOF
}

# hl_dotenv_get FILE KEY: prints a NON-secret dotenv value (ids, companions).
hl_dotenv_get() {
    sed -n "s/^$2=//p" "$1" | head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

# hl_mode FILE: the octal mode (e.g. 600).
hl_mode() { stat -c %a "$1" 2>/dev/null; }

hl_expect_mode600() { # FILE DESC
    local m
    m=$(hl_mode "$1")
    if [ "$m" = 600 ]; then hl_pass "$2: mode 0600"; else hl_fail "$2: $1 has mode ${m:-missing}, want 600"; fi
}

# hl_same_secret FILE_A FMT_A FILE_B FMT_B: true if the two files hold the same secret value.
hl_files_differ_in_secret() {
    "$HL_PY" - "$@" <<'EOF'
import sys
def val(path, fmt):
    t = open(path).read()
    if fmt == "raw":
        return t.rstrip("\n")
    for line in t.split("\n"):
        k, _, v = line.partition("=")
        if k in ("CF_ACCESS_CLIENT_SECRET",) or (fmt.startswith("name:") and k == fmt[5:]):
            return v
    return None
a, b = val(sys.argv[1], sys.argv[2]), val(sys.argv[3], sys.argv[4])
sys.exit(0 if a and b and a != b else 1)
EOF
}

# hl_no_secrets DESC FILES...: no known secret value appears in any of FILES (file names only
# are reported).
hl_no_secrets() {
    local desc=$1 hits
    shift
    if [ ! -s "$HL_T/secrets.lst" ]; then
        hl_fail "$desc: no secrets recorded to look for"
        return 1
    fi
    hits=$(grep -lF -f "$HL_T/secrets.lst" -- "$@" 2>/dev/null)
    if [ -z "$hits" ]; then
        hl_pass "$desc"
        return 0
    fi
    hl_fail "$desc: a secret value appears in:"
    printf '    %s\n' $hits
    return 1
}

# hl_count_secrets: how many distinct secrets are recorded.
hl_count_secrets() { sort -u "$HL_T/secrets.lst" | grep -c .; }
