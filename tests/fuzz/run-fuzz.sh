#!/usr/bin/env bash
# run-fuzz.sh - fuzzes the provider's parsers with libFuzzer for a bounded time, then merges what
# it found into the committed corpus (tests/fuzz/corpus), keeping it minimal. Needs clang
# (Debian: apt-get install clang) and libcurl's headers; not part of CI, which replays the corpus
# (CTest fuzz.replay_corpus) under ASan and UBSan.
#
#   tests/fuzz/run-fuzz.sh [SECONDS]      default 120; run from anywhere
#
# A crash leaves crash-<sha1> in build-fuzz/: add it to the corpus with the fix, so the replay
# keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-120}
out=build-fuzz
mkdir -p "$out/new"
cc=${CC:-clang}
# shellcheck disable=SC2046
"$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DROTP_ALLOC_HOOK=1 -Iabi -Iplugin -Iadapters \
  tests/fuzz/fuzz_parsers.c plugin/*.c adapters/*.c $(pkg-config --cflags --libs libcurl) \
  -o "$out/fuzz_parsers"
"$out/fuzz_parsers" -max_total_time="$secs" -max_len=4096 -timeout=10 \
  -artifact_prefix="$out/" "$out/new" tests/fuzz/corpus
# keep only inputs that add coverage
mkdir -p "$out/merged"
"$out/fuzz_parsers" -merge=1 "$out/merged" tests/fuzz/corpus "$out/new"
rm -rf tests/fuzz/corpus.old
mv tests/fuzz/corpus tests/fuzz/corpus.old
mv "$out/merged" tests/fuzz/corpus
rm -rf tests/fuzz/corpus.old "$out/new"
echo "corpus: $(find tests/fuzz/corpus -type f | wc -l) inputs"
