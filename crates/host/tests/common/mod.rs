//! A founded group with a host on 127.0.0.1, and a client that signs its reads.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use host::{Host, HostConfig};
use reqwest::StatusCode;
use serde_json::Value;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, MemberEntry, Rules, WitnessPolicy};
use statement::{MemberId, MemberKey, SealKey, Signed, Timestamp};

pub const ORIGIN: &str = "test.example/detente/wg";

/// Opens a checkpoint note with the log's verifier key; panics unless it verifies.
pub fn open_checkpoint(note: &str, vkey: &str) -> tlog::checkpoint::Checkpoint {
    use tlog::note::{Ed25519Verifier, VerifierSet};
    let known =
        VerifierSet::from_verifiers([Ed25519Verifier::from_vkey(vkey).unwrap().into()]).unwrap();
    let origin = tlog::checkpoint::Origin::new(ORIGIN).unwrap();
    tlog::checkpoint::Checkpoint::open(note.as_bytes(), &origin, &known)
        .unwrap()
        .checkpoint()
        .clone()
}

pub fn id(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

pub fn now() -> Timestamp {
    Timestamp::from_unix(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap()
}

pub struct Member {
    pub id: MemberId,
    pub key: SigningKey,
    pub author: Author,
}

pub struct Group {
    pub members: Vec<Member>,
    pub vkey: String,
    pub genesis: Signed,
}

/// Creates the host key in `data` and a genesis founded by `names` naming it.
pub fn found(data: &Path, names: &[&str]) -> Group {
    let (signer, _) = host::keys::load_or_create(data, ORIGIN).unwrap();
    let vkey = signer.verifier().to_vkey();
    let mut members: Vec<Member> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
            Member {
                id: id(n),
                key: key.clone(),
                author: Author::new(ORIGIN, id(n), key),
            }
        })
        .collect();
    let seal = SealKey::from(age::x25519::Identity::generate().to_public());
    let document = GenesisDocument {
        name: "test group".into(),
        origin: ORIGIN.into(),
        log_key: vkey.clone(),
        founders: members
            .iter()
            .map(|m| MemberEntry {
                id: m.id.clone(),
                name: m.id.to_string(),
                key: MemberKey::new(m.id.clone(), m.key.verifying_key()),
                seal: seal.clone(),
                contact: None,
            })
            .collect(),
        rules: Rules {
            member_quorum: 1,
            witnesses: WitnessPolicy::default(),
        },
    };
    let sigs = members
        .iter()
        .map(|m| document.sign(m.id.clone(), &m.key).unwrap())
        .collect();
    let g = genesis(document, sigs, &mut members[0].author, &now()).unwrap();
    std::fs::write(data.join("genesis.json"), g.leaf()).unwrap();
    Group {
        members,
        vkey,
        genesis: g,
    }
}

pub fn config(data: &Path) -> HostConfig {
    let mut c = HostConfig::new(data);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.genesis = Some(data.join("genesis.json"));
    c.batch.interval_ms = 10;
    c
}

pub async fn start(data: &Path) -> Host {
    Host::start(config(data)).await.unwrap()
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(host: &Host) -> Client {
        Client {
            base: format!("http://{}", host.addr),
            http: reqwest::Client::new(),
        }
    }

    pub async fn post_raw(&self, body: Vec<u8>, content_type: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/v1/statements", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, s: &Signed) -> (StatusCode, Value) {
        self.post_raw(s.leaf().to_vec(), "application/json").await
    }

    pub async fn post_batch(&self, batch: &[Signed]) -> (StatusCode, Value) {
        let body =
            serde_json::to_vec(&batch.iter().map(Signed::to_value).collect::<Vec<_>>()).unwrap();
        self.post_raw(body, "application/json").await
    }

    /// A read signed by `who`.
    pub async fn get(&self, who: &Member, path: &str) -> reqwest::Response {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let auth = host::auth::authorization(&who.id, &who.key, "GET", path, unix);
        self.http
            .get(format!("{}{path}", self.base))
            .header("authorization", auth)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, who: &Member, path: &str) -> (StatusCode, Value) {
        let r = self.get(who, path).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// Signs a message as member `i` of `g`.
pub fn message(g: &mut Group, i: usize, text: &str) -> Signed {
    g.members[i]
        .author
        .sign(Draft::message(text), &now())
        .unwrap()
}
