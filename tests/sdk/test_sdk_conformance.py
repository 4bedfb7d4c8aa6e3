#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cfemu driven by a client we did not write: Cloudflare's official TypeScript SDK.

1. Installs the SDK pinned in tests/sdk/package.json + package-lock.json with `npm ci` into
   ROTP_SDK_WORKDIR (in the build tree), once: a stamp (the lock's hash and Node's major version)
   makes a re-run skip the install.
2. Starts cfemu (HTTPS with the CA it generates, the built-in seed) and runs sdk_conformance.mjs
   with NODE_EXTRA_CA_CERTS=<cfemu's CA>, so the SDK verifies TLS for real.
3. Checks cfemu's counters: the SDK reached the routes it was meant to (the rolls among them),
   and cfemu exits 0 on SIGTERM.

Node >= 18 and npm are needed. Outside CI a machine without them (or where `npm ci` cannot reach
the registry) skips the test (exit 77, which CTest reports as skipped) with the reason; with
CI=true set every such setup failure FAILS the test.

Environment: CFEMU_BIN, ROTP_SDK_WORKDIR, ROTP_PERM_GROUPS_JSON (set by tests/sdk/CMakeLists.txt).
"""

import hashlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def setup_failed(reason):
    """A setup failure: fatal in CI, a skip with the reason elsewhere."""
    if IN_CI:
        print("test_sdk_conformance: FAILED (CI=%s): %s" % (os.environ.get("CI"), reason))
        sys.exit(1)
    print("test_sdk_conformance: SKIPPED: %s (with CI=true this fails)" % reason)
    sys.exit(SKIP)


def node_ready():
    """(node, npm) paths, or a setup failure."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        setup_failed("node and npm are needed (Debian: apt-get install nodejs npm; "
                     ".ci/deps installs them)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    version = out.stdout.strip().lstrip("v")
    major = int(version.split(".")[0]) if version[:1].isdigit() else 0
    if major < 18:
        setup_failed("Node %s is too old: the SDK needs Node 18 or newer" % (version or "?"))
    return node, npm, major


def install(npm, major, workdir):
    """npm ci into workdir unless the stamp says this lock is installed already."""
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(HERE, "package-lock.json"), "rb") as f:
        stamp = "%s node%d\n" % (hashlib.sha256(f.read()).hexdigest(), major)
    stamp_file = os.path.join(workdir, ".installed")
    sdk = os.path.join(workdir, "node_modules", "cloudflare", "package.json")
    if os.path.isfile(sdk) and os.path.isfile(stamp_file):
        with open(stamp_file, encoding="ascii") as f:
            if f.read() == stamp:
                print("sdk: installed already (%s)" % workdir)
                return
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(workdir, name))
    if os.path.exists(stamp_file):
        os.unlink(stamp_file)
    print("sdk: npm ci in %s" % workdir)
    start = time.monotonic()
    env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false",
               npm_config_audit="false")
    try:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
                           check=False)
    except subprocess.TimeoutExpired:
        setup_failed("npm ci took more than 600 s")
    if r.returncode != 0:
        print(r.stdout[-3000:] + r.stderr[-3000:])
        setup_failed("npm ci failed (exit %d): no registry access?" % r.returncode)
    with open(stamp_file, "w", encoding="ascii") as f:
        f.write(stamp)
    print("sdk: installed in %.1f s" % (time.monotonic() - start))


class Cfemu:
    """cfemu on a free port, HTTPS with its generated CA, the built-in seed."""

    def __init__(self, binary, tmp):
        self.port_file = os.path.join(tmp, "port")
        self.ca = os.path.join(tmp, "ca.pem")
        self.creds = os.path.join(tmp, "creds.env")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--port-file",
                                      self.port_file, "--ca-out", self.ca, "--creds-out",
                                      self.creds])
        deadline = time.monotonic() + 20
        while not os.path.isfile(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("cfemu did not start")
            time.sleep(0.05)
        with open(self.port_file, encoding="ascii") as f:
            self.origin = "https://127.0.0.1:%s" % f.read().strip()
        self.tls = ssl.create_default_context(cafile=self.ca)

    def control(self, method, path):
        req = urllib.request.Request(self.origin + path, method=method)
        with urllib.request.urlopen(req, context=self.tls, timeout=20) as r:
            return json.loads(r.read())["result"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def routes_reached(stats):
    """Failures: routes the SDK run must have reached, by cfemu's own counters."""
    want = {
        "PUT /user/tokens/{token_id}/value": 2,
        "PUT /accounts/{account_id}/tokens/{token_id}/value": 1,
        "GET /user/tokens/verify": 3,
        "GET /accounts/{account_id}/tokens/verify": 3,
        "GET /user/tokens/permission_groups": 3,
        "GET /accounts/{account_id}/tokens/permission_groups": 1,
        "POST /accounts/{account_id}/access/service_tokens": 1,
        "POST /accounts/{account_id}/access/service_tokens/{service_token_id}/rotate": 2,
        "DELETE /accounts/{account_id}/access/service_tokens/{service_token_id}": 1,
    }
    got = stats.get("by_route", {})
    bad = []
    for route, n in want.items():
        have = got.get(route, {}).get("requests", 0)
        if have < n:
            bad.append("%s: %d requests, want at least %d" % (route, have, n))
    if stats.get("unknown_routes", 0) != 0:
        bad.append("%d requests to unknown routes" % stats["unknown_routes"])
    return bad


def main():
    node, npm, major = node_ready()
    workdir = os.environ.get("ROTP_SDK_WORKDIR") or os.path.join(HERE, "..", "..", "build",
                                                                  "sdk-node")
    binary = os.environ.get("CFEMU_BIN")
    groups = os.environ.get("ROTP_PERM_GROUPS_JSON")
    if not binary or not os.access(binary, os.X_OK) or not groups:
        print("test_sdk_conformance: CFEMU_BIN and ROTP_PERM_GROUPS_JSON must be set")
        return 1
    install(npm, major, workdir)
    script = os.path.join(workdir, "sdk_conformance.mjs")
    shutil.copyfile(os.path.join(HERE, "sdk_conformance.mjs"), script)
    failures = []
    with tempfile.TemporaryDirectory(prefix="cfemu-sdk-") as tmp:
        emu = Cfemu(binary, tmp)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
            env.update(NODE_EXTRA_CA_CERTS=emu.ca, CFEMU_ORIGIN=emu.origin,
                       CFEMU_CREDS=emu.creds, ROTP_PERM_GROUPS_JSON=groups)
            start = time.monotonic()
            r = subprocess.run([node, script], cwd=workdir, env=env, timeout=120, check=False)
            print("sdk: the SDK run took %.1f s" % (time.monotonic() - start))
            if r.returncode != 0:
                failures.append("the SDK checks failed (exit %d)" % r.returncode)
            stats = emu.control("GET", "/__cfemu/stats")
            print("sdk: cfemu saw %d requests on %d connections (TLS handshakes: %s)"
                  % (stats["requests"], stats["connections"], stats["tls_handshakes"]))
            failures += routes_reached(stats)
        finally:
            rc = emu.stop()
        if rc != 0:
            failures.append("cfemu exited with %s after SIGTERM, want 0" % rc)
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
