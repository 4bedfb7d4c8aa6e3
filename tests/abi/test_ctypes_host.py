#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Python ctypes host for cloudflare.so: loads the module the way any host does and drives it
through abi/rotp.h alone.

1. Declares the ABI structures with ctypes and checks their layout against rotp.h's
   _Static_asserts; dlopens $ROTP_PLUGIN (RTLD_LOCAL), calls rotp_provider_entry_v1, checks the
   table (abi_major, struct_size, kinds) and strerror against rotp.h's ROTP_ERROR_TABLE.
2. Reads the ABI 1.1 self-description (ctypes structs for rotp_kind_info and friends, every
   array stepped by its own struct_size) after checking ROTP_HAS_FIELD, and checks it: config keys
   with their environment fallbacks, each kind's request and result keys, parts with their
   conventional names, companions, strategies, states, sandbox entries.
3. Opens an instance (offline config), runs describe without an id for each kind with requests
   built from the descriptors alone, reads the result array with the provider's stride, checks
   every result key is described, frees it through result_free, closes.
4. If cfemu is built ($CFEMU_BIN names an existing file), starts it on a free loopback port with
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
ROTP_ABI_MINOR = 1
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


# ABI 1.1: self-description
ROTP_OP_DESCRIBE, ROTP_OP_ROLL, ROTP_OP_VERIFY = 0x01, 0x02, 0x04
ROTP_OP_REVOKE, ROTP_OP_PROVISION, ROTP_OP_LIST = 0x08, 0x10, 0x20
OPS = [("describe", ROTP_OP_DESCRIBE), ("roll", ROTP_OP_ROLL), ("verify", ROTP_OP_VERIFY),
       ("revoke", ROTP_OP_REVOKE), ("provision", ROTP_OP_PROVISION), ("list", ROTP_OP_LIST)]
ROTP_KEY_SECRET = 0x1
ROTP_KEY_REQUIRED_CONFIG = 0x80000000
ROTP_ROLE_SCOPE, ROTP_ROLE_SECRET_PART, ROTP_ROLE_STATE = 2, 3, 10
ROTP_ROLE_MANAGEMENT = 19
ROTP_PART_SECRET, ROTP_PART_PRIMARY = 0x1, 0x2
ROTP_STATE_ACCEPTED, ROTP_STATE_GONE = 1, 5
FORMATS = {"text", "hex32", "uuid", "int", "bool", "rfc3339", "duration", "url", "path", "json",
           "token", "enum"}


class RotpKeyInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("key", c_char_p),
        ("format", c_char_p),
        ("summary", c_char_p),
        ("role", c_uint32),
        ("ops", c_uint32),
        ("required_ops", c_uint32),
        ("one_of", c_uint32),
        ("default_value", c_char_p),
        ("env", POINTER(c_char_p)),
        ("choices", POINTER(c_char_p)),
        ("min_value", ctypes.c_int64),
        ("max_value", ctypes.c_int64),
    ]


class RotpPartInfo(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32), ("key", c_char_p),
                ("env_name", c_char_p), ("summary", c_char_p)]


class RotpCompanionInfo(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved0", c_uint32), ("suffix", c_char_p),
                ("key", c_char_p)]


class RotpStrategyInfo(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32), ("name", c_char_p),
                ("summary", c_char_p), ("requires_key", c_char_p),
                ("default_overlap_seconds", c_uint64), ("max_overlap_seconds", c_uint64)]


class RotpStateInfo(Structure):
    _fields_ = [("struct_size", c_uint32), ("meaning", c_uint32), ("ops", c_uint32),
                ("reserved0", c_uint32), ("state", c_char_p), ("summary", c_char_p)]


class RotpKindInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("ops", c_uint32),
        ("kind", c_char_p),
        ("summary", c_char_p),
        ("management", c_char_p),
        ("nrequest_keys", c_uint32),
        ("nresult_keys", c_uint32),
        ("request_keys", c_void_p),
        ("result_keys", c_void_p),
        ("nparts", c_uint32),
        ("ncompanions", c_uint32),
        ("parts", c_void_p),
        ("companions", c_void_p),
        ("nstrategies", c_uint32),
        ("nstates", c_uint32),
        ("strategies", c_void_p),
        ("states", c_void_p),
        ("sandbox", POINTER(c_char_p)),
        ("cadence_days", c_uint32),
        ("reserved0", c_uint32),
    ]


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
        # ABI 1.1: read only when ROTP_HAS_FIELD says the table holds them
        ("nconfig_keys", c_uint32),
        ("reserved1", c_uint32),
        ("config_keys", c_void_p),
        ("kind_info", POINTER(c_void_p)),
    ]


