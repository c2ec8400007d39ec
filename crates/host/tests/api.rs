//! The real host on 127.0.0.1, driven over HTTP: admission, refusals, idempotent retries,
//! member-only reads, proofs against the published checkpoint, tiles byte-identical to
//! what the tlog crate computes, bad input, restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Client, found, message, now, open_checkpoint, start};
use reqwest::StatusCode;
use serde_json::Value;
use statement::Signed;
use statement::build::Draft;
use tlog::checkpoint::Checkpoint;
use tlog::proof::{verify_consistency, verify_inclusion};

fn hashes(v: &Value) -> Vec<tlog::Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| tlog::Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

/// Checks a receipt's proof against its checkpoint, signed by the log.
fn check_receipt(receipt: &Value, s: &Signed, vkey: &str) -> Checkpoint {
    assert_eq!(receipt["id"], s.id().to_hex());
    let cp = open_checkpoint(receipt["checkpoint"].as_str().unwrap(), vkey);
    let index = receipt["index"].as_u64().unwrap();
    verify_inclusion(
        &tlog::leaf_hash(s.leaf()),
        index,
        cp.size(),
        &hashes(&receipt["inclusion_proof"]),
        &cp.root(),
    )
    .unwrap();
    cp
}

#[tokio::test]
async fn admission_receipts_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a", "cert-b"]);
    let host = start(dir.path()).await;
    let c = Client::new(&host);

    let s1 = message(&mut g, 1, "hello");
    let (status, receipt) = c.post(&s1).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["index"], 1);
    check_receipt(&receipt, &s1, &g.vkey);

    // A retry is answered with the same index, never sequenced twice.
    let (status, again) = c.post(&s1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["index"], 1);
    assert_eq!(again["duplicate"], true);

    // A batch: two good, one with a seq gap (expected value given), one forged.
    let s2 = message(&mut g, 1, "two");
    let s3 = message(&mut g, 0, "three");
    let gap = g.members[1]
        .author
        .sign_at(Draft::message("gap"), &now(), 9, Some(s2.id()))
        .unwrap();
    let forged = statement::build::Author::new(
        common::ORIGIN,
        common::id("cert-a"),
        ed25519_dalek::SigningKey::from_bytes(&[99; 32]),
    );
    let forged = forged
        .sign_at(Draft::message("forged"), &now(), 3, Some(s3.id()))
        .unwrap();
    let (status, body) = c.post_batch(&[s2.clone(), s3.clone(), gap, forged]).await;
    assert_eq!(status, StatusCode::OK);
    let r = body["results"].as_array().unwrap();
    assert_eq!(
        (r[0]["status"].as_u64(), r[0]["index"].as_u64()),
        (Some(200), Some(2))
    );
    assert_eq!(
        (r[1]["status"].as_u64(), r[1]["index"].as_u64()),
        (Some(200), Some(3))
    );
    assert_eq!(
        (
            r[2]["status"].as_u64(),
            r[2]["error"].as_str(),
            r[2]["expected"].as_u64()
        ),
        (Some(409), Some("seq_gap"), Some(3))
    );
    assert_eq!(
        (r[3]["status"].as_u64(), r[3]["error"].as_str()),
        (Some(403), Some("bad_signature"))
    );
    check_receipt(&r[1], &s3, &g.vkey);

    // A reference to nothing, and a malformed body.
    let dangling = g.members[0]
        .author
        .sign_at(
            Draft::message("re").refs(&[statement::Digest::of(b"x")]),
            &now(),
            3,
            Some(s3.id()),
        )
        .unwrap();
    let (status, body) = c.post(&dangling).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_ref"))
    );
    let mut v = s2.to_value();
    v["statement"]["colour"] = "red".into();
    let (status, body) = c
        .post_raw(serde_json::to_vec(&v).unwrap(), "application/json")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed")),
        "{body}"
    );

    let metrics = c
        .http
        .get(format!("{}/metrics", c.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("detente_tree_size 4"), "{metrics}");
    assert!(
        metrics.contains("detente_refused_total{reason=\"seq_gap\"} 1"),
        "{metrics}"
    );

    // A request bigger than one signature batch (checked on the blocking pool, not the
    // signature threads): every statement in order, and the forged last one refused.
    let mut bulk: Vec<Signed> = (0..70)
        .map(|i| message(&mut g, 1, &format!("bulk {i}")))
        .collect();
    let last = bulk.pop().unwrap();
    let impostor = statement::build::Author::new(
        common::ORIGIN,
        common::id("cert-b"),
        ed25519_dalek::SigningKey::from_bytes(&[98; 32]),
    );
    let (seq, prev) = (last.statement().seq, last.statement().prev);
    bulk.push(
        impostor
            .sign_at(Draft::message("bulk forged"), &now(), seq, prev)
            .unwrap(),
    );
    let (status, body) = c.post_batch(&bulk).await;
    assert_eq!(status, StatusCode::OK);
    let r = body["results"].as_array().unwrap();
    for (i, result) in r[..69].iter().enumerate() {
        assert_eq!(
            (result["status"].as_u64(), result["index"].as_u64()),
            (Some(200), Some(4 + i as u64)),
            "{result}"
        );
    }
    assert_eq!(
        (r[69]["status"].as_u64(), r[69]["error"].as_str()),
        (Some(403), Some("bad_signature"))
    );
    host.stop().await;
}

