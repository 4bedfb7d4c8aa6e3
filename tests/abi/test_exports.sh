#!/bin/bash
# SPDX-License-Identifier: MIT
# test_exports.sh - cloudflare.so exports exactly one symbol, rotp_provider_entry_v1, and is
# linked with immediate binding (BIND_NOW / FLAGS NOW) and a read-only relocation segment
# (GNU_RELRO). Env: ROTP_PLUGIN = path of the built module.
set -u

plugin="${ROTP_PLUGIN:-}"
fail=0

if [ -z "$plugin" ] || [ ! -f "$plugin" ]; then
    echo "FAIL: ROTP_PLUGIN is unset or not a file: '${plugin}'"
    exit 1
fi
for tool in nm readelf; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool not found (binutils)"
        exit 1
    fi
done

# Defined dynamic symbols, names only (strip symbol versions such as @@ROTP_1). The version
# script also defines its version node (ROTP_1) as an absolute symbol of value 0: that one, and
# only a node that readelf lists in .gnu.version_d, is not an export.
vernodes=$(readelf -V "$plugin" | sed -n '/\.gnu\.version_d/,/\.gnu\.version_r/p' |
    sed -n 's/.*Flags: none .*Name: \([^ ]*\).*/\1/p')
syms=$(nm -D --defined-only "$plugin" | awk -v nodes=" $(echo $vernodes) " '
    NF >= 3 { if ($2 == "A" && index(nodes, " " $3 " ") > 0) next; print $3 }' |
    sed 's/@.*//' | sort -u)
count=$(printf '%s\n' "$syms" | grep -c .)
if [ "$count" -ne 1 ] || [ "$syms" != "rotp_provider_entry_v1" ]; then
    echo "FAIL: expected exactly one exported symbol rotp_provider_entry_v1, got $count:"
    printf '  %s\n' $syms
    fail=1
else
    echo "ok: one exported symbol: $syms"
fi

# The entry point must be a function (type T) in the text section.
if ! nm -D --defined-only "$plugin" | grep -Eq ' T rotp_provider_entry_v1(@|$)'; then
    echo "FAIL: rotp_provider_entry_v1 is not an exported function"
    fail=1
fi

dyn=$(readelf -d "$plugin")
if printf '%s\n' "$dyn" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*[[:space:]]NOW'; then
    echo "ok: immediate binding (-z now)"
else
    echo "FAIL: no BIND_NOW / FLAGS NOW in the dynamic section (-Wl,-z,now missing)"
    fail=1
fi

if readelf -lW "$plugin" | grep -q 'GNU_RELRO'; then
    echo "ok: GNU_RELRO segment (-z relro)"
else
    echo "FAIL: no GNU_RELRO program header (-Wl,-z,relro missing)"
    fail=1
fi

# No undefined symbol may be left to the host (linked with --no-undefined): everything the
# module needs comes from its own DT_NEEDED libraries. A text relocation would break RELRO.
if printf '%s\n' "$dyn" | grep -q 'TEXTREL'; then
    echo "FAIL: text relocations present"
    fail=1
fi

exit $fail
