#!/bin/bash
# SPDX-License-Identifier: MIT
# test_consumer.sh - tests/consumer, a project that uses rotp, built and run three ways:
#  1. FetchContent of this source tree as a subproject, with the static provider on: rotp adds
#     no test and no program to the consumer, every target it adds is prefixed rotp, nothing lands
#     in the consumer's CMAKE_BUILD_TYPE, no -Werror; the consumer links librotp_cloudflare.a,
#     whose only global symbol (nm) is rotp_cloudflare_provider_entry_v1, and dlopens the module;
#  2. find_package(rotp CONFIG) of this build installed with --prefix into a temporary tree
#     (the module, and the static provider when this build has it);
#  3. pkg-config's rotp.pc (and rotp-cloudflare.pc, static) from that same tree.
# Each consumer reads the provider's self-description and calls describe (no network).
# Env: ROTP_SOURCE_DIR, ROTP_BUILD_DIR, ROTP_CMAKE, ROTP_SANITIZE (1 in sanitizer builds).
set -u
set -o pipefail

fails=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}
: "${ROTP_SOURCE_DIR:?}" "${ROTP_BUILD_DIR:?}"
cmake=${ROTP_CMAKE:-cmake}
t=$(mktemp -d "${TMPDIR:-/tmp}/rotp-consumer.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
consumer_src="$ROTP_SOURCE_DIR/tests/consumer"
# A sanitized rotp can only be loaded into a sanitized program.
san=()
if [ "${ROTP_SANITIZE:-0}" = "1" ]; then
    san=("-DCMAKE_C_FLAGS=-fsanitize=address,undefined"
        "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
fi

# build NAME CMAKE-ARGS...: configure and build tests/consumer in $t/NAME; 0 or 1 (log shown)
build() {
    local name=$1
    shift
    if ! "$cmake" -S "$consumer_src" -B "$t/$name" "$@" >"$t/$name.log" 2>&1 ||
        ! "$cmake" --build "$t/$name" -j2 >>"$t/$name.log" 2>&1; then
        echo "FAIL: consumer ($name) does not build"
        tail -40 "$t/$name.log"
        return 1
    fi
}
# runs NAME PROGRAM LINKED: the program exits 0, says how it was linked, and describe answered
runs() {
    local out
    out=$("$t/$1/$2" 2>&1)
    local rc=$?
    echo "$out" | sed "s/^/    $1\/$2: /"
    check "$1: $2 exits 0 (got $rc)" test "$rc" -eq 0
    check "$1: $2 is linked $3" grep -q "linked $3" <<<"$out"
    check "$1: $2 got a describe answer" grep -q "^describe cloudflare.user_token: " <<<"$out"
}

# engine_runs NAME: when the tree has the engine (engine/), the consumer linked it and it runs
engine_runs() {
    [ -f "$ROTP_SOURCE_DIR/engine/rotp_engine.h" ] || return 0
    local out
    out=$("$t/$1/consumer_engine" 2>&1)
    local rc=$?
    echo "    $1/consumer_engine: $out"
    check "$1: consumer_engine (rotp::engine) exits 0 (got $rc)" test "$rc" -eq 0
}

# 1. Subproject --------------------------------------------------------------------------------
if build sub -DROTP_CONSUMER_MODE=subproject -DROTP_CONSUMER_SOURCE="$ROTP_SOURCE_DIR"; then
    cache="$t/sub/CMakeCache.txt"
    check "subproject: CMAKE_BUILD_TYPE left empty in the consumer's cache" \
        grep -qx "CMAKE_BUILD_TYPE:STRING=" "$cache"
    for opt in ROTP_BUILD_TESTS ROTP_BUILD_HARNESS ROTP_BUILD_CFEMU ROTP_WERROR; do
        check "subproject: $opt is OFF" grep -qx "$opt:BOOL=OFF" "$cache"
    done
    check "subproject: cmocka, libmicrohttpd and GnuTLS are not looked for" \
        bash -c "! grep -Eq '^(CMOCKA|MHD|GNUTLS)_' '$cache'"
    unprefixed=$(grep -E '^[A-Za-z_]+:(BOOL|STRING|PATH|FILEPATH)=' "$cache" |
        grep -Ev '^(CMAKE_|FETCHCONTENT_|ROTP_|CURL_|PKG_CONFIG_|pkgcfg_lib_)' | cut -d: -f1)
    check "subproject: every cache entry rotp adds is prefixed ROTP_ ($(echo $unprefixed))" \
        test -z "$unprefixed"
    check "subproject: rotp adds no test" grep -q "Total Tests: 0" \
        <(ctest --test-dir "$t/sub" -N 2>&1)
    check "subproject: no -Werror in rotp's flags" \
        bash -c "! grep -rq --include=flags.make -e -Werror '$t/sub/_deps'"
    targets=$("$cmake" --build "$t/sub" --target help 2>/dev/null | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p' |
        grep -Ev '^(all|clean|depend|edit_cache|rebuild_cache|install|install/local|install/strip|list_install_components|test)$' |
        grep -Ev '^(consumer_dlopen|consumer_static|consumer_engine|test_json|cfemu|cloudflare)$' | grep -v '\.[oisc]$')
    bad=$(grep -v '^rotp' <<<"$targets")
    check "subproject: every target rotp adds is prefixed rotp ($(echo $targets))" test -z "$bad"
    for unwanted in rotp-harness rotp_cfemu rotp_test_json rotp_core_test; do
        check "subproject: $unwanted is not a target" bash -c "! grep -qx '$unwanted' <<<'$targets'"
    done

    archive=$(find "$t/sub/_deps" -name librotp_cloudflare.a | head -n 1)
    check "subproject: librotp_cloudflare.a is built" test -n "$archive"
    if [ -n "$archive" ]; then
        globals=$(nm -g --defined-only "$archive" | awk 'NF >= 3 { print $3 }' | sort -u)
        echo "    global symbols of the archive: $(echo $globals)"
        check "subproject: the archive's only global symbol is rotp_cloudflare_provider_entry_v1" \
            test "$globals" = "rotp_cloudflare_provider_entry_v1"
        check "subproject: the archive has no rotp_provider_entry_v1 (it would clash)" \
            bash -c "! nm '$archive' | grep -qw rotp_provider_entry_v1"
    fi
    runs sub consumer_static statically
    runs sub consumer_dlopen "by dlopen"
    engine_runs sub
else
    fails=$((fails + 1))
fi

# 2. Installed package: find_package ----------------------------------------------------------
prefix="$t/prefix"
if ! "$cmake" --install "$ROTP_BUILD_DIR" --prefix "$prefix" >"$t/install.log" 2>&1; then
    echo "FAIL: cmake --install"
    cat "$t/install.log"
    exit 1
fi
# This build's static provider (ROTP_BUILD_STATIC_PROVIDER, on by default here) is tried too.
static_installed=$(find "$prefix" -name librotp_cloudflare.a | head -n 1)
echo "installed static provider: ${static_installed:-none}"
if build pkg -DROTP_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix" "${san[@]}"; then
    check "package: the consumer loads the installed module" \
        grep -rq "$prefix/lib[^\"]*/rotp/cloudflare.so" "$t/pkg/CMakeFiles/consumer_dlopen.dir/flags.make"
    runs pkg consumer_dlopen "by dlopen"
    engine_runs pkg
    engine_archive=$(find "$prefix" -name librotp_engine.a | head -n 1)
    if [ -f "$ROTP_SOURCE_DIR/engine/rotp_engine.h" ]; then
        check "package: librotp_engine.a is installed" test -n "$engine_archive"
    fi
    if [ -n "$engine_archive" ]; then
        others=$(nm -g --defined-only "$engine_archive" | awk 'NF >= 3 { print $3 }' |
            grep -v '^rotp_engine_' | sort -u)
        check "package: librotp_engine.a defines only rotp_engine_* globals ($(echo $others))" \
            test -z "$others"
    fi
    if [ -n "$static_installed" ]; then
        runs pkg consumer_static statically
    fi
else
    fails=$((fails + 1))
fi

# 3. Installed package: pkg-config ------------------------------------------------------------
pcdir=$(dirname "$(find "$prefix" -name rotp.pc | head -n 1)")
if PKG_CONFIG_PATH="$pcdir" build pc -DROTP_CONSUMER_MODE=pkgconfig "${san[@]}"; then
    runs pc consumer_dlopen "by dlopen"
    engine_runs pc
    if [ -n "$static_installed" ]; then
        runs pc consumer_static statically
    fi
else
    fails=$((fails + 1))
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
