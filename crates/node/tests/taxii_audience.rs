//! TAXII 2.1 on the node (issue 7), who reads what: sealed TLP levels show only on their
//! addressees' nodes, and thread and request collections show and take answers, sealed
//! to the thread's or request's audience when their marking requires it.
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

use harness::{ROOT, assert_error, collection_id, indicator, serve, without_provenance};
use reqwest::StatusCode;
use serde_json::json;

const EXT: &str = node::taxii::EXTENSION_ID;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_reports_show_only_for_their_addressees() {
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", Some("[seal_to]\namber = [\"bob\"]\n")).await;
    let bob = serve(&w, "bob", None).await;
    let carol = serve(&w, "carol", None).await;
    let amber = collection_id(&alice.writer(), "tlp-amber").await;
    let green = collection_id(&alice.writer(), "tlp-green").await;

    let mut marked = indicator(7, "2026-01-01T00:00:00.000Z");
    marked["object_marking_refs"] =
        json!(["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]);
    // Marked AMBER: refused by the GREEN collection, with where to post it.
    let wrong = alice
        .writer()
        .post_objects(&green, &json!({ "objects": [marked.clone()] }))
        .await;
    assert_eq!(wrong.body["failure_count"], 1);
    assert!(
        wrong.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("tlp-amber"),
        "{}",
        wrong.body
    );
    let done = alice
        .writer()
        .post_and_wait(&amber, &json!({ "objects": [marked.clone()] }))
        .await;
    assert_eq!(done["success_count"], 1, "{done}");

    // A sealed object too large for an entry: its blob is sealed too.
    let mut giant = indicator(9, "2026-01-01T00:00:00.000Z");
    giant["description"] = json!("s".repeat(70_000));
    let done = alice
        .writer()
        .post_and_wait(&amber, &json!({ "objects": [giant.clone()] }))
        .await;
    assert_eq!(done["success_count"], 1, "{done}");

    let got = bob.reader().wait_objects(&amber, "", 2).await;
    assert_eq!(without_provenance(&got[0]), marked);
    assert_eq!(without_provenance(&got[1]), giant);
    assert_eq!(got[0]["extensions"][EXT]["sealed"], true);
    // Carol has synced past it (a later clear post shows) but cannot read it.
    alice
        .writer()
        .post_and_wait(
            &green,
            &json!({ "objects": [indicator(8, "2026-01-01T00:00:00.000Z")] }),
        )
        .await;
    carol.reader().wait_objects(&green, "", 1).await;
    let hidden = carol
        .reader()
        .get(&format!("{ROOT}collections/{amber}/objects/"))
        .await;
    assert_eq!(hidden.body, json!({}));
    // The author's own node reads it back.
    alice.reader().wait_objects(&amber, "", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_and_request_collections_show_and_take_answers_on_demand() {
    use statement::Tlp;
    use statement::build::Draft;
    let (w, _witnesses) = harness::world().await;
    let alice = serve(&w, "alice", None).await;
    let mut bob = w.writer("bob").await;
    let bundle = |n: u64| {
        json!({
            "type": "bundle",
            "id": format!("bundle--6a1c2b3d-0000-4000-8000-{n:012x}"),
            "objects": [indicator(n, "2026-01-01T00:00:00.000Z")],
        })
    };
    let root = bob
        .post(Draft::thread("Campaign", "VPN intrusions"))
        .await
        .unwrap()
        .id;
    let due = statement::Timestamp::from_unix(node::now().unix() + 3600).unwrap();
    let request = bob
        .post(Draft::request("IOCs?", "Please share", &due).to(&[world::id("alice")]))
        .await
        .unwrap()
        .id;
    bob.post(Draft::report(Tlp::Green, "in thread", bundle(21)).refs(&[root]))
        .await
        .unwrap();
    bob.post(Draft::report(Tlp::Green, "answer", bundle(22)).refs(&[request]))
        .await
        .unwrap();

    let c = alice.reader();
    let thread = format!("thread-{}", root.to_hex());
    let got = c.wait_objects(&thread, "", 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        without_provenance(&got[0]),
        indicator(21, "2026-01-01T00:00:00.000Z")
    );
    assert_eq!(got[0]["extensions"][EXT]["author"], "bob");
    let req = format!("request-{}", request.to_hex());
    let got = c.wait_objects(&req, "", 1).await;
    assert_eq!(
        without_provenance(&got[0]),
        indicator(22, "2026-01-01T00:00:00.000Z")
    );
    // The resource, by alias and by its id; writable for a user who may post.
    let res = c.get(&format!("{ROOT}collections/{req}/")).await;
    assert_eq!(res.body["can_write"], false, "a read-only user");
    let id = res.body["id"].as_str().unwrap();
    assert_eq!(
        c.get(&format!("{ROOT}collections/{id}/")).await.body["id"],
        id
    );
    let w_res = alice
        .writer()
        .get(&format!("{ROOT}collections/{id}/"))
        .await;
    assert_eq!(w_res.body["can_write"], true);
    assert_error(
        &c.post_objects(
            &req,
            &json!({ "objects": [indicator(23, "2026-01-01T00:00:00.000Z")] }),
        )
        .await,
        StatusCode::FORBIDDEN,
    );

    // Alice answers bob's request through TAXII: a GREEN object in the clear, an AMBER one
    // sealed to the requester only.
    let mut amber = indicator(24, "2026-01-01T00:00:00.000Z");
    amber["object_marking_refs"] =
        json!(["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]);
    let green_answer = indicator(23, "2026-01-01T00:00:00.000Z");
    let done = alice
        .writer()
        .post_and_wait(
            id,
            &json!({ "objects": [green_answer.clone(), amber.clone()] }),
        )
        .await;
    assert_eq!(done["success_count"], 2, "{done}");
    let bob_served = serve(&w, "bob", None).await;
    let carol = serve(&w, "carol", None).await;
    let seen = bob_served.reader().wait_objects(&req, "", 3).await;
    let answer = seen.iter().find(|o| o["id"] == amber["id"]).unwrap();
    assert_eq!(without_provenance(answer), amber);
    assert_eq!(answer["extensions"][EXT]["tlp"], "TLP:AMBER");
    assert_eq!(answer["extensions"][EXT]["sealed"], true);
    let carol_sees = carol.reader().wait_objects(&req, "", 2).await;
    assert!(carol_sees.iter().all(|o| o["id"] != amber["id"]));
    assert!(carol_sees.iter().any(|o| o["id"] == green_answer["id"]));
    // The answer counts in the group's record of the request addressed to alice.
    bob.sync().await.unwrap();
    let answered = &bob.group().unwrap().requests()[&request].answers;
    assert!(answered.contains_key(&statement::MemberId::new("alice").unwrap()));

    // The green collection shows the clear ones; an unknown thread is 404.
    let green = collection_id(&c, "tlp-green").await;
    assert_eq!(c.wait_objects(&green, "", 3).await.len(), 3);
    let unknown = format!("{ROOT}collections/thread-{}/", "ab".repeat(32));
    assert_error(&c.get(&unknown).await, StatusCode::NOT_FOUND);
}
