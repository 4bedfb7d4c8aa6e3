#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fleet_seed.py - a cfemu seed for fleet tests and the fleet benchmark.

It holds the built-in seed's objects (same ids and creds names, so harness_lib.sh's
hl_cfemu_start accepts it) plus N account-owned tokens FLEET_001..FLEET_N (creds names
FLEET_001...), and with --states four more tokens for `plan`: STALE_DISABLED (disabled),
STALE_EXPIRED (expired), SOON (active, expires in 5 days) and GONE's id is simply not seeded.
Secret values are left out: cfemu makes random ones and writes them to its --creds-out file.

usage: fleet_seed.py N [--states] > seed.json
"""
import datetime
import json
import sys

USER = "9a7806061c88ada191ed06f989cc3dac"
ACC = "01a7362d577a6c3019a474fd6f485823"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


def pol(groups, res):
    return [{"effect": "allow", "permission_groups": [{"name": g} for g in groups],
             "resources": {res: "*"}}]


def tok(tid, owner, name, creds, groups, res, **kw):
    t = {"id": tid, "owner": owner, "name": name, "creds_name": creds, "status": "active",
         "policies": pol(groups, res)}
    t.update(kw)
    return t


def main():
    n = int(sys.argv[1])
    states = "--states" in sys.argv[2:]
    zres = "com.cloudflare.api.account.zone." + ZONE
    mgmt = tok("ed17574386854bf78a67040be0a770b0", "user", "rotation-mgmt", "MGMT",
               ["API Tokens Write", "Account API Tokens Write", "Access: Service Tokens Write"],
               "com.cloudflare.api.user." + USER)
    mgmt["policies"][0]["resources"]["com.cloudflare.api.account." + ACC] = "*"
    tokens = [
        mgmt,
        tok("4c1b7f6c2d3e4f5a6b7c8d9e0f1a2b3c", "user", "pages-deploy", "PAGES_DEPLOY",
            ["Pages Write"], "com.cloudflare.api.account." + ACC),
        tok("7d3e2c1b0a9f8e7d6c5b4a3928170615", "account:" + ACC, "ci-readonly", "CI_READONLY",
            ["Zone Read"], zres),
        tok("3f2e1d0c9b8a79685746352413021100", "user", "least-privilege", "READONLY",
            ["Zone Read"], zres),
    ]
    for i in range(1, n + 1):
        tokens.append(tok("f1ee7000%024x" % i, "account:" + ACC, "fleet-%03d" % i,
                          "FLEET_%03d" % i, ["Zone Read"], zres))
    if states:
        soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=5))
        tokens.append(tok("5ea1e000000000000000000000000001", "account:" + ACC, "stale-disabled",
                          "STALE_DISABLED", ["Zone Read"], zres, status="disabled"))
        tokens.append(tok("5ea1e000000000000000000000000002", "account:" + ACC, "stale-expired",
                          "STALE_EXPIRED", ["Zone Read"], zres, status="expired",
                          expires_on="2026-01-01T00:00:00Z"))
        tokens.append(tok("5ea1e000000000000000000000000003", "account:" + ACC, "soon",
                          "SOON", ["Zone Read"], zres,
                          expires_on=soon.strftime("%Y-%m-%dT%H:%M:%SZ")))
    seed = {
        "users": [{"id": USER, "email": "ops@example.com"}],
        "accounts": [{"id": ACC, "name": "Example"}],
        "zones": [{"id": ZONE, "name": "example.com", "account_id": ACC}],
        "tokens": tokens,
        "service_tokens": [
            {"id": "f174e90a-fafe-4643-bbbc-4a0ed4fc8415", "account_id": ACC,
             "name": "console-probe"},
            {"id": "6b2a8f3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b", "account_id": ACC,
             "name": "vault-probe"},
            {"id": "9c8b7a6f-5e4d-4c3b-9a2f-1e0d9c8b7a6f", "zone_id": ZONE, "name": "edge-probe"},
        ],
        "access_apps": [
            {"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "account_id": ACC, "name": "console",
             "policies": [{"decision": "non_identity", "include": [
                 {"service_token": {"token_id": "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"}}]}]},
            {"id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "account_id": ACC, "name": "vault",
             "policies": [{"decision": "non_identity",
                           "include": [{"any_valid_service_token": {}}]}]},
            {"id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", "zone_id": ZONE, "name": "edge",
             "policies": [{"decision": "non_identity",
                           "include": [{"any_valid_service_token": {}}]}]},
        ],
    }
    json.dump(seed, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