def has_field(table, cls, field):
    """ROTP_HAS_FIELD: the table's struct_size reaches the end of field."""
    f = getattr(cls, field)
    return table.struct_size >= f.offset + f.size


def array(ptr, count, cls):
    """count elements of cls at ptr, stepped by the first element's struct_size (the stride)."""
    if not ptr or count == 0:
        return []
    stride = cls.from_address(ptr).struct_size
    check(stride >= sizeof(cls), "%s stride %d covers our struct" % (cls.__name__, stride))
    return [cls.from_address(ptr + i * stride) for i in range(count)]


def strings(ptr):
    """A NULL-terminated const char *const *, as a list of str."""
    out = []
    i = 0
    while ptr and ptr[i]:
        out.append(ptr[i].decode())
        i += 1
    return out


def kind_infos(p):
    """{kind: RotpKindInfo}, in the order of the table."""
    out = {}
    i = 0
    while p.kind_info[i]:
        ki = RotpKindInfo.from_address(p.kind_info[i])
        out[ki.kind.decode()] = ki
        i += 1
    return out


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
    check(RotpProvider.nconfig_keys.offset == 16 + 13 * PTR
          and RotpProvider.kind_info.offset == 24 + 14 * PTR, "rotp_provider 1.1 layout")
    check(RotpKeyInfo.key.offset == 8 and RotpKindInfo.kind.offset == 8
          and RotpPartInfo.key.offset == 8 and RotpCompanionInfo.suffix.offset == 8
          and RotpStrategyInfo.name.offset == 8 and RotpStateInfo.state.offset == 16,
          "1.1 descriptor layouts")


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
    infos = kind_infos(p) if has_field(p, RotpProvider, "kind_info") else {}
    for req, kind in describe_requests(infos):
        rc, items, err = host.op("describe", inst, req)
        what = "describe " + " ".join("%s=%s" % kv for kv in req)
        check(rc == ROTP_E_OK, "%s -> %d %s" % (what, rc, err.message.decode()))
        keys = [k for k, _, _ in items]
        check("operations" in keys, "%s: result has operations (%s)" % (what, ", ".join(keys)))
        check(all(f & ROTP_PARAM_SECRET == 0 for _, _, f in items), "%s: no secret" % what)
        described = {k.key.decode() for k in array(infos[kind].result_keys,
                                                   infos[kind].nresult_keys, RotpKeyInfo)
                     if k.ops & ROTP_OP_DESCRIBE}
        check(set(keys) <= described, "%s: every result key is described" % what)

    rc, _, err = host.op("describe", inst, [("kind", "cloudflare.user_token"), ("colour", "x")])
    check(rc == ROTP_E_INVALID_ARGUMENT and "colour" in err.message.decode(),
          "unknown request key is INVALID_ARGUMENT naming it")
    rc, _, err = host.op("describe", inst, [("kind", "cloudflare.nothing")])
    check(rc == ROTP_E_INVALID_ARGUMENT and "cloudflare.user_token" in err.message.decode(),
          "unknown kind is INVALID_ARGUMENT listing the kinds")
    p.close(inst)
    check(all(OFFLINE_TOKEN not in line for _, line in host.log_lines),
          "no log line holds the management token")


