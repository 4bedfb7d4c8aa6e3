#!/bin/bash
# SPDX-License-Identifier: MIT
# test_fileprov.sh - the unchanged rotp-harness (and the example host) drive a provider that is
# not Cloudflare (tests/engine/fileprov.c: keys in a local file store): rotate in place, rotate
# into an overlap and finish, resume after a kill at the roll, sandbox, an unknown kind refused,
# request keys from the descriptor's environment fallbacks. Fails (exit 1) on any broken check.
set -u
H=${ROTP_HARNESS:?}
P=${ROTP_FILEPROV:?}
X=${ROTP_EXAMPLE_HOST:-}
T=$(mktemp -d /tmp/rotp-fileprov.XXXXXX)
chmod 700 "$T"
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # WANT DESC: $rc is the last exit code
    if [ "$rc" = "$1" ]; then ok "$2"; else bad "$2: exit $rc, want $1"; cat "$T/err" "$T/out" 2>/dev/null | sed 's/^/    | /' | head -20; fi
}

S=$T/store
mkdir -p "$S/v1" && chmod 700 "$S"
printf 'admin-%s\n' "$RANDOM$RANDOM" >"$S/admin"
head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n' >/dev/null
printf 'name=app\nvalue=%064d\nprev=\nprev_until=0\n' 1 >"$S/v1/k1"
printf '%064d\n' 1 >"$T/cur" && chmod 600 "$T/cur"
export FILEPROV_ADMIN_TOKEN; FILEPROV_ADMIN_TOKEN=$(cat "$S/admin")
export FILEPROV_STORE=$S
HP=(--plugin "$P")

