"""Run the scim2-tester compliance checks against a SCIM base URL.

Usage: scim_compliance.py PASS SCIM_URL  (token in the SCIM_TOKEN environment variable)

PASS is `atlassian` (the simulator as Atlassian answers, the atlassian-external extension
advertised) or `unadvertised` (the extension neither advertised nor returned, so the checks
scim2-models cannot run in the first pass run here).

Prints one line per check. Checks that cannot apply to Atlassian's SCIM dialect are listed with
the reason and do not fail the run; any other check that is not a success fails it (exit 1).
"""

import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

RENAME = (
    "Atlassian does not support renaming a SCIM group (Atlassian documents no group rename): the simulator "
    "answers 400 mutability, and this check PUTs/PATCHes a new random displayName"
)
DISPLAY = (
    "Atlassian returns members[].display (read-only, filled in by the server); this check compares "
    "the member it sent, which has no display, with the returned one for strict equality"
)
URN = (
    "Atlassian's extension URN urn:scim:schemas:extension:atlassian-external:1.0 ends in '1.0', "
    "which the attribute-path grammar of scim2-models (URN ':' attrName) cannot parse, so the check "
    "crashes before it sends a request; it is run in the 'unadvertised' pass instead"
)

ACTIVE = (
    "Atlassian always returns `active`: it is the account's status (active or deactivated), which "
    "cannot be unassigned; removing it leaves it as it was, while this check expects it to vanish"
)

# (pass or None for both, resource type or None, check title or None, substring of the reason)
# -> why the check does not apply to Atlassian's SCIM dialect.
NOT_APPLICABLE = [
    (None, "Group", "object_replacement", "Renaming a group is not supported", RENAME),
    (None, "Group", "check_replace_attribute", "Renaming a group is not supported", RENAME),
    (None, "Group", "check_add_attribute", "unexpected value for 'members'", DISPLAY),
    (None, "Group", "check_replace_attribute", "unexpected value for 'members'", DISPLAY),
    (None, "User", "check_remove_attribute", "did not remove attribute 'active'", ACTIVE),
    ("atlassian", None, None, "No terminal matches ':'", URN),
]

OK = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def not_applicable(run, result):
    for pass_name, resource_type, title, needle, why in NOT_APPLICABLE:
        if pass_name not in (None, run):
            continue
        if resource_type not in (None, result.resource_type):
            continue
        if title not in (None, result.title):
            continue
        if needle in (result.reason or ""):
            return why
    return None


def main():
    run, url = sys.argv[1], sys.argv[2]
    token = os.environ["SCIM_TOKEN"]
    http = Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client)
    passed, failed, skipped, na = 0, 0, 0, []
    for r in results:
        label = f"{r.resource_type or '-':6} {r.title or ''}: {(r.reason or '').splitlines()[0] if r.reason else ''}"
        if r.status in OK:
            passed += 1
            print(f"PASS  {label}")
        elif r.status == Status.SKIPPED:
            skipped += 1
            print(f"SKIP  {label}")
        elif (why := not_applicable(run, r)) is not None:
            na.append((label, why))
            print(f"N/A   {label}")
        else:
            failed += 1
            print(f"FAIL  [{r.status.name}] {label}")
            if r.reason and "\n" in r.reason:
                for line in r.reason.splitlines()[1:]:
                    print(f"        {line}")
            if r.data is not None:
                print(f"        data: {str(r.data)[:600]}")
    if na:
        print("\nChecks that do not apply to Atlassian's SCIM dialect:")
        for label, why in na:
            print(f"  - {label}\n      why: {why}")
    print(
        f"\nscim2-tester pass '{run}': {passed} checks passed; {failed} failed; "
        f"{skipped} skipped; {len(na)} not applicable"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
