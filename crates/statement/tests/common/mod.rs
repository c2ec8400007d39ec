//! A working group for tests: founders with keys, a group, and helpers to post.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use serde_json::json;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, MemberEntry, Rules, WitnessPolicy};
use statement::{Applied, Group, MemberId, MemberKey, Rejection, SealKey, Signed, Timestamp};

pub const ORIGIN: &str = "example.org/detente/wg-1";

/// 2026-11-02T00:00:00Z plus `minutes`.
pub fn t(minutes: i64) -> Timestamp {
    Timestamp::from_unix(1_793_577_600 + minutes * 60).unwrap()
}

pub fn id(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

/// A deterministic signing key per name and generation.
pub fn signing_key(name: &str, generation: u8) -> SigningKey {
    let mut seed = tlog::sha256(name.as_bytes()).0;
    seed[0] ^= generation;
    SigningKey::from_bytes(&seed)
}

/// The host's checkpoint key for ORIGIN.
pub fn log_signer() -> tlog::note::Signer {
    tlog::note::Signer::from_seed(tlog::note::KeyName::new(ORIGIN).unwrap(), &[7u8; 32])
}

pub struct Party {
    pub author: Author,
    pub identity: age::x25519::Identity,
    pub entry: MemberEntry,
}

impl Party {
    pub fn new(name: &str, group: &str) -> Party {
        let key = signing_key(name, 0);
        let identity = age::x25519::Identity::generate();
        let entry = MemberEntry {
            id: id(name),
            name: format!("{} CERT", name.to_uppercase()),
            key: MemberKey::new(id(name), key.verifying_key()),
            seal: SealKey::from(identity.to_public()),
            contact: Some(format!("duty@{name}.example")),
        };
        Party {
            author: Author::new(group, id(name), key),
            identity,
            entry,
        }
    }

    pub fn id(&self) -> MemberId {
        self.entry.id.clone()
    }

    pub fn seal(&self) -> SealKey {
        self.entry.seal.clone()
    }
}

pub struct Wg {
    pub group: Group,
    pub parties: Vec<Party>,
    pub log: Vec<Signed>,
}

impl Wg {
    /// A group founded by `names` with the given member quorum.
    pub fn founded(names: &[&str], quorum: u32) -> Wg {
        let mut parties: Vec<Party> = names.iter().map(|n| Party::new(n, ORIGIN)).collect();
        let document = document(&parties, quorum);
        let signatures = parties
            .iter()
            .map(|p| document.sign(p.id(), p.author.key()).unwrap())
            .collect();
        let g = genesis(document, signatures, &mut parties[0].author, &t(0)).unwrap();
        let mut wg = Wg {
            group: Group::new(),
            parties,
            log: Vec::new(),
        };
        wg.group.apply(&g).unwrap();
        wg.log.push(g);
        wg
    }

    pub fn party(&mut self, name: &str) -> &mut Party {
        self.parties
            .iter_mut()
            .find(|p| p.entry.id.as_str() == name)
            .unwrap()
    }

    /// Signs `draft` as `name` at minute `at` and applies it; panics if refused.
    pub fn post(&mut self, name: &str, draft: Draft, at: i64) -> Applied {
        self.try_post(name, draft, at)
            .unwrap_or_else(|r| panic!("{name}'s statement refused: {r}"))
    }

    /// Signs and applies; on refusal the author's chain is rewound.
    pub fn try_post(&mut self, name: &str, draft: Draft, at: i64) -> Result<Applied, Rejection> {
        let signed = self.party(name).author.sign(draft, &t(at)).unwrap();
        match self.group.apply(&signed) {
            Ok(applied) => {
                self.log.push(signed);
                Ok(applied)
            }
            Err(r) => {
                let key = self.party(name).author.key().clone();
                let resumed = Author::resume(&self.group, id(name), key);
                self.party(name).author = resumed;
                Err(r)
            }
        }
    }

    pub fn seal_keys(&self, names: &[&str]) -> Vec<SealKey> {
        names
            .iter()
            .map(|n| {
                self.parties
                    .iter()
                    .find(|p| p.entry.id.as_str() == *n)
                    .unwrap()
                    .seal()
            })
            .collect()
    }
}

pub fn document(parties: &[Party], quorum: u32) -> GenesisDocument {
    let log_key = log_signer().verifier().to_vkey();
    GenesisDocument {
        name: "Joint cyber security working group".into(),
        origin: ORIGIN.into(),
        log_key,
        founders: parties.iter().map(|p| p.entry.clone()).collect(),
        rules: Rules {
            member_quorum: quorum,
            witnesses: WitnessPolicy::default(),
        },
    }
}

/// A small valid STIX 2.1 bundle marked TLP:GREEN.
pub fn bundle() -> serde_json::Value {
    json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [{
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-01T10:00:00.000Z",
            "modified": "2026-11-01T10:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": "2026-11-01T10:00:00Z",
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
        }, {
            "type": "ipv4-addr",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.7"
        }]
    })
}