def descriptor_part(host):
    """Reads and checks the self-description, as a host that never read ABI.md would use it."""
    p = host.p
    if not check(has_field(p, RotpProvider, "kind_info") and p.abi_minor >= 1,
                 "ABI 1.1 table: ROTP_HAS_FIELD(kind_info), minor %d" % p.abi_minor):
        return
    cfg = {k.key.decode(): k for k in array(p.config_keys, p.nconfig_keys, RotpKeyInfo)}
    tok = cfg.get("api_token")
    check(tok is not None and tok.role == ROTP_ROLE_MANAGEMENT and tok.flags & ROTP_KEY_SECRET
          and tok.required_ops & ROTP_KEY_REQUIRED_CONFIG,
          "config api_token: the required, secret management credential")
    check(strings(tok.env) == ["CF_ACCESS_MGMT", "CLOUDFLARE_ACCESS_MGMT_TOKEN",
                               "CLOUDFLARE_API_TOKEN"], "api_token's environment fallbacks")
    check(cfg["timeout_ms"].default_value == b"30000" and cfg["timeout_ms"].min_value == 100,
          "timeout_ms: default and range")
    infos = kind_infos(p)
    kinds = strings(p.kinds)
    check(list(infos) == kinds, "kind_info follows kinds")
    for name, ki in infos.items():
        req = array(ki.request_keys, ki.nrequest_keys, RotpKeyInfo)
        res = array(ki.result_keys, ki.nresult_keys, RotpKeyInfo)
        parts = array(ki.parts, ki.nparts, RotpPartInfo)
        states = array(ki.states, ki.nstates, RotpStateInfo)
        strategies = array(ki.strategies, ki.nstrategies, RotpStrategyInfo)
        check(all(k.format.decode() in FORMATS for k in req + res), "%s: known formats" % name)
        check(sum(1 for x in parts if x.flags & ROTP_PART_PRIMARY) == 1,
              "%s: one primary secret part" % name)
        check(any(k.role == ROTP_ROLE_STATE for k in res), "%s: a result key plays STATE" % name)
        check(all(ROTP_STATE_ACCEPTED <= st.meaning <= ROTP_STATE_GONE for st in states),
              "%s: state meanings" % name)
        check(len(strategies) >= 1 and ki.cadence_days == 90, "%s: strategies, cadence" % name)
        check(all("=" in e for e in strings(ki.sandbox)), "%s: sandbox key=value" % name)
    ast = infos["cloudflare.access_service_token"]
    parts = {x.key.decode(): x for x in array(ast.parts, ast.nparts, RotpPartInfo)}
    check(parts["client_id"].env_name == b"CF_ACCESS_CLIENT_ID"
          and parts["client_secret"].env_name == b"CF_ACCESS_CLIENT_SECRET"
          and parts["client_secret"].flags & ROTP_PART_SECRET
          and not parts["client_id"].flags & ROTP_PART_SECRET,
          "service token: two parts with their conventional names")
    check([st.name.decode() for st in array(ast.strategies, ast.nstrategies, RotpStrategyInfo)]
          == ["rotate", "create-swap-delete"], "service token: its strategies")
    user = infos["cloudflare.user_token"]
    check({c.suffix.decode() for c in array(user.companions, user.ncompanions,
                                            RotpCompanionInfo)} ==
          {"EXPIRES_AT", "SCOPES", "TOKEN_ID"}, "user token: companions")


def sample_value(k):
    """A valid value for a scope key (what a host would take from its own config)."""
    return ZONE if k.key == b"zone_id" else ACCOUNT


def describe_requests(infos):
    """describe requests built from the descriptions alone: the kind plus the keys describe
    requires, one request per member of a one_of group."""
    out = []
    for name, ki in infos.items():
        req = [k for k in array(ki.request_keys, ki.nrequest_keys, RotpKeyInfo)
               if k.required_ops & ROTP_OP_DESCRIBE]
        plain = [k for k in req if not k.one_of]
        groups = {}
        for k in req:
            if k.one_of:
                groups.setdefault(k.one_of, []).append(k)
        choices = [[]]
        for members in groups.values():
            choices = [c + [m] for c in choices for m in members]
        for c in choices:
            out.append(([("kind", name)] + [(k.key.decode(), sample_value(k))
                                            for k in plain + c], name))
    check(len(out) == 4, "describe requests from the descriptors: %d" % len(out))
    return out


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
            # the key that takes the secret, found in the description, not hard-coded
            ki = kind_infos(host.p)["cloudflare.user_token"]
            secret_key = [k.key.decode() for k in array(ki.request_keys, ki.nrequest_keys,
                                                        RotpKeyInfo)
                          if k.ops & ROTP_OP_VERIFY and k.role == ROTP_ROLE_SECRET_PART
                          and k.flags & ROTP_KEY_SECRET][0]
            check(secret_key == "secret", "verify takes the value as %s" % secret_key)
            rc, items, err = host.op("verify", inst, [("kind", "cloudflare.user_token"),
                                                      (secret_key, token)],
                                     secret_keys=(secret_key,))
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
    descriptor_part(host)
    offline_part(host)
    cfemu_part(host)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
