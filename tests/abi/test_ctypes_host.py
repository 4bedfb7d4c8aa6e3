#!/usr/bin/python3
"""A Python ctypes host for cloudflare.so: loads the module the way any host does and drives it
through abi/rotp.h alone.

1. Declares the ABI structures with ctypes and checks their layout against rotp.h's
   _Static_asserts; dlopens $ROTP_PLUGIN (RTLD_LOCAL), calls rotp_provider_entry_v1, checks the
   table (abi_major, struct_size, kinds) and strerror against rotp.h's ROTP_ERROR_TABLE.
2. Opens an instance (offline config), runs describe without an id for each kind, reads the
   result array with the provider's stride, frees it through result_free, closes.
3. If cfemu is built ($CFEMU_BIN names an existing file), starts it on a free loopback port with
   its generated CA, and verifies the management token through the ABI over TLS: state=active.
   Only a missing cfemu binary skips this part (with a message); any failure of a built cfemu
   fails the test.

Env: ROTP_PLUGIN (required), CFEMU_BIN (optional), ROTP_SOURCE_DIR (for rotp.h). Exit 0 on
success, 1 on failure. Secret values are never printed.
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int32, c_uint32,
                    c_uint64, c_void_p, sizeof)

# ---------------------------------------------------------------------------------------------
# The ABI, declared from abi/rotp.h

ROTP_ABI_MAJOR = 1
ROTP_ABI_MINOR = 0
ROTP_ERROR_MESSAGE_MAX = 512
ROTP_PARAM_SECRET = 0x1
ROTP_LOG_DEBUG = 4
ROTP_E_OK = 0
ROTP_E_INVALID_ARGUMENT = 1


class RotpError(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("code", c_int32),
        ("http_status", c_int32),
        ("api_code", c_int32),
        ("retryable", c_uint32),
        ("flags", c_uint32),
        ("retry_after_ms", c_uint64),
        ("message", c_char * ROTP_ERROR_MESSAGE_MAX),
    ]


class RotpParam(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("key", c_char_p),
        ("value", c_void_p),  # not NUL-terminated when written by a host: value_len counts
        ("value_len", c_uint64),
    ]


class RotpParams(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("count", c_uint32),
        ("items", c_void_p),  # count elements, items[0].struct_size bytes apart
    ]


class RotpResult(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("count", c_uint32),
        ("items", c_void_p),
        ("provider_data", c_void_p),
    ]


LOG_FN = CFUNCTYPE(None, c_void_p, c_int32, c_void_p, c_uint64)


class RotpHost(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("log_level", c_int32),
        ("log", LOG_FN),
        ("log_user", c_void_p),
    ]


OP_FN = CFUNCTYPE(c_int32, c_void_p, POINTER(RotpParams), POINTER(RotpResult), POINTER(RotpError))
OPEN_FN = CFUNCTYPE(c_int32, POINTER(RotpHost), POINTER(RotpParams), POINTER(c_void_p),
                    POINTER(RotpError))
CLOSE_FN = CFUNCTYPE(None, c_void_p)
RESULT_FREE_FN = CFUNCTYPE(None, POINTER(RotpResult))
STRERROR_FN = CFUNCTYPE(c_char_p, c_int32)


class RotpProvider(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_major", c_uint32),
        ("abi_minor", c_uint32),
        ("reserved0", c_uint32),
        ("name", c_char_p),
        ("version", c_char_p),
        ("kinds", POINTER(c_char_p)),
        ("open", OPEN_FN),
        ("close", CLOSE_FN),
        ("describe", OP_FN),
        ("roll", OP_FN),
        ("verify", OP_FN),
        ("revoke", OP_FN),
        ("provision", OP_FN),
        ("list", OP_FN),
        ("result_free", RESULT_FREE_FN),
        ("strerror", STRERROR_FN),
    ]


PTR = sizeof(c_void_p)

# ---------------------------------------------------------------------------------------------

failures = []


def check(cond, what):
    if cond:
        print("ok: " + what)
    else:
        print("FAIL: " + what)
        failures.append(what)
    return cond


def check_layout():
    # The same numbers as rotp.h's _Static_asserts.
    check(RotpError.retry_after_ms.offset == 24 and RotpError.message.offset == 32
          and sizeof(RotpError) == 32 + ROTP_ERROR_MESSAGE_MAX, "rotp_error layout")
    check(RotpParam.key.offset == 8 and RotpParam.value_len.offset == 8 + 2 * PTR,
          "rotp_param layout")
    check(RotpParams.items.offset == 8 and RotpResult.items.offset == 8, "params/result layout")
    check(RotpHost.log.offset == 8, "rotp_host layout")
    check(RotpProvider.name.offset == 16 and RotpProvider.open.offset == 16 + 3 * PTR
          and RotpProvider.strerror.offset == 16 + 12 * PTR, "rotp_provider layout")


def error_table():
    """ROTP_ERROR_TABLE parsed from abi/rotp.h: {code: message}."""
    src = os.environ.get("ROTP_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(src, "abi", "rotp.h"), encoding="utf-8") as f:
        text = f.read()
    return {int(n): m for n, m in re.findall(r'X\((\d+),\s*[A-Z_]+,\s*"([^"]*)"\)', text)}


class Params:
    """A borrowed rotp_params over Python-owned buffers (kept alive by this object)."""

    def __init__(self, items, secret_keys=()):
        self._keep = []
        arr = (RotpParam * max(1, len(items)))()
        for i, (k, v) in enumerate(items):
            kb = k.encode()
            vb = v.encode() if isinstance(v, str) else v
            vbuf = ctypes.create_string_buffer(vb, len(vb))  # no NUL needed: value_len counts
            self._keep += [kb, vbuf]
            arr[i].struct_size = sizeof(RotpParam)
            arr[i].flags = ROTP_PARAM_SECRET if k in secret_keys else 0
            arr[i].key = kb
            arr[i].value = ctypes.cast(vbuf, c_void_p)
            arr[i].value_len = len(vb)
        self._arr = arr
        self.params = RotpParams(sizeof(RotpParams), len(items), ctypes.cast(arr, c_void_p))

    def wipe(self):
        for b in self._keep:
            if isinstance(b, ctypes.Array):
                ctypes.memset(b, 0, len(b))


def read_result(res):
    """The result's items as [(key, value, flags)], read with the provider's stride."""
    out = []
    if res.count == 0:
        check(not res.items, "empty result has items == NULL")
        return out
    first = RotpParam.from_address(res.items)
    stride = first.struct_size
    check(stride >= sizeof(RotpParam), "result stride >= sizeof(rotp_param)")
    for i in range(res.count):
        p = RotpParam.from_address(res.items + i * stride)
        value = ctypes.string_at(p.value, p.value_len) if p.value_len else b""
        # provider-written values are NUL-terminated
        check(ctypes.string_at(p.value + p.value_len, 1) == b"\0",
              "value of %s is NUL-terminated" % p.key.decode())
        out.append((p.key.decode(), value.decode(), p.flags))
    return out


class Host:
    def __init__(self, path):
        # RTLD_LOCAL: the module's symbols stay private, as in any host.
        self.lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        self.log_lines = []
        self._log_cb = LOG_FN(self._on_log)
        self.host = RotpHost(sizeof(RotpHost), ROTP_LOG_DEBUG, self._log_cb, None)
        entry = self.lib.rotp_provider_entry_v1
        entry.restype = POINTER(RotpProvider)
        entry.argtypes = [c_uint32, POINTER(RotpHost), POINTER(RotpError)]
        self.entry = entry
        err = self.new_error()
        p = entry(ROTP_ABI_MINOR, ctypes.byref(self.host), ctypes.byref(err))
        if not p:
            raise RuntimeError("entry failed: %s" % err.message.decode())
        self.p = p.contents

    def _on_log(self, user, level, message, length):
        self.log_lines.append((level, ctypes.string_at(message, length).decode("utf-8", "replace")))

    @staticmethod
    def new_error():
        err = RotpError()
        err.struct_size = sizeof(RotpError)
        return err

    def open(self, config):
        cfg = Params(config, secret_keys=("api_token",))
        inst = c_void_p()
        err = self.new_error()
        rc = self.p.open(ctypes.byref(self.host), ctypes.byref(cfg.params), ctypes.byref(inst),
                         ctypes.byref(err))
        cfg.wipe()
        return rc, inst, err

    def op(self, name, inst, request, secret_keys=()):
        req = Params(request, secret_keys=secret_keys)
        res = RotpResult()
        res.struct_size = sizeof(RotpResult)
        err = self.new_error()
        rc = getattr(self.p, name)(inst, ctypes.byref(req.params), ctypes.byref(res),
                                   ctypes.byref(err))
        req.wipe()
        check(err.code == rc, "%s: err.code matches the return value" % name)
        items = read_result(res) if rc == ROTP_E_OK else []
        if rc != ROTP_E_OK:
            check(res.count == 0 and not res.items, "%s failure leaves the result empty" % name)
        self.p.result_free(ctypes.byref(res))
        check(res.count == 0 and not res.items, "%s: result_free resets the result" % name)
        self.p.result_free(ctypes.byref(res))  # freeing a reset result is harmless
        return rc, items, err


# ---------------------------------------------------------------------------------------------

ACCOUNT = "01a7362d577a6c3019a474fd6f485823"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
OFFLINE_TOKEN = "ctypesHostToken_0123456789abcdefghijABCDEFGHIJ-xyz"


def offline_part(host):
    p = host.p
    check(p.abi_major == ROTP_ABI_MAJOR, "abi_major == 1")
    check(p.struct_size >= sizeof(RotpProvider), "provider table struct_size covers ABI 1.0")
    check(p.name == b"cloudflare", "provider name")
    kinds = []
    i = 0
    while p.kinds[i]:
        kinds.append(p.kinds[i].decode())
        i += 1
    check(kinds == ["cloudflare.user_token", "cloudflare.account_token",
                    "cloudflare.access_service_token"], "kinds: %s" % ", ".join(kinds))

    table = error_table()
    check(len(table) >= 15, "rotp.h error table parsed (%d codes)" % len(table))
    check(all(p.strerror(c).decode() == m for c, m in table.items()),
          "strerror matches ROTP_ERROR_TABLE for every code")
    check(bool(p.strerror(12345)), "strerror of an unknown code is a text")

    # a newer host minor gets the same table
    err = host.new_error()
    newer = host.entry(9, ctypes.byref(host.host), ctypes.byref(err))
    check(bool(newer) and newer.contents.abi_major == 1 and err.code == 0, "host minor 9 accepted")

    rc, inst, err = host.open([("api_token", OFFLINE_TOKEN),
                               ("api_base", "https://127.0.0.1:9/client/v4"),
                               ("max_retries", "0")])
    if not check(rc == ROTP_E_OK and inst, "open (offline config): %s" % err.message.decode()):
        return
    cases = [
        [("kind", "cloudflare.user_token")],
        [("kind", "cloudflare.account_token"), ("account_id", ACCOUNT)],
        [("kind", "cloudflare.access_service_token"), ("account_id", ACCOUNT)],
        [("kind", "cloudflare.access_service_token"), ("zone_id", ZONE)],
    ]
    for req in cases:
        rc, items, err = host.op("describe", inst, req)
        what = "describe " + " ".join("%s=%s" % kv for kv in req)
        check(rc == ROTP_E_OK, "%s -> %d %s" % (what, rc, err.message.decode()))
        keys = [k for k, _, _ in items]
        check("operations" in keys, "%s: result has operations (%s)" % (what, ", ".join(keys)))
        check(all(f & ROTP_PARAM_SECRET == 0 for _, _, f in items), "%s: no secret" % what)

    rc, _, err = host.op("describe", inst, [("kind", "cloudflare.user_token"), ("colour", "x")])
    check(rc == ROTP_E_INVALID_ARGUMENT and "colour" in err.message.decode(),
          "unknown request key is INVALID_ARGUMENT naming it")
    rc, _, err = host.op("describe", inst, [("kind", "cloudflare.nothing")])
    check(rc == ROTP_E_INVALID_ARGUMENT and "cloudflare.user_token" in err.message.decode(),
          "unknown kind is INVALID_ARGUMENT listing the kinds")
    p.close(inst)
    check(all(OFFLINE_TOKEN not in line for _, line in host.log_lines),
          "no log line holds the management token")


def read_dotenv(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip().strip('"')
    return values


def cfemu_part(host):
    cfemu = os.environ.get("CFEMU_BIN", "")
    if not cfemu or not os.path.isfile(cfemu) or not os.access(cfemu, os.X_OK):
        print("SKIP: cfemu is not built (CFEMU_BIN=%r): the live verify through the ABI did not "
              "run" % cfemu)
        return
    with tempfile.TemporaryDirectory(prefix="rotp-ctypes-") as tmp:
        port_file = os.path.join(tmp, "port")
        ca = os.path.join(tmp, "ca.pem")
        creds = os.path.join(tmp, "creds.env")
        log = open(os.path.join(tmp, "cfemu.log"), "wb")
        proc = subprocess.Popen([cfemu, "--listen", "127.0.0.1:0", "--port-file", port_file,
                                 "--ca-out", ca, "--creds-out", creds],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        try:
            port = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with open(port_file, encoding="ascii") as f:
                        text = f.read().strip()
                    if text.isdigit() and os.path.exists(creds) and os.path.exists(ca):
                        port = int(text)
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.05)
            if not check(port is not None, "cfemu started and wrote its port"):
                log.flush()
                with open(os.path.join(tmp, "cfemu.log"), "rb") as f:
                    print(f.read().decode("utf-8", "replace")[-2000:])
                return
            env = read_dotenv(creds)
            while "CFEMU_TOKEN_MGMT_VALUE" not in env and time.monotonic() < deadline:
                time.sleep(0.05)  # the file may still be being written
                env = read_dotenv(creds)
            token = env.get("CFEMU_TOKEN_MGMT_VALUE", "")
            if not check(bool(token), "creds file has CFEMU_TOKEN_MGMT_VALUE"):
                return
            rc, inst, err = host.open([("api_token", token),
                                       ("api_base", "https://127.0.0.1:%d/client/v4" % port),
                                       ("ca_file", ca)])
            if not check(rc == ROTP_E_OK and inst, "open against cfemu: %s" % err.message.decode()):
                return
            rc, items, err = host.op("verify", inst, [("kind", "cloudflare.user_token"),
                                                      ("secret", token)],
                                     secret_keys=("secret",))
            result = {k: v for k, v, _ in items}
            check(rc == ROTP_E_OK, "verify MGMT over TLS -> %d %s" % (rc, err.message.decode()))
            check(result.get("state") == "active", "verify: state=%s" % result.get("state"))
            mgmt_id = env.get("CFEMU_TOKEN_MGMT_ID")
            if mgmt_id and "id" in result:
                check(result["id"] == mgmt_id, "verify: id is the MGMT token's id")
            check(all(token not in v for _, v, _ in items), "verify result does not echo the value")

            # A dead value is an answer, not an error.
            rc, items, err = host.op("verify", inst, [("kind", "cloudflare.user_token"),
                                                      ("secret", "x" * 40 + "dead")],
                                     secret_keys=("secret",))
            result = {k: v for k, v, _ in items}
            check(rc == ROTP_E_OK and result.get("state") == "invalid",
                  "verify of an unknown value: rc=%d state=%s" % (rc, result.get("state")))
            host.p.close(inst)
            check(all(token not in line for _, line in host.log_lines),
                  "no log line holds the MGMT token")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()


def main():
    path = os.environ.get("ROTP_PLUGIN")
    if not path or not os.path.isfile(path):
        print("FAIL: ROTP_PLUGIN is unset or not a file: %r" % path)
        return 1
    check_layout()
    host = Host(path)
    offline_part(host)
    cfemu_part(host)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
