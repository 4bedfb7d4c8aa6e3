#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_proxy.sh - proxies are a documented choice, and TLS to the API runs end to end through one
# (issue 9, docs/rotp-harness.md "Proxies", config key `proxy` in abi/ABI.md).
#
# connect_proxy.py records everything a proxy sees. Through it:
#  - --proxy URL: a whole rotation goes through CONNECT tunnels; the proxy sees the CONNECT head
#    and then TLS records only (each tunnel starts with a TLS handshake record), never a plain
#    request, never "Authorization" or "Bearer", never the management token, the old or the new
#    secret, in either direction;
#  - the environment's https_proxy is honoured as libcurl does, except for loopback, which is
#    always reached directly; for another host name the CONNECT goes through the proxy and the
#    server's certificate is still verified end to end (the proxy reaches cfemu, whose certificate
#    is not for that name: refused);
#  - --proxy none refuses the environment's proxy (the proxy sees nothing);
#  - a proxy that refuses the CONNECT: the roll fails as "nothing sent" (not outcome unknown),
#    and cfemu saw no request;
#  - proxy URLs the provider refuses: other schemes, credentials, a path or query.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
V=(--verify-delay-ms 100)
PROXY_PY=$(dirname "${BASH_SOURCE[0]}")/connect_proxy.py

start_proxy() { # NAME [ARGS]: sets PX_PORT and PX_LOG
    local name=$1
    shift
    PX_LOG=$HL_T/proxy.$name
    mkdir -p "$PX_LOG"
    "$HL_PY" "$PROXY_PY" "$PX_LOG/port" "$PX_LOG" "$@" >"$HL_T/cap/proxy.$name.out" 2>&1 &
    HL_BG_PIDS+=($!)
    if ! hl_wait_for 10 test -s "$PX_LOG/port"; then
        hl_fail "the $name proxy did not start"
        hl_done
    fi
    PX_PORT=$(tr -dc '0-9' <"$PX_LOG/port")
}
count() { # DIR GLOB: how many files match
    local n=0 f
    for f in "$1"/$2; do [ -e "$f" ] && n=$((n + 1)); done
    echo "$n"
}

start_proxy main
MAIN_LOG=$PX_LOG
MAIN_PORT=$PX_PORT

# ---- --proxy URL: a rotation through the tunnel -----------------------------------------------------
hl_log_reset
hl_run rotate-via-proxy rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --secret-file "$F/pages.0" --out "$F/pages.1" --proxy "http://127.0.0.1:$MAIN_PORT" "${V[@]}" -v -v
hl_expect_rc 0 "a rotation through --proxy http://127.0.0.1:PORT"
hl_out_secrets "$F/pages.1" raw
tunnels=$(count "$MAIN_LOG" '*.head')
hl_check "the proxy carried the rotation's connections ($tunnels CONNECT tunnels)" test "$tunnels" -ge 2
hl_check "every request to the proxy was a CONNECT to cfemu" \
    bash -c 'for f in "$1"/*.head; do head -n 1 "$f" | grep -q "^CONNECT 127.0.0.1:$2 HTTP/1.1" || exit 1; done' \
    _ "$MAIN_LOG" "$HL_PORT"
hl_check "no plain request reached the proxy" test "$(count "$MAIN_LOG" '*.plain')" = 0
hl_check "each tunnel starts with a TLS handshake record" "$HL_PY" -c '
import glob, sys
files = glob.glob(sys.argv[1] + "/*.c2s")
sys.exit(0 if files and all(open(f, "rb").read(2) == b"\x16\x03" for f in files) else 1)' "$MAIN_LOG"
hl_check "the proxy never saw an Authorization header or the word Bearer" \
    bash -c '! grep -aqi -e authorization -e bearer "$1"/*' _ "$MAIN_LOG"
hl_no_secrets "the proxy never saw the management token, the old or the new secret" "$MAIN_LOG"/*
log_check "cfemu answered the rotation's calls (through the tunnel)" "count('PUT', r'/value$')==1"

# ---- the environment's proxy ---------------------------------------------------------------------------
before=$(count "$MAIN_LOG" '*.head')
https_proxy=http://127.0.0.1:$MAIN_PORT hl_run env-loopback describe --kind "$KU" \
    --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}"
hl_expect_rc 0 "with https_proxy set, a loopback API is reached directly"
hl_check "the proxy saw nothing of it" test "$(count "$MAIN_LOG" '*.head')" = "$before"

start_proxy mapping --map .test=127.0.0.1
MAP_LOG=$PX_LOG
https_proxy=http://127.0.0.1:$PX_PORT hl_run_raw env-name describe --kind "$KU" \
    --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --plugin "$ROTP_PLUGIN" \
    --api-base "https://cfemu.test:$HL_PORT/client/v4" --ca-file "$HL_CA"
hl_expect_rc_not 0 "through https_proxy to a name cfemu's certificate does not hold: refused"
hl_check "the environment's proxy was used (CONNECT cfemu.test)" \
    bash -c 'grep -q "^CONNECT cfemu.test:$2 " "$1"/*.head' _ "$MAP_LOG" "$HL_PORT"
hl_check "the refusal is a TLS verification failure, end to end through the tunnel" \
    grep -qi "certificate\|TLS\|SSL" "$HL_ERR"
hl_no_secrets "the proxy never saw a secret" "$MAP_LOG"/*

before=$(count "$MAP_LOG" '*.head')
https_proxy=http://127.0.0.1:$PX_PORT HTTPS_PROXY=http://127.0.0.1:$PX_PORT \
    all_proxy=http://127.0.0.1:$PX_PORT hl_run_raw env-none describe --kind "$KU" \
    --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --plugin "$ROTP_PLUGIN" \
    --api-base "https://cfemu.test:$HL_PORT/client/v4" --ca-file "$HL_CA" --proxy none
hl_expect_rc_not 0 "--proxy none: cfemu.test cannot be resolved without the proxy"
hl_check "--proxy none: the environment's proxy saw nothing" \
    test "$(count "$MAP_LOG" '*.head')" = "$before"

# ---- a proxy that refuses the CONNECT -----------------------------------------------------------------
start_proxy refusing --refuse
hl_log_reset
hl_run refused-roll roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --out "$F/never.out" --proxy "http://127.0.0.1:$PX_PORT"
hl_expect_rc_not 0 "a roll through a proxy that refuses the CONNECT fails"
hl_expect_rc_not 8 "and is not 'outcome unknown': nothing reached the API"
hl_check "the refusing proxy was asked" test "$(count "$PX_LOG" '*.head')" -ge 1
log_check "cfemu saw no request" "len(L)==0"
hl_check "no sink was written" test ! -e "$F/never.out"

# ---- proxy URLs that are refused -----------------------------------------------------------------------
for bad in "ftp://127.0.0.1:$MAIN_PORT" "http://user:pw@127.0.0.1:$MAIN_PORT" \
    "http://127.0.0.1:$MAIN_PORT/path" "http://127.0.0.1:$MAIN_PORT/?q=1" "not a url"; do
    hl_run bad-proxy describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --proxy "$bad"
    hl_expect_rc 2 "--proxy '$bad' is refused"
    hl_check "the message names the proxy setting" grep -q "proxy" "$HL_ERR"
    hl_check "the message does not echo the URL" bash -c '! grep -qF "$2" "$1"' _ "$HL_ERR" "$bad"
done

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
