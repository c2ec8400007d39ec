"""Real TAXII clients against Détente nodes (issue 7).

Run by crates/node/tests/taxii_clients.rs with the OASIS `taxii2-client` and `stix2`
packages: discovers alice's node, lists its collections, adds a bundle made with stix2,
polls the status until complete, then reads the objects back through bob's node (another
member's, which verified them from the log) and checks that they arrived intact.

Environment: ALICE_URL, BOB_URL (…/taxii2/), ALICE_CRED, BOB_CRED (user:token).
Exits non-zero, with the reason, on any failure.
"""

import json
import os
import sys
import time

import stix2
from taxii2client.v21 import Collection, Server, as_pages

EXT = "extension-definition--5d0a3f0e-3c1b-5c6e-9a5f-2f6c1d7e8a90"


def connect(url, cred):
    user, password = cred.split(":", 1)
    return Server(url, user=user, password=password), user, password


def strip(obj):
    obj = dict(obj)
    ext = dict(obj.get("extensions", {}))
    assert EXT in ext, f"no provenance on {obj['id']}"
    prov = ext.pop(EXT)
    if ext:
        obj["extensions"] = ext
    else:
        obj.pop("extensions", None)
    return obj, prov


def main():
    alice, _, _ = connect(os.environ["ALICE_URL"], os.environ["ALICE_CRED"])
    assert alice.title, "discovery has a title"
    root = alice.api_roots[0]
    assert "application/taxii+json;version=2.1" in root.versions
    cols = {c.alias: c for c in root.collections}
    assert set(cols) >= {"tlp-clear", "tlp-green", "tlp-amber", "tlp-amber-strict", "tlp-red"}, cols
    green = cols["tlp-green"]
    assert green.can_read and green.can_write

    identity = stix2.v21.Identity(name="CERT Alice analyst", identity_class="organization")
    indicators = [
        stix2.v21.Indicator(
            name=f"C2 server {i}",
            indicator_types=["malicious-activity"],
            pattern_type="stix",
            pattern=f"[ipv4-addr:value = '198.51.100.{i}']",
            valid_from="2026-01-01T00:00:00Z",
            created_by_ref=identity.id,
        )
        for i in range(5)
    ]
    malware = stix2.v21.Malware(name="Loader", is_family=True)
    rel = stix2.v21.Relationship(indicators[0], "indicates", malware)
    ip = stix2.v21.IPv4Address(value="198.51.100.7")
    bundle = stix2.v21.Bundle(objects=[identity, *indicators, malware, rel, ip])
    sent = {o["id"]: o for o in json.loads(bundle.serialize())["objects"]}

    status = green.add_objects(bundle.serialize(), wait_for_completion=True, poll_interval=0.2, timeout=60)
    assert status.status == "complete", status
    assert status.success_count == len(sent), (status.success_count, status.failures)
    assert status.failure_count == 0 and status.pending_count == 0

    bob, bob_user, bob_password = connect(os.environ["BOB_URL"], os.environ["BOB_CRED"])
    bob_green = [c for c in bob.api_roots[0].collections if c.alias == "tlp-green"][0]
    assert bob_green.id == green.id, "collection ids are the same on every node"
    deadline = time.time() + 30
    got = []
    while time.time() < deadline:
        got = bob_green.get_objects().get("objects", [])
        if len(got) >= len(sent):
            break
        time.sleep(0.2)
    assert len(got) == len(sent), f"bob's node has {len(got)} of {len(sent)}"
    for obj in got:
        clean, prov = strip(obj)
        assert clean == sent[clean["id"]], f"{clean['id']} changed on the way"
        assert prov["author"] == "alice" and prov["tlp"] == "TLP:GREEN", prov
        stix2.parse(clean, allow_custom=False)  # still valid STIX for the library

    # Paging the way tools do, filters, one object, its versions, the manifest.
    paged = [o for page in as_pages(bob_green.get_objects, per_request=2) for o in page.get("objects", [])]
    assert sorted(o["id"] for o in paged) == sorted(sent), "as_pages walks everything once"
    only = bob_green.get_objects(type="indicator")["objects"]
    assert len(only) == 5 and all(o["type"] == "indicator" for o in only)
    one = bob_green.get_object(malware.id)["objects"]
    assert [o["id"] for o in one] == [malware.id]
    assert bob_green.object_versions(malware.id)["versions"] == [sent[malware.id]["modified"]]
    manifest = bob_green.get_manifest()["objects"]
    assert {m["id"] for m in manifest} == set(sent)
    later = bob_green.get_objects(added_after=manifest[-1]["date_added"])
    assert "objects" not in later, later

    # The same collection by URL, as a tool configured with it would use it.
    direct = Collection(f"{os.environ['BOB_URL']}api/collections/{green.id}/", user=bob_user, password=bob_password)
    assert direct.title == "TLP:GREEN" and direct.can_read
    print(f"ok: {len(sent)} objects through alice's node, verified on bob's")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report everything, fail the test
        import traceback

        traceback.print_exc()
        print(f"FAILED: {e!r}", file=sys.stderr)
        sys.exit(1)
