#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file of the project carries an SPDX licence identifier near its top (issue 13:
# "SPDX headers in every source"), and it names the licence in LICENSE (MIT). Data (JSON, the fuzz
# corpus, cfemu's permission catalog) and Markdown are not sources.
set -euo pipefail
src=${ROTP_SOURCE_DIR:?}
cd "$src"
grep -q '^MIT License' LICENSE || { echo "FAIL: LICENSE is not the MIT licence"; exit 1; }
missing=0
checked=0
while IFS= read -r -d '' f; do
    checked=$((checked + 1))
    if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
        echo "FAIL: no SPDX-License-Identifier: MIT in the first lines of $f"
        missing=$((missing + 1))
    fi
done < <(find abi plugin adapters engine harness tests cmake docs .ci CMakeLists.txt \
    \( -path tests/fuzz/corpus -o -path harness/cfemu/data -o -name node_modules \) -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' -o -name '*.mjs' \
    -o -name '*.cmake' -o -name '*.in' -o -name '*.map' -o -name '*.1' -o -name CMakeLists.txt \
    -o -name run -o -name deps \) -print0)
[ "$checked" -gt 100 ] || { echo "FAIL: only $checked files found under $src"; exit 1; }
if [ "$missing" -ne 0 ]; then
    echo "FAIL: $missing of $checked source files lack the SPDX identifier"
    exit 1
fi
echo "PASS: $checked source files carry SPDX-License-Identifier: MIT"