#[tokio::test]
async fn reads_are_for_members_and_match_the_tlog_crate() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a", "cert-b"]);
    let host = start(dir.path()).await;
    let c = Client::new(&host);
    let mut leaves = vec![g.genesis.leaf().to_vec()];
    for i in 0..300 {
        let s = message(&mut g, i % 2, &format!("message {i}"));
        let (status, _) = c.post(&s).await;
        assert_eq!(status, StatusCode::OK);
        leaves.push(s.leaf().to_vec());
    }
    let member = &g.members[0];

    // Unsigned, unknown and badly signed reads are refused with a reason.
    let r = c
        .http
        .get(format!("{}/checkpoint", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("members only"));
    let stranger = common::Member {
        id: common::id("cert-z"),
        key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        author: statement::build::Author::new(
            "x",
            common::id("cert-z"),
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        ),
    };
    assert_eq!(
        c.get(&stranger, "/checkpoint").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let impostor = common::Member {
        id: common::id("cert-a"),
        key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        author: statement::build::Author::new(
            "x",
            common::id("cert-z"),
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        ),
    };
    assert_eq!(
        c.get(&impostor, "/checkpoint").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The checkpoint and tiles are what the tlog crate computes from the same entries.
    let note = c.get(member, "/checkpoint").await.text().await.unwrap();
    let cp = open_checkpoint(&note, &g.vkey);
    assert_eq!(cp.size(), 301);
    let leaf_hashes: Vec<tlog::Hash> = leaves.iter().map(|l| tlog::leaf_hash(l)).collect();
    assert_eq!(cp.root(), tlog::merkle::root_of(&leaf_hashes));
    let mut edge = tlog::tile::TileEdge::new();
    let update = edge.append(&leaf_hashes).unwrap();
    for (tile, data) in &update.tiles {
        let r = c.get(member, &format!("/{}", tile.path())).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", tile.path());
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            data.as_slice(),
            "{}",
            tile.path()
        );
    }
    let bundle = c
        .get(member, "/tile/entries/001.p/45")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        bundle.as_ref(),
        tlog::tile::encode_bundle(&leaves[256..])
            .unwrap()
            .as_slice()
    );
    assert_eq!(
        c.get(member, "/tile/0/002").await.status(),
        StatusCode::NOT_FOUND,
        "beyond the tree"
    );

    // Proofs verify against the published checkpoint.
    let (status, p) = c
        .get_json(member, "/v1/proof/inclusion?index=257&size=301")
        .await;
    assert_eq!(status, StatusCode::OK);
    verify_inclusion(
        &leaf_hashes[257],
        257,
        301,
        &hashes(&p["proof"]),
        &cp.root(),
    )
    .unwrap();
    let old_root = tlog::merkle::root_of(&leaf_hashes[..100]);
    let (_, p) = c
        .get_json(member, "/v1/proof/consistency?old=100&new=301")
        .await;
    verify_consistency(100, 301, &old_root, &cp.root(), &hashes(&p["proof"])).unwrap();
    let (status, _) = c
        .get_json(member, "/v1/proof/inclusion?index=301&size=301")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Statements by id, members' chains, blobs.
    let s = Signed::from_leaf(&leaves[42]).unwrap();
    let (_, found) = c
        .get_json(member, &format!("/v1/statements/{}", s.id()))
        .await;
    assert_eq!(found["index"], 42);
    assert_eq!(
        Signed::from_json(&serde_json::to_vec(&found["statement"]).unwrap()).unwrap(),
        s
    );
    let (_, m) = c.get_json(member, "/v1/members/cert-b").await;
    assert_eq!(m["last_seq"], 150);
    let blob = b"a bundle too large for one entry".to_vec();
    let sha = statement::Digest::of(&blob).to_hex();
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let put = |body: Vec<u8>| {
        let auth = host::auth::authorization(
            &member.id,
            &member.key,
            "PUT",
            &format!("/v1/blobs/{sha}"),
            unix,
        );
        c.http
            .put(format!("{}/v1/blobs/{sha}", c.base))
            .header("authorization", auth)
            .body(body)
            .send()
    };
    assert_eq!(
        put(b"something else".to_vec()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put(blob.clone()).await.unwrap().status(),
        StatusCode::CREATED
    );
    let back = c
        .get(member, &format!("/v1/blobs/{sha}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(back.as_ref(), blob.as_slice());
    let _ = STANDARD.encode(b"");
    host.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_host_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a"]);
    let host = start(dir.path()).await;
    let c = Client::new(&host);
    let s = message(&mut g, 0, "x");
    let leaf = s.leaf().to_vec();
    let cases: Vec<(Vec<u8>, &str, StatusCode)> = vec![
        (
            leaf[..leaf.len() / 2].to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![0xff, 0xfe, b'{'],
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![b' '; 10 << 20],
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            leaf.clone(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (b"[]".to_vec(), "application/json", StatusCode::BAD_REQUEST),
        (
            b"{\"statement\":{},\"sig\":\"!!\"}".to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, ct, expected) in cases {
        let (status, err) = c.post_raw(body, ct).await;
        assert_eq!(status, expected, "{err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    let mut garbage = s.to_value();
    garbage["sig"] = STANDARD.encode([0u8; 64]).into();
    let (status, err) = c
        .post_raw(serde_json::to_vec(&garbage).unwrap(), "application/json")
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("bad_signature"))
    );
    // Still serving.
    let (status, _) = c.post(&s).await;
    assert_eq!(status, StatusCode::OK);
    host.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_from_the_durable_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a"]);
    let host = start(dir.path()).await;
    let c = Client::new(&host);
    for i in 0..10 {
        assert_eq!(
            c.post(&message(&mut g, 0, &format!("{i}"))).await.0,
            StatusCode::OK
        );
    }
    let before = c
        .get(&g.members[0], "/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    host.stop().await;

    let host = start(dir.path()).await;
    let c = Client::new(&host);
    let after = c
        .get(&g.members[0], "/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(before, after);
    let (status, r) = c.post(&message(&mut g, 0, "after restart")).await;
    assert_eq!((status, r["index"].as_u64()), (StatusCode::OK, Some(11)));
    host.stop().await;

    // A different genesis for the same directory is refused with an explanation.
    let other = tempfile::tempdir().unwrap();
    let _ = found(other.path(), &["cert-x"]);
    let mut cfg = common::config(dir.path());
    cfg.genesis = Some(other.path().join("genesis.json"));
    let err = host::Host::start(cfg)
        .await
        .err()
        .expect("a foreign genesis must be refused");
    assert!(
        err.to_string().contains("genesis") || err.to_string().contains("key"),
        "{err}"
    );
}

#[tokio::test]
async fn members_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a"]);
    let mut cfg = common::config(dir.path());
    cfg.limits.statements_per_member_per_second = 1;
    cfg.limits.statements_per_member_burst = 3;
    let host = host::Host::start(cfg).await.unwrap();
    let c = Client::new(&host);
    let batch: Vec<Signed> = (0..5)
        .map(|i| message(&mut g, 0, &format!("{i}")))
        .collect();
    let (_, body) = c.post_batch(&batch).await;
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    host.stop().await;
}
