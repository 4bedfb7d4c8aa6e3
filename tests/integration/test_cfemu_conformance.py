#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Conformance of cfemu to Cloudflare's API contract (../shared/cloudflare/openapi-excerpt.json).

Starts cfemu itself (HTTPS with the CA it generates, the built-in seed), drives every endpoint
cfemu implements under /client/v4, success and failure, and validates every JSON response:

* 2xx against the path's 200/201 response schema, failures against its 4XX schema, in the
  verbatim 2024-08 spec when it has the path;
* against the 2026-07 operation in `x-newer-spec-fragments` too when the fragments have the path
  (account-owned tokens exist only there), with the fragment's components taking precedence and
  its unresolved references mapped to their 2024-08 equivalents (ALIASES below);
* Access service-token results additionally against a closed object made of the 2026-07
  `access_service-tokens` fields plus `client_secret_version` and
  `previous_client_secret_expires_at`, so a field outside the newer spec fails, and a
  `client_secret` outside create/rotate (and a rotating PUT) fails.

Run with Debian's /usr/bin/python3 (python3-jsonschema). Needs CFEMU_BIN and the spec:
ROTP_CONFORMANCE_SPEC, else ${ROTP_SOURCE_DIR}/../shared/cloudflare/openapi-excerpt.json when
present, else the committed copy tests/data/cloudflare/openapi-excerpt.json.
Prints "conformance: N responses validated, M failed" and exits non-zero on any failure.
Where cfemu follows observed Cloudflare behaviour against the spec (known_deviation(): the 429
code 971), the mismatch is printed and tolerated; ROTP_CONFORMANCE_STRICT=1 makes it fail.
"""

import copy
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

try:
    import jsonschema
    from jsonschema import Draft4Validator, FormatChecker, RefResolver
except ImportError:  # pragma: no cover - a clear message instead of a trace
    sys.exit("test_cfemu_conformance: python3-jsonschema is missing; run with /usr/bin/python3")

API = "/client/v4"

# 2026-07 references that the fragments do not define, mapped to the 2024-08 component with the
# same meaning (or to a schema built here for the newer service-token shape).
ALIASES = {
    "iam_collection_tokens_response": "iam_response_collection",
    "iam_single_token_create_response": "iam_response_create",
    "iam_single_token_response": "iam_response_single",
    "iam_permissions_group_response_collection": "iam_schemas-response_collection",
    "iam_token_identifier": "iam_components-schemas-identifier",
    "iam_account_identifier": "iam_identifier",
    "iam_token_status": "iam_status",
    "iam_token_policies": "iam_token-policies",
    "iam_token_body": "iam_token",
    "access_created_at": "access_timestamp",
    "access_updated_at": "access_timestamp",
    "access_name-2": "access_service-tokens_components-schemas-name",
    "access_name-17": "access_service-tokens_components-schemas-name",
}
# Newer single/collection envelopes around the newer access_service-tokens object.
NEWER_BUILT = {
    "access_single_response-2": {
        "allOf": [{"$ref": "#/components/schemas/access_api-response-single"},
                  {"properties": {"result": {"$ref": "#/components/schemas/access_service-tokens"}}}]
    },
    "access_response_collection-3": {
        "allOf": [{"$ref": "#/components/schemas/access_api-response-collection"},
                  {"properties": {"result": {"type": "array", "items": {
                      "$ref": "#/components/schemas/access_service-tokens"}}}}]
    },
}
NEWER_BUILT["access_single_response-18"] = NEWER_BUILT["access_single_response-2"]
NEWER_BUILT["access_response_collection-19"] = NEWER_BUILT["access_response_collection-3"]

# Cloudflare's answer to deleting a service token a policy or group names (API-NOTES addendum).
SERVICE_TOKEN_IN_USE = ("access.api.error.service_token_in_use: cannot delete service token "
                        "because it is used by a policy, group, or app SCIM configuration")

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


# --- spec loading -------------------------------------------------------------------------------

def fail_setup(msg):
    print("test_cfemu_conformance: " + msg, file=sys.stderr)
    sys.exit(2)


def spec_path():
    """ROTP_CONFORMANCE_SPEC, else the shared reference beside the clone when there is one (the
    contract itself), else the copy of it committed under tests/data/cloudflare/."""
    override = os.environ.get("ROTP_CONFORMANCE_SPEC")
    if override:
        return override
    src = os.environ.get("ROTP_SOURCE_DIR")
    if not src:
        src = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    shared = os.path.normpath(os.path.join(src, "..", "shared", "cloudflare", "openapi-excerpt.json"))
    if os.path.isfile(shared):
        return shared
    return os.path.join(src, "tests", "data", "cloudflare", "openapi-excerpt.json")


def denullable(node):
    """OpenAPI 3.0 `nullable: true` becomes a JSON-Schema type union with "null"."""
    if isinstance(node, list):
        return [denullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: denullable(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            out["type"] = t + ["null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    return out


def format_checker():
    fc = FormatChecker(formats=())

    @fc.checks("date-time", raises=ValueError)
    def _dt(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError("not RFC 3339: %r" % value)
        return True
    return fc


class Spec:
    def __init__(self, path):
        if not os.path.isfile(path):
            fail_setup("the API contract is missing: %s (set ROTP_CONFORMANCE_SPEC to point "
                       "elsewhere)" % path)
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.base = denullable({k: v for k, v in raw.items() if k != "x-newer-spec-fragments"})
        frag = denullable(raw.get("x-newer-spec-fragments") or {})
        if not frag.get("paths"):
            fail_setup("x-newer-spec-fragments.paths is missing from %s" % path)
        schemas = copy.deepcopy(self.base["components"]["schemas"])
        schemas.update(frag.get("components", {}).get("schemas", {}))
        for name, target in ALIASES.items():
            schemas.setdefault(name, {"$ref": "#/components/schemas/" + target})
        for name, built in NEWER_BUILT.items():
            schemas.setdefault(name, built)
        self.newer = {"components": {"schemas": schemas}, "paths": frag["paths"]}
        self.newer_schemas = frag.get("components", {}).get("schemas", {})
        self.fc = format_checker()
        self.base_routes = self._routes(self.base["paths"])
        self.newer_routes = self._routes(self.newer["paths"])
        for doc, label in ((self.base, "base"), (self.newer, "newer")):
            unresolved = self._unresolved(doc)
            if unresolved:
                fail_setup("%s spec has unresolved $refs: %s" % (label, sorted(unresolved)))

    @staticmethod
    def _routes(paths):
        out = []
        for tmpl in paths:
            rx = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
            out.append((re.compile(rx), tmpl))
        return out

    @staticmethod
    def _unresolved(doc):
        names = set(doc["components"]["schemas"])
        missing = set()

        def walk(node):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                    if ref.rsplit("/", 1)[1] not in names:
                        missing.add(ref)
                for k, v in node.items():
                    if k != "parameters":
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        for p in doc["paths"].values():
            walk(p)
        walk(doc["components"]["schemas"])
        return missing

    @staticmethod
    def _match(routes, path):
        for rx, tmpl in routes:
            if rx.match(path):
                return tmpl
        return None

    def response_schemas(self, method, path, status):
        """[(label, root doc, schema)] that a response must satisfy."""
        out = []
        for label, doc, routes in (("2024-08", self.base, self.base_routes),
                                   ("2026-07", self.newer, self.newer_routes)):
            tmpl = self._match(routes, path)
            if tmpl is None:
                continue
            op = doc["paths"][tmpl].get(method.lower())
            if op is None:
                continue
            resps = op["responses"]
            key = str(status) if 200 <= status < 300 else "4XX"
            if key not in resps:
                if 200 <= status < 300:
                    out.append((label, doc, {"not": {}, "description":
                                             "status %d not declared (has %s)" %
                                             (status, sorted(resps))}))
                continue
            schema = resps[key]["content"]["application/json"]["schema"]
            if key == "4XX":
                schema = self._failure_part(schema)
            out.append(("%s %s %s %s" % (label, method, tmpl, key), doc, schema))
        return out

    @staticmethod
    def _failure_part(schema):
        # The 2024-08 iam 4XX schemas are allOf[<success envelope>, <failure envelope>], which
        # no body can satisfy (success enum [true] and [false]); the failure part is the contract.
        if "allOf" in schema:
            fails = [s for s in schema["allOf"]
                     if s.get("$ref", "").endswith("api-response-common-failure")]
            if fails:
                return fails[0]
        return schema

    def generic_failure(self, path):
        name = "access_api-response-common-failure" if "/access/" in path \
            else "iam_api-response-common-failure"
        return ("2024-08 %s (route outside the spec)" % name, self.base,
                {"$ref": "#/components/schemas/" + name})

    def validate(self, doc, schema, instance):
        resolver = RefResolver(base_uri="", referrer=doc)
        v = Draft4Validator(schema, resolver=resolver, format_checker=self.fc)
        return sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))

    def strict_service_token(self, with_secret, may_have_secret=False):
        """A closed object of the newer service-token fields (for the newer-field check).
        with_secret: client_secret required (create, rotate); may_have_secret: allowed (a PUT
        that bumps client_secret_version rotates, and that answer is the only place the new
        secret can appear; cloudflare-go v0 models it as optional there)."""
        st = copy.deepcopy(self.newer["components"]["schemas"]["access_service-tokens"])
        props = st.setdefault("properties", {})
        props["client_secret_version"] = {
            "$ref": "#/components/schemas/access_client_secret_version"}
        props["previous_client_secret_expires_at"] = {
            "$ref": "#/components/schemas/access_previous_client_secret_expires_at"}
        if with_secret or may_have_secret:
            props["client_secret"] = {"$ref": "#/components/schemas/access_client_secret"}
        st["additionalProperties"] = False
        st["type"] = "object"
        # expires_at is absent for a zone-level "forever" token.
        st["required"] = ["id", "name", "client_id", "duration", "created_at", "updated_at",
                          "client_secret_version"] + (
                              ["client_secret"] if with_secret else [])
        return st


# --- cfemu process ------------------------------------------------------------------------------

class Cfemu:
    def __init__(self, binary, tmp, tag, extra=()):
        self.port_file = os.path.join(tmp, tag + ".port")
        self.ca = os.path.join(tmp, tag + "-ca.pem")
        self.creds_file = os.path.join(tmp, tag + ".env")
        self.log_path = os.path.join(tmp, tag + ".log")
        self.log = open(self.log_path, "wb")
        argv = [binary, "--listen", "127.0.0.1:0", "--port-file", self.port_file,
                "--ca-out", self.ca, "--creds-out", self.creds_file] + list(extra)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        port = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("cfemu exited early with status %s" % self.proc.returncode)
            try:
                with open(self.port_file, encoding="ascii") as f:
                    port = f.read().strip()
            except FileNotFoundError:
                port = ""
            if port.isdigit() and os.path.isfile(self.creds_file) and os.path.isfile(self.ca):
                break
            time.sleep(0.05)
        if not port.isdigit():
            self.stop()
            raise RuntimeError("cfemu did not write its port file")
        self.origin = "https://127.0.0.1:%s" % port
        self.ctx = ssl.create_default_context(cafile=self.ca)
        self.creds = {}
        with open(self.creds_file, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    self.creds[k] = v.strip().strip('"')

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.returncode != 0:
            # cfemu's own output (sanitizer reports included); it never holds a secret.
            with open(self.log_path, "rb") as f:
                tail = f.read()[-6000:]
            print("cfemu exited with %s; its output ends with:\n%s"
                  % (self.proc.returncode, tail.decode("utf-8", "replace")))
        return self.proc.returncode

    def request(self, method, path, token=None, body=None, headers=None, raw_auth=None):
        """(status, headers, parsed JSON or None, raw bytes)."""
        url = self.origin + path
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if raw_auth is not None:
            hdrs["Authorization"] = raw_auth
        elif token is not None:
            hdrs["Authorization"] = "Bearer " + token
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=20) as r:
                status, rh, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, rh, raw = e.code, e.headers, e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, rh, parsed, raw


# --- the checks ---------------------------------------------------------------------------------

class Run:
    def __init__(self, spec):
        self.spec = spec
        self.validated = 0
        self.failed = 0
        self.checks_failed = 0
        self.deviations = set()
        self.strict_objects = 0

    def bad(self, msg):
        self.checks_failed += 1
        print("FAIL: " + msg)

    def expect(self, cond, msg):
        if not cond:
            self.bad(msg)
        return cond

    def call(self, emu, method, path, token=None, body=None, expect=None, code=None, **kw):
        """One API call, validated; expect = HTTP status, code = errors[0].code on failure."""
        status, hdrs, parsed, raw = emu.request(method, path, token=token, body=body, **kw)
        where = "%s %s -> %d" % (method, path, status)
        if expect is not None and status != expect:
            self.bad("%s: expected HTTP %d; body %s" % (where, expect, raw[:300]))
        if code is not None:
            codes = [e.get("code") for e in (parsed or {}).get("errors", []) or []]
            if code not in codes:
                self.bad("%s: expected error code %d, got %s" % (where, code, codes))
        if path.startswith(API) and ("Ratelimit" not in hdrs or "Ratelimit-Policy" not in hdrs):
            self.bad("%s: Ratelimit / Ratelimit-Policy headers missing" % where)
        ctype = hdrs.get("Content-Type", "")
        if path.startswith(API) and not ctype.startswith("application/json"):
            self.bad("%s: Content-Type %r, the spec's responses are application/json" % (where, ctype))
        if path.startswith(API):
            self.validate(method, path.split("?", 1)[0][len(API):], status, parsed, raw)
        return status, hdrs, parsed

    def validate(self, method, path, status, parsed, raw):
        where = "%s %s -> %d" % (method, path, status)
        self.validated += 1
        if parsed is None:
            self.failed += 1
            print("INVALID %s: not JSON: %r" % (where, raw[:200]))
            return
        targets = self.spec.response_schemas(method, path, status)
        if not targets:
            if 200 <= status < 300:
                self.failed += 1
                print("INVALID %s: a success on a route outside the spec" % where)
                return
            targets = [self.spec.generic_failure(path)]
        errors = []
        for label, doc, schema in targets:
            for err in self.spec.validate(doc, schema, parsed):
                text = "[%s] at %s: %s" % (label, "/".join(map(str, err.absolute_path)),
                                           err.message[:200])
                if known_deviation(status, err):
                    self.deviations.add("%s %s: %s" % (method, path, text))
                    continue
                errors.append(text)
        if 200 <= status < 300 and "/access/service_tokens" in path:
            errors += self.strict_service_tokens(method, path, parsed)
        if errors:
            self.failed += 1
            print("INVALID %s:\n  %s" % (where, "\n  ".join(errors)))

    def strict_service_tokens(self, method, path, parsed):
        result = parsed.get("result")
        with_secret = (method == "POST" and (path.endswith("/service_tokens")
                                             or path.endswith("/rotate")))
        items = result if isinstance(result, list) else [result]
        schema = self.spec.strict_service_token(with_secret, may_have_secret=(method == "PUT"))
        errors = []
        for i, item in enumerate(items):
            self.strict_objects += 1
            for err in self.spec.validate(self.spec.newer, schema, item):
                errors.append("[2026-07 access_service-tokens, closed] item %d at %s: %s" %
                              (i, "/".join(map(str, err.absolute_path)), err.message[:200]))
        return errors


def known_deviation(status, err):
    """Where observed Cloudflare behaviour and the spec disagree, and cfemu follows the observed
    behaviour on purpose. Each entry is narrow, printed, and fails under
    ROTP_CONFORMANCE_STRICT=1.
    - 429 with code 971: the rate-limit code Cloudflare sends (API-NOTES section 5:
      workers-sdk#10025, cloudflare-exporter#74, flares#24), below the `minimum: 1000` that
      iam_messages/access_messages declare."""
    if os.environ.get("ROTP_CONFORMANCE_STRICT") == "1":
        return False
    return (status == 429 and err.validator == "minimum" and err.instance == 971
            and list(err.absolute_path)[-1:] == ["code"])


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def probe(emu, app, client_id, secret):
    status, _, _, _ = emu.request("GET", "/cdn-cgi/access/probe/" + app, headers={
        "CF-Access-Client-Id": client_id, "CF-Access-Client-Secret": secret})
    return status


def drive_api_tokens(run, emu, c):
    mgmt = c["CFEMU_TOKEN_MGMT_VALUE"]
    acct = c["CFEMU_ACCOUNT_ID"]
    zone = c["CFEMU_ZONE_ID"]

    _, _, pg = run.call(emu, "GET", API + "/user/tokens/permission_groups", mgmt, expect=200)
    groups = (pg or {}).get("result") or []
    run.expect(len(groups) > 0, "user permission_groups is empty")
    zone_read = next((g for g in groups if g.get("name") == "Zone Read"), groups[0] if groups
                     else {"id": "0" * 32})
    run.call(emu, "GET", API + "/user/tokens/permission_groups?name=Zone%20Read", mgmt,
             expect=200)
    run.call(emu, "GET", API + "/accounts/%s/tokens/permission_groups" % acct, mgmt, expect=200)

    policies = [{"effect": "allow", "permission_groups": [{"id": zone_read["id"]}],
                 "resources": {"com.cloudflare.api.account.zone.%s" % zone: "*"}}]
    for base, prefix in (("/user/tokens", "cfut_"), ("/accounts/%s/tokens" % acct, "cfat_")):
        run.call(emu, "GET", API + base, mgmt, expect=200)
        run.call(emu, "GET", API + base + "?page=1&per_page=5&direction=desc", mgmt, expect=200)
        _, _, created = run.call(emu, "POST", API + base, mgmt, expect=200, body={
            "name": "conformance", "policies": policies,
            "expires_on": rfc3339(datetime.now(timezone.utc) + timedelta(days=30))})
        res = (created or {}).get("result") or {}
        tid, value = res.get("id", ""), res.get("value", "")
        run.expect(value.startswith(prefix), "%s create: value lacks %s" % (base, prefix))
        run.call(emu, "GET", API + base + "/" + tid, mgmt, expect=200)
        run.call(emu, "PUT", API + base + "/" + tid, mgmt, expect=200, body={
            "name": "conformance-2", "policies": policies, "status": "active"})
        verify = base + "/verify"
        run.call(emu, "GET", API + verify, value, expect=200)
        _, _, rolled = run.call(emu, "PUT", API + base + "/" + tid + "/value", mgmt, body={},
                                expect=200)
        new_value = (rolled or {}).get("result")
        run.expect(isinstance(new_value, str) and new_value.startswith(prefix),
                   "%s roll: result is not a %s string" % (base, prefix))
        run.call(emu, "GET", API + verify, value, expect=401, code=1000)
        if isinstance(new_value, str):
            run.call(emu, "GET", API + verify, new_value, expect=200)
            if prefix == "cfat_":
                run.call(emu, "GET", API + "/user/tokens/verify", new_value, expect=401,
                         code=1000)
        # The other roll bodies real clients send: empty with the JSON type, none at all.
        for body, hdrs in ((b"", None), (None, None)):
            _, _, rolled = run.call(emu, "PUT", API + base + "/" + tid + "/value", mgmt,
                                    body=body, expect=200, headers=hdrs)
            run.expect(isinstance((rolled or {}).get("result"), str),
                       "%s roll with body %r: result is not a string" % (base, body))
        run.call(emu, "PUT", API + base + "/" + tid + "/value", mgmt, body=b"[]", expect=400,
                 code=6007)
        run.call(emu, "DELETE", API + base + "/" + tid, mgmt, expect=200)
        run.call(emu, "GET", API + base + "/" + tid, mgmt, expect=404)
        run.call(emu, "GET", API + base + "/not-a-token-id", mgmt, expect=None)


def drive_service_tokens(run, emu, c):
    mgmt = c["CFEMU_TOKEN_MGMT_VALUE"]
    ro = c["CFEMU_TOKEN_READONLY_VALUE"]
    acct = c["CFEMU_ACCOUNT_ID"]
    zone = c["CFEMU_ZONE_ID"]
    abase = API + "/accounts/%s/access/service_tokens" % acct
    zbase = API + "/zones/%s/access/service_tokens" % zone
    console_app = c["CFEMU_APP_CONSOLE_ID"]
    vault_app = c["CFEMU_APP_VAULT_ID"]

    # The probe updates last_seen_at, so list/get below carry it too.
    run.expect(probe(emu, console_app, c["CFEMU_ST_CONSOLE_PROBE_CLIENT_ID"],
                     c["CFEMU_ST_CONSOLE_PROBE_CLIENT_SECRET"]) == 200,
               "probe with the seeded console token is not 200")

    run.call(emu, "GET", abase, mgmt, expect=200)
    run.call(emu, "GET", abase + "?name=console-probe", mgmt, expect=200)
    run.call(emu, "GET", abase + "?search=probe&page=1&per_page=5", mgmt, expect=200)
    run.call(emu, "GET", abase + "?page=2&per_page=5", mgmt, expect=200)
    run.call(emu, "GET", abase + "/" + c["CFEMU_ST_CONSOLE_PROBE_ID"], mgmt, expect=200)

    _, _, cr = run.call(emu, "POST", abase, mgmt, body={"name": "conf-a"}, expect=201)
    tok = (cr or {}).get("result") or {}
    tid = tok.get("id", "00000000-0000-4000-8000-000000000000")
    run.call(emu, "POST", abase, mgmt, body={"name": "conf-b", "duration": "2h45m",
                                             "client_secret_version": 1}, expect=201)
    run.call(emu, "GET", abase + "/" + tid, mgmt, expect=200)
    run.call(emu, "PUT", abase + "/" + tid, mgmt, body={"name": "conf-a2", "duration": "720h"},
             expect=200)
    run.call(emu, "PUT", abase + "/" + tid, mgmt, body={
        "client_secret_version": 2,
        "previous_client_secret_expires_at": rfc3339(datetime.now(timezone.utc)
                                                     + timedelta(hours=1))}, expect=200)
    run.call(emu, "PUT", abase + "/" + tid, mgmt, body={
        "previous_client_secret_expires_at": "2020-01-01T00:00:00Z"}, expect=200)
    run.call(emu, "POST", abase + "/" + tid + "/refresh", mgmt, expect=200)
    run.call(emu, "POST", abase + "/" + tid + "/rotate", mgmt, expect=200)
    run.call(emu, "POST", abase + "/" + tid + "/rotate", mgmt, body={
        "previous_client_secret_expires_at": rfc3339(datetime.now(timezone.utc)
                                                     + timedelta(minutes=10))}, expect=200)
    run.call(emu, "POST", abase, mgmt, body={}, expect=400)
    run.call(emu, "POST", abase, mgmt, body={"name": "x", "duration": "soon"}, expect=400)
    run.call(emu, "DELETE", abase + "/" + tid, mgmt, expect=200)
    run.call(emu, "GET", abase + "/" + tid, mgmt, expect=404)
    _, _, in_use = run.call(emu, "DELETE", abase + "/" + c["CFEMU_ST_CONSOLE_PROBE_ID"], mgmt,
                            expect=400, code=12139)
    run.expect(((in_use or {}).get("errors") or [{}])[0].get("message") == SERVICE_TOKEN_IN_USE,
               "12139 without Cloudflare's message: %r" % (in_use,))
    run.call(emu, "GET", abase + "/not-a-uuid", mgmt, expect=404, code=7003)
    run.call(emu, "GET", abase, ro, expect=403)
    run.call(emu, "POST", abase, ro, body={"name": "nope"}, expect=403)

    # Zone level: list, create (forever), get, update, delete; no refresh and no rotate.
    run.call(emu, "GET", zbase, mgmt, expect=200)
    _, _, zc = run.call(emu, "POST", zbase, mgmt, body={"name": "conf-z", "duration": "forever"},
                        expect=201)
    zid = ((zc or {}).get("result") or {}).get("id", "00000000-0000-4000-8000-000000000000")
    run.call(emu, "GET", zbase + "/" + zid, mgmt, expect=200)
    run.call(emu, "PUT", zbase + "/" + zid, mgmt, body={"name": "conf-z2"}, expect=200)
    run.call(emu, "POST", zbase + "/" + zid + "/rotate", mgmt, expect=400, code=7000)
    run.call(emu, "POST", zbase + "/" + zid + "/refresh", mgmt, expect=400, code=7000)
    run.call(emu, "DELETE", zbase + "/" + zid, mgmt, expect=200)
    run.call(emu, "GET", zbase + "/" + c["CFEMU_ST_EDGE_PROBE_ID"], mgmt, expect=200)
    run.call(emu, "GET", zbase + "/bad-id", mgmt, expect=404, code=7003)
    run.call(emu, "GET", zbase, ro, expect=403)

    # Probe origin (not part of the API contract: statuses only).
    run.expect(probe(emu, vault_app, c["CFEMU_ST_VAULT_PROBE_CLIENT_ID"], "0" * 64) == 401,
               "probe with a wrong secret is not 401")
    run.expect(probe(emu, "00000000-0000-4000-8000-000000000000",
                     c["CFEMU_ST_VAULT_PROBE_CLIENT_ID"],
                     c["CFEMU_ST_VAULT_PROBE_CLIENT_SECRET"]) == 404,
               "probe of an unknown app is not 404")


def drive_auth_failures(run, emu, c):
    mgmt = c["CFEMU_TOKEN_MGMT_VALUE"]
    acct = c["CFEMU_ACCOUNT_ID"]
    run.call(emu, "GET", API + "/user/tokens", None, expect=400, code=1001)
    run.call(emu, "GET", API + "/user/tokens/verify", None, expect=400, code=1001)
    run.call(emu, "GET", API + "/user/tokens", raw_auth="Bearer abc def", expect=400, code=6003)
    run.call(emu, "GET", API + "/user/tokens/verify", raw_auth="Bearer abc-def", expect=400,
             code=6003)
    unknown = "A" * 40
    run.call(emu, "GET", API + "/user/tokens/verify", unknown, expect=401, code=1000)
    st, _, _ = run.call(emu, "GET", API + "/user/tokens", unknown)
    run.expect(st in (401, 403), "unknown token on /user/tokens: %d, want 401/403" % st)
    run.call(emu, "GET", API + "/accounts/%s/access/service_tokens" % acct, unknown)
    run.call(emu, "GET", API + "/user/tokens", c["CFEMU_TOKEN_READONLY_VALUE"], expect=403)
    run.call(emu, "GET", API + "/accounts/%s/tokens" % acct, c["CFEMU_TOKEN_READONLY_VALUE"],
             expect=403)
    run.call(emu, "POST", API + "/user/tokens/%s/roll" % c["CFEMU_TOKEN_MGMT_ID"], mgmt,
             body={}, expect=400, code=7000)
    run.call(emu, "GET", API + "/no/such/route", mgmt, expect=400, code=7000)
    run.call(emu, "GET", API + "/user/tokens/verify", mgmt, expect=200)


def drive_rate_limit(run, emu, c):
    mgmt = c["CFEMU_TOKEN_MGMT_VALUE"]
    seen = None
    for _ in range(5):
        st, hdrs, _ = run.call(emu, "GET", API + "/user/tokens/verify", mgmt)
        run.expect("Ratelimit" in hdrs and "Ratelimit-Policy" in hdrs,
                   "Ratelimit headers missing (HTTP %d)" % st)
        if st == 429:
            seen = hdrs
            break
    if run.expect(seen is not None, "no 429 within 5 calls at --rate-limit 2/300"):
        run.expect(seen.get("Retry-After", "").isdigit(), "429 without a numeric Retry-After")
    st, _, body = run.call(emu, "GET", API + "/user/tokens", mgmt, expect=429, code=971)


def main():
    path = spec_path()
    print("conformance: contract %s" % path)
    spec = Spec(path)
    binary = os.environ.get("CFEMU_BIN")
    if not binary or not os.access(binary, os.X_OK):
        fail_setup("CFEMU_BIN is not set to the cfemu program (got %r)" % binary)
    run = Run(spec)
    exit_codes = []
    with tempfile.TemporaryDirectory(prefix="cfemu-conf-") as tmp:
        emu = Cfemu(binary, tmp, "main")
        try:
            drive_api_tokens(run, emu, emu.creds)
            drive_service_tokens(run, emu, emu.creds)
            drive_auth_failures(run, emu, emu.creds)
        finally:
            exit_codes.append(("main", emu.stop()))
        limited = Cfemu(binary, tmp, "limited", ["--rate-limit", "2/300"])
        try:
            drive_rate_limit(run, limited, limited.creds)
        finally:
            exit_codes.append(("rate-limited", limited.stop()))
    for tag, rc in exit_codes:
        run.expect(rc == 0, "cfemu (%s) exited with %s after SIGTERM, want 0" % (tag, rc))
    for d in sorted(run.deviations):
        print("KNOWN DEVIATION (tolerated): " + d)
    print("conformance: %d responses validated, %d failed%s" % (
        run.validated, run.failed,
        " (%d known deviations tolerated, see above)" % len(run.deviations)
        if run.deviations else ""))
    print("conformance: %d service-token objects checked against the closed 2026-07 shape"
          % run.strict_objects)
    run.expect(run.strict_objects >= 20, "too few service-token objects were checked")
    if run.checks_failed:
        print("conformance: %d behaviour checks failed" % run.checks_failed)
    if run.validated == 0:
        print("conformance: nothing was validated")
        return 1
    return 1 if (run.failed or run.checks_failed) else 0


if __name__ == "__main__":
    sys.exit(main())
