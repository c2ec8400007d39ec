//! TAXII 2.1 conformance of the node's server (issue 7), against a real host, a witness
//! and the members' own node servers on 127.0.0.1: every endpoint, filter, pagination
//! rule and error status of TAXII 2.1 §3–§5, and the Détente guarantees on top (what is
//! posted becomes signed reports; what is read comes from verified statements, sealed
//! ones only for their addressees, each object with its provenance).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "taxii/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "adversarial/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "adversarial/world.rs"]
#[allow(dead_code)]
mod world;

use harness::{
    Client, ROOT, TAXII, assert_error, collection_id, indicator, serve, without_provenance,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const EXT: &str = node::taxii::EXTENSION_ID;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_api_root_and_collections() {
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", None).await;
    let c = alice.writer();

    let d = c.get("/taxii2/").await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.content_type(), TAXII);
    assert_eq!(d.body["api_roots"], json!([ROOT]));
    assert_eq!(d.body["default"], ROOT);
    assert!(d.body["title"].is_string());

    let r = c.get(ROOT).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["versions"], json!([TAXII]));
    assert_eq!(r.body["max_content_length"], 4 << 20);

    let list = c.get(&format!("{ROOT}collections/")).await;
    let cols = list.body["collections"].as_array().unwrap();
    let aliases: Vec<&str> = cols.iter().map(|c| c["alias"].as_str().unwrap()).collect();
    assert_eq!(
        aliases,
        [
            "tlp-clear",
            "tlp-green",
            "tlp-amber",
            "tlp-amber-strict",
            "tlp-red"
        ]
    );
    for col in cols {
        let id = col["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(col["can_read"], true);
        assert_eq!(
            col["media_types"],
            json!(["application/stix+json;version=2.1"])
        );
        // The collection resource, by id and by alias, says the same.
        let one = c.get(&format!("{ROOT}collections/{id}/")).await;
        assert_eq!(one.body, *col);
        let alias = col["alias"].as_str().unwrap();
        assert_eq!(
            c.get(&format!("{ROOT}collections/{alias}/")).await.body,
            *col
        );
    }
    // can_write is truthful: RED needs configured addressees; a read-only user never writes.
    let writable: Vec<bool> = cols
        .iter()
        .map(|c| c["can_write"].as_bool().unwrap())
        .collect();
    assert_eq!(writable, [true, true, true, true, false]);
    let ro = alice.reader().get(&format!("{ROOT}collections/")).await;
    assert!(
        ro.body["collections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["can_write"] == false)
    );

    // Ids are stable and the same on another member's node.
    let bob = serve(&w, "bob", Some("[seal_to]\nred = [\"alice\"]\n")).await;
    let theirs = bob.writer().get(&format!("{ROOT}collections/")).await;
    for (a, b) in cols
        .iter()
        .zip(theirs.body["collections"].as_array().unwrap())
    {
        assert_eq!(a["id"], b["id"]);
    }
    assert_eq!(
        theirs.body["collections"][4]["can_write"], true,
        "red configured on bob's node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_its_status_and_an_error_body() {
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", Some("max_content_length = 100000\n")).await;
    let c = alice.writer();
    let green = collection_id(&c, "tlp-green").await;
    let objects = format!("{ROOT}collections/{green}/objects/");

    // 401 without or with wrong credentials, with a Basic challenge.
    for client in [
        alice.anonymous(),
        Client::new(&alice.base, Some("tool:wrong")),
    ] {
        for path in ["/taxii2/", ROOT, objects.as_str()] {
            let a = client.get(path).await;
            assert_error(&a, StatusCode::UNAUTHORIZED);
            assert!(a.header("www-authenticate").unwrap().starts_with("Basic"));
        }
    }
    // 406 for an Accept naming only other types.
    for accept in ["application/json", "application/taxii+json;version=2.0"] {
        let a = Client::send(c.request_accepting(Method::GET, ROOT, accept)).await;
        assert_error(&a, StatusCode::NOT_ACCEPTABLE);
    }
    // 404: unknown collection, object, status, endpoint.
    for path in [
        format!("{ROOT}collections/00000000-0000-4000-8000-000000000000/"),
        format!("{ROOT}collections/nope/objects/"),
        format!("{objects}indicator--8e2e2d2b-17d4-4cbf-938f-000000000001/"),
        format!("{ROOT}status/6a1c2b3d-0000-4000-8000-000000000000/"),
        "/taxii2/elsewhere/".to_owned(),
    ] {
        assert_error(&c.get(&path).await, StatusCode::NOT_FOUND);
    }
    // 400: malformed filters.
    for q in [
        "limit=0",
        "limit=x",
        "added_after=yesterday",
        "next=zz",
        "match[version]=latest",
        "limit=1&limit=2",
    ] {
        assert_error(
            &c.get(&format!("{objects}?{q}")).await,
            StatusCode::BAD_REQUEST,
        );
    }
    let post = |ct: &'static str, body: String| {
        c.request(Method::POST, &objects)
            .header("content-type", ct)
            .body(body)
    };
    let envelope = json!({ "objects": [indicator(1, "2026-01-01T00:00:00.000Z")] }).to_string();
    // 415: not a TAXII envelope media type.
    for ct in [
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
    ] {
        assert_error(
            &Client::send(post(ct, envelope.clone())).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    // 413: over max_content_length.
    let huge = json!({ "objects": [indicator(1, "2026-01-01T00:00:00.000Z")], "pad": "x".repeat(200_000) });
    assert_error(
        &Client::send(post(TAXII, huge.to_string())).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    // 422: not JSON, not an envelope, no objects.
    for body in [
        "not json",
        "[1,2]",
        "{}",
        "{\"objects\": []}",
        "{\"objects\": 3}",
    ] {
        assert_error(
            &Client::send(post(TAXII, body.into())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // 403: a read-only user, a read-only collection.
    let a = alice
        .reader()
        .post_objects(
            &green,
            &json!({ "objects": [indicator(1, "2026-01-01T00:00:00.000Z")] }),
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN);
    let red = collection_id(&c, "tlp-red").await;
    assert_error(
        &c.post_objects(&red, &serde_json::from_str(&envelope).unwrap())
            .await,
        StatusCode::FORBIDDEN,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_objects_come_back_verified_through_another_members_node() {
    let started = node::now();
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", None).await;
    let bob = serve(&w, "bob", None).await;
    let (a, b) = (alice.writer(), bob.reader());
    let green = collection_id(&a, "tlp-green").await;

    let v1 = indicator(1, "2026-01-01T00:00:00.000Z");
    let other = indicator(2, "2026-01-01T00:00:00.000Z");
    let mut bad = indicator(3, "2026-01-01T00:00:00.000Z");
    bad.as_object_mut().unwrap().remove("pattern");
    let posted = a
        .post_objects(
            &green,
            &json!({ "objects": [v1, other, bad, {"type": "nonsense"}] }),
        )
        .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
    assert_eq!(posted.content_type(), TAXII);
    assert_eq!(posted.body["total_count"], 4);
    assert_eq!(posted.body["failure_count"], 2);
    let done = a.wait_complete(posted.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            done["success_count"].as_u64(),
            done["pending_count"].as_u64()
        ),
        (Some(2), Some(0)),
        "{done}"
    );
    let failures = done["failures"].as_array().unwrap();
    assert!(
        failures[0]["message"]
            .as_str()
            .unwrap()
            .contains("`pattern`"),
        "{done}"
    );
    // Both valid objects went into one report: one statement for the envelope.
    let statements: Vec<&str> = done["successes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["message"].as_str().unwrap())
        .collect();
    assert_eq!(statements[0], statements[1]);

    // Bob's node, syncing in the background, serves them verified, with provenance.
    let got = b.wait_objects(&green, "", 2).await;
    assert_eq!(without_provenance(&got[0]), v1);
    assert_eq!(without_provenance(&got[1]), other);
    let p = &got[0]["extensions"][EXT];
    assert_eq!(p["extension_type"], "property-extension");
    assert_eq!(p["author"], "alice");
    assert_eq!(p["tlp"], "TLP:GREEN");
    assert!(p["log_index"].as_u64().unwrap() >= 1);
    assert_eq!(p["statement"].as_str().unwrap().len(), 64);

    // A new version, a duplicate re-post (not an error, no new statement), and the filters.
    let v2 = indicator(1, "2026-02-01T00:00:00.000Z");
    let done = a
        .post_and_wait(
            &green,
            &json!({ "objects": [v2, indicator(2, "2026-01-01T00:00:00.000Z")] }),
        )
        .await;
    assert_eq!(done["success_count"], 2, "{done}");
    let dup = done["successes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "indicator--8e2e2d2b-17d4-4cbf-938f-000000000002")
        .unwrap();
    assert!(
        dup["message"]
            .as_str()
            .unwrap()
            .starts_with("already shared"),
        "{done}"
    );
    b.wait_objects(&green, "?match[version]=all", 3).await;
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["objects"].as_array().map_or(vec![], |o| {
            o.iter()
                .map(|x| {
                    (
                        x["id"].as_str().unwrap()[35..].to_owned(),
                        x["modified"].as_str().unwrap()[..7].to_owned(),
                    )
                })
                .collect()
        })
    };
    let q = |s: &str| format!("{ROOT}collections/{green}/objects/?{s}");
    let last = b.get(&q("")).await;
    assert_eq!(
        ids(&last.body),
        [
            ("000000000002".into(), "2026-01".into()),
            ("000000000001".into(), "2026-02".into())
        ]
    );
    assert_eq!(ids(&b.get(&q("match[version]=first")).await.body).len(), 2);
    assert_eq!(ids(&b.get(&q("match[version]=2026-01-01T00:00:00.000Z&match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-000000000001")).await.body), [("000000000001".into(), "2026-01".into())]);
    assert_eq!(ids(&b.get(&q("match[type]=malware")).await.body).len(), 0);
    assert_eq!(b.get(&q("match[type]=malware")).await.body, json!({}));
    assert_eq!(
        ids(&b
            .get(&q("match[spec_version]=2.1&match[version]=all"))
            .await
            .body)
        .len(),
        3
    );

    // Headers, and pagination by `next` and by `added_after`.
    let all = b.get(&q("match[version]=all")).await;
    let first = all.header("x-taxii-date-added-first").unwrap();
    let lastd = all.header("x-taxii-date-added-last").unwrap();
    assert!(first.ends_with('Z') && first.len() == 27, "{first}");
    assert!(first < lastd);
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let page = b
            .get(&q(&format!("match[version]=all&limit=1{next}")))
            .await;
        assert_eq!(page.body["objects"].as_array().unwrap().len(), 1);
        seen.extend(ids(&page.body));
        if page.body["more"] == false {
            break;
        }
        next = format!("&next={}", page.body["next"].as_str().unwrap());
    }
    assert_eq!(seen, ids(&all.body));
    let after = b
        .get(&q(&format!("match[version]=all&added_after={first}")))
        .await;
    assert_eq!(
        ids(&after.body),
        [("000000000001".into(), "2026-02".into())]
    );

    // Manifest, one object, its versions.
    let m = b
        .get(&format!(
            "{ROOT}collections/{green}/manifest/?match[version]=all"
        ))
        .await;
    let recs = m.body["objects"].as_array().unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[2]["version"], "2026-02-01T00:00:00.000Z");
    assert_eq!(recs[2]["media_type"], "application/stix+json;version=2.1");
    assert!(m.header("x-taxii-date-added-last").is_some());
    // date_added is when the log took the statement, as the witness cosigned it (whole
    // seconds): after the test started, not after now, in log order (objects of one
    // report share it).
    let added: Vec<statement::Timestamp> = recs
        .iter()
        .map(|r| statement::Timestamp::parse(r["date_added"].as_str().unwrap()).unwrap())
        .collect();
    assert!(added.windows(2).all(|w| w[0] <= w[1]), "{recs:?}");
    assert!(added[0].unix() >= started.unix() - 1, "{recs:?}");
    assert!(added[2].unix() <= node::now().unix() + 1, "{recs:?}");
    let oid = "indicator--8e2e2d2b-17d4-4cbf-938f-000000000001";
    let one = b
        .get(&format!("{ROOT}collections/{green}/objects/{oid}/"))
        .await;
    assert_eq!(ids(&one.body), [("000000000001".into(), "2026-02".into())]);
    let vs = b
        .get(&format!(
            "{ROOT}collections/{green}/objects/{oid}/versions/"
        ))
        .await;
    assert_eq!(
        vs.body["versions"],
        json!(["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"])
    );
    assert!(vs.header("x-taxii-date-added-first").is_some());
    // Another collection does not show them.
    let clear = collection_id(&b, "tlp-clear").await;
    assert_eq!(
        b.get(&format!("{ROOT}collections/{clear}/objects/"))
            .await
            .body,
        json!({})
    );

    // DELETE: the log is append-only.
    let del = Client::send(a.request(
        Method::DELETE,
        &format!("{ROOT}collections/{green}/objects/{oid}/"),
    ))
    .await;
    assert_error(&del, StatusCode::FORBIDDEN);
    assert!(
        del.body["description"]
            .as_str()
            .unwrap()
            .contains("append-only")
    );
    let missing = Client::send(a.request(
        Method::DELETE,
        &format!(
            "{ROOT}collections/{green}/objects/indicator--8e2e2d2b-17d4-4cbf-938f-0000000000ff/"
        ),
    ))
    .await;
    assert_error(&missing, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_envelopes_are_packed_into_few_reports_and_huge_objects_go_as_blobs() {
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", None).await;
    let bob = serve(&w, "bob", None).await;
    let c = alice.writer();
    let clear = collection_id(&c, "tlp-clear").await;
    let mut objects: Vec<Value> = (0..200)
        .map(|i| {
            let mut o = indicator(1000 + i, "2026-01-01T00:00:00.000Z");
            o["description"] = json!("d".repeat(1500));
            o
        })
        .collect();
    let mut giant = indicator(5000, "2026-01-01T00:00:00.000Z");
    giant["description"] = json!("g".repeat(70_000));
    objects.push(giant.clone());
    let posted = c.post_objects(&clear, &json!({ "objects": objects })).await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
    let done = c.wait_complete(posted.body["id"].as_str().unwrap()).await;
    assert_eq!(done["success_count"], 201, "{done}");
    assert_eq!(done["failure_count"], 0);
    let mut statements: Vec<&str> = done["successes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["message"].as_str().unwrap())
        .collect();
    statements.dedup();
    // About 300 KB of objects: at least 5 entries of 64 KB and not many more, plus the
    // giant object's own report naming its blob.
    assert!(
        (6..=9).contains(&statements.len()),
        "{} reports",
        statements.len()
    );
    // Another member's node fetches the blob, checks its hash and serves the object.
    let got = bob.reader().wait_objects(&clear, "?limit=1000", 201).await;
    assert_eq!(got.len(), 201);
    let back = got.iter().find(|o| o["id"] == giant["id"]).unwrap();
    assert_eq!(without_provenance(back), giant);
}
