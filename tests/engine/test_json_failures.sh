#!/bin/bash
# SPDX-License-Identifier: MIT
# test_json_failures.sh - issue 13.4: with --json, rotp-harness prints exactly one JSON object on
# stdout for every command and every failure (usage, unknown command, loader, sink, provider,
# verification), "ok" true only when the exit status is 0, and "error" {code, name, message}
# otherwise. Walks every command with a failure, using the file provider (no network).
set -u
H=${ROTP_HARNESS:?}
P=${ROTP_FILEPROV:?}
T=$(mktemp -d /tmp/rotp-json.XXXXXX)
chmod 700 "$T"
trap 'rm -rf "$T"' EXIT
fails=0
S=$T/store
mkdir -p "$S/v1" && chmod 700 "$S"
echo "admin-$RANDOM" >"$S/admin"
export FILEPROV_ADMIN_TOKEN; FILEPROV_ADMIN_TOKEN=$(cat "$S/admin")
export FILEPROV_STORE=$S FILEPROV_VAULT=v1
printf 'name=app\nvalue=%064d\nprev=\nprev_until=0\n' 1 >"$S/v1/k1"
printf '%064d\n' 2 >"$T/wrong" && chmod 600 "$T/wrong"
printf '%064d\n' 1 >"$T/cur" && chmod 600 "$T/cur"
printf '{"run_id":"r1","type":"run","command":"rotate","kind":"fileprov.key","id":"nope"}\n' >"$T/j"
chmod 600 "$T/j"
K=(--plugin "$P" --kind fileprov.key)

# one WANT_RC DESC ARGS...: stdout is one JSON object with ok == (rc == 0) and, on failure,
# error.code/name/message
one() {
    local want=$1 desc=$2
    shift 2
    "$H" "$@" --json >"$T/out" 2>"$T/err"
    local rc=$?
    if python3 - "$T/out" "$rc" "$want" <<'EOF'; then echo "ok: $desc (exit $rc)"; else echo "FAIL: $desc (exit $rc)"; sed 's/^/    | /' "$T/out" "$T/err" | head -8; fails=$((fails + 1)); fi
import json, sys
text = open(sys.argv[1]).read()
rc, want = int(sys.argv[2]), sys.argv[3]
objs = [l for l in text.split("\n") if l.strip()]
assert len(objs) == 1, "%d lines on stdout" % len(objs)
d = json.loads(objs[0])
assert d["ok"] is (rc == 0), "ok=%r with exit %d" % (d["ok"], rc)
assert d["exit_code"] == rc, "exit_code %r != %d" % (d["exit_code"], rc)
assert want == "any" or rc == int(want), "exit %d, want %s" % (rc, want)
if rc != 0:
    e = d["error"]
    assert e["code"] and e["name"] and e["message"], e
EOF
}

one 0 "--version" --version
one 0 "help" help
one 0 "help rotate" help rotate
one 2 "no command"
one 2 "unknown command" frobnicate
one 2 "unknown option" info --no-such-option
one 2 "help of an unknown command" help frobnicate
one 10 "info: provider missing" info --plugin "$T/none.so"
one 0 "info" info --plugin "$P"
one 2 "describe without --kind" describe --plugin "$P"
one 2 "describe: unknown kind" describe --plugin "$P" --kind no.such --id k1
one 6 "describe: not found" describe "${K[@]}" --id nope
one 2 "roll without a sink" roll "${K[@]}" --id k1
one 9 "roll: sink directory missing" roll "${K[@]}" --id k1 --out "$T/no/dir/x"
one 3 "verify: a dead secret" verify "${K[@]}" --id k1 --secret-file "$T/wrong"
one 0 "verify: the live secret" verify "${K[@]}" --id k1 --secret-file "$T/cur"
one 2 "revoke without --id" revoke "${K[@]}"
one 2 "list: a secret key as an option" list "${K[@]}" --value x
one 2 "provision without --name" provision "${K[@]}" --out "$T/p"
one 2 "rotate without --id" rotate "${K[@]}" --out "$T/o"
one 6 "rotate: not found" rotate "${K[@]}" --id nope --out "$T/o"
one 9 "rotate: sink cannot be written" rotate "${K[@]}" --id k1 --out "$T/no/dir/x"
one 4 "rotate: wrong management token" rotate "${K[@]}" --id k1 --out "$T/o" --config "store=$S" --token-file "$T/wrong"
one 2 "resume without --journal" resume --plugin "$P"
one 6 "resume: the journal's credential is gone" resume --plugin "$P" --journal "$T/j" --out "$T/o"
one 2 "sandbox without --kind" sandbox --plugin "$P"
one 2 "sandbox: unknown kind" sandbox --plugin "$P" --kind no.such
one any "demo without cfemu" demo --plugin "$P" --cfemu "$T/no-cfemu"

echo "json failures: $fails failure(s)"
[ "$fails" = 0 ]