run() { "$H" "${HP[@]}" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
value() { sed -n 's/^value=//p' "$S/v1/k1"; }

# info lists the kind from the descriptor
run info
expect 0 "info"
grep -q "fileprov.key" "$T/out" && ok "info names fileprov.key" || bad "info does not name fileprov.key"

# rotate in place (the vault from --param, the store and admin token from the environment)
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur" --out "$T/k1.env" \
    --secret-name APP_KEY --journal "$T/j1" --json --verify-delay-ms 10
expect 0 "rotate in place"
grep -qx "APP_KEY=$(value)" "$T/k1.env" && ok "the sink holds the store's new value" || bad "sink != store"
grep -qx "APP_KEY__KEY_ID=k1" "$T/k1.env" && ok "the companion KEY_ID" || bad "no KEY_ID companion"
[ "$(stat -c %a "$T/k1.env")" = 600 ] && ok "sink mode 0600" || bad "sink mode"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["provider_calls"]<=5, d' "$T/out" \
    && ok "at most 5 provider calls" || bad "provider calls"

# the old value is dead, the new one verifies
run verify --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur"
expect 3 "the old value is dead"
run verify --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/k1.env" --secret-name APP_KEY
expect 0 "the new value verifies (read back from the dotenv sink)"

# the vault from the descriptor's environment fallback (FILEPROV_VAULT), overlap then finish
value >"$T/cur2" && chmod 600 "$T/cur2"
FILEPROV_VAULT=v1 run rotate --kind fileprov.key --id k1 --strategy overlap --grace 600 \
    --secret-file "$T/cur2" --out "$T/k2" --json --verify-delay-ms 10
expect 0 "rotate into an overlap (vault from \$FILEPROV_VAULT)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["overlap"] is True and "--finish" in d["finish"], d' "$T/out" \
    && ok "stopped in the overlap" || bad "no overlap"
FILEPROV_VAULT=v1 run verify --kind fileprov.key --id k1 --secret-file "$T/cur2"
expect 0 "the old value works during the overlap"
FILEPROV_VAULT=v1 run rotate --finish --kind fileprov.key --id k1 --strategy overlap --secret-file "$T/cur2" --verify-delay-ms 10
expect 0 "finish"
FILEPROV_VAULT=v1 run verify --kind fileprov.key --id k1 --secret-file "$T/cur2"
expect 3 "the old value is dead after finish"

# resume after a kill: the --exec sink kills the harness after the roll, before delivery completes
value >"$T/cur3" && chmod 600 "$T/cur3"
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur3" --out "$T/k3" \
    --exec 'cat >/dev/null; kill -9 $PPID; sleep 2' --journal "$T/j3" --verify-delay-ms 10
expect 137 "killed during delivery"
run resume --journal "$T/j3" --secret-file "$T/cur3" --out "$T/k3" --verify-delay-ms 10
expect 0 "resume rolls forward and delivers"
grep -qx "FILEPROV_KEY=$(value)" "$T/k3" && ok "after resume the sink holds the store's value" || bad "resume sink"
python3 -c '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert L[-1]["type"]=="end" and L[-1]["status"]=="completed", L[-1]' "$T/j3" && ok "the journal's run completed" || bad "journal end"

# issue 9.2: the journal and the audit trail are never followed through a symbolic link, are
# created 0600, and are refused when others can change them; a planted journal does not choose
# the sinks (its --exec is never run)
value >"$T/cur4" && chmod 600 "$T/cur4"
ln -s "$T/elsewhere" "$T/jlink"
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur4" --out "$T/k4" --journal "$T/jlink" --verify-delay-ms 10
expect 1 "a journal that is a symbolic link is refused"
[ ! -e "$T/elsewhere" ] && ok "nothing was written through the link" || bad "written through the link"
grep -q "symbolic link" "$T/err" && ok "the message says symbolic link" || bad "no symlink message"
grep -qx "$(cat "$T/cur4")" <(value) && ok "nothing changed: the journal's run record comes before the roll" || bad "the key changed"
ln -s "$T/elsewhere" "$T/alink"
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur4" --out "$T/k4" --audit "$T/alink" --verify-delay-ms 10
[ ! -e "$T/elsewhere" ] && ok "the audit trail is not written through a link" || bad "audit through a link"
value >"$T/cur4" && chmod 600 "$T/cur4"
touch "$T/jopen" && chmod 666 "$T/jopen"
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur4" --out "$T/k4" --journal "$T/jopen" --verify-delay-ms 10
expect 1 "a journal others can write is refused"
grep -q "can be written by others" "$T/err" && grep -q -- "--allow-unsafe-secret-files" "$T/err" && ok "the message names the cause and the overriding flag" || bad "unsafe journal message"
run rotate --kind fileprov.key --id k1 --param vault=v1 --secret-file "$T/cur4" --out "$T/k5" --journal "$T/j5" --verify-delay-ms 10
[ "$(stat -c %a "$T/j5")" = 600 ] && ok "a new journal is created 0600" || bad "journal mode"
# a planted journal: an unfinished run whose sink is an --exec of the attacker's choice
printf '%s\n' '{"run_id":"planted-1","type":"run","command":"rotate","kind":"fileprov.key","id":"k1","request":{"vault":"v1"},"host":{"exec":"touch '"$T"'/PWNED","secret_name":"X\"}"}}' >"$T/jplant"
chmod 666 "$T/jplant"
run resume --journal "$T/jplant" --verify-delay-ms 10
expect 2 "resume refuses the sinks of a journal others can write"
[ ! -e "$T/PWNED" ] && ok "the planted --exec was not run" || bad "the planted --exec ran"
chmod 600 "$T/jplant"
printf '%s\n' '{"run_id":"x\"y","type":"run","command":"rotate","kind":"fileprov.key","id":"k1"}' '{"run_id":"x\"y","type":"end","status":"co\"mpleted","code":0}' >"$T/jdone"
run resume --journal "$T/jdone" --json
expect 0 "resume of a finished run"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["last_run"]=="x\"y" and d["status"]=="co\"mpleted", d' "$T/out" \
    && ok "journal values are escaped in the JSON output" || bad "journal values not escaped"

# sandbox: provision from the descriptor (label=sandbox-{vault}), rotate, revoke, confirm gone
n_before=$(ls "$S/v1" | wc -l)
run sandbox --kind fileprov.key --param vault=v1 --json --verify-delay-ms 10
expect 0 "sandbox"
[ "$(ls "$S/v1" | wc -l)" = "$n_before" ] && ok "sandbox left nothing in the store" || bad "sandbox left keys"

# issue 13.6: errors name the option the user typed, not only the provider's key
run describe --kind fileprov.key --id k1 --vault 'bad/x'
expect 2 "a bad --vault is the provider's INVALID_ARGUMENT"
grep -q -- "vault is --vault" "$T/err" && ok "the error names --vault" || bad "the error does not name --vault"
run rotate --kind fileprov.key --id k1 --param vault=bad/x --out "$T/x" --secret-file "$T/cur"
grep -q -- "vault is --param vault=" "$T/out" && ok "the step names --param vault=" || bad "the step does not name --param"

# an unknown kind is an error; a secret key in --param is refused
run rotate --kind no.such --id k1 --param vault=v1 --out "$T/x"
expect 2 "an unknown kind is a usage error"
run verify --kind fileprov.key --id k1 --param vault=v1 --param value=abc --secret-file "$T/cur"
expect 2 "a secret request key in --param is refused"

# the example host: load, discover, rotate with its own delivery callback
if [ -n "$X" ]; then
    EXAMPLE_OUT=$T/ex.out "$X" "$P" fileprov.key k1 "store=$S" -- vault=v1 >"$T/out" 2>"$T/err"
    rc=$?
    expect 0 "example host rotates"
    grep -qx "$(value)" <(cat "$T/ex.out"; echo) && ok "example host delivered the store's value" || bad "example delivery"
fi

echo "fileprov: $fails failure(s)"
[ "$fails" = 0 ]
