//! A Détente member's node: the only thing the member's people trust.
//!
//! It holds the member's keys ([`keys`]), keeps a verified replica of the log
//! ([`replica`]), syncs by verifying everything before storing anything ([`sync`]), posts
//! statements and checks their inclusion, opens what is sealed to the member, and audits
//! the whole log from scratch ([`Node::audit`]).
//!
//! The group's rules are checked by the same fold the host runs, in its lean form
//! ([`statement::group::Rules`]) that looks earlier statements up in the replica, so a
//! sync or an audit takes the same memory whatever the log's size ([`fold`]). The full
//! [`Group`] that views read is folded from the replica when first asked for
//! ([`Node::group`]).

pub mod client;
pub mod console;
mod fold;
mod ingest;
pub mod keys;
pub mod precheck;
pub mod replica;
pub mod serve;
pub mod sync;
pub mod taxii;
pub mod witnessing;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use statement::build::{Author, Draft};
use statement::group::{Rules, SignatureCheck};
use statement::kind::{Body, GenesisDocument};
use statement::seal::{SealError, unseal};
use statement::{Group, MemberId, SealKey, Signed, StatementId, Timestamp};
use tlog::checkpoint::Origin;
use tlog::merkle::Frontier;
use tlog::note::{Ed25519Verifier, VerifierSet};
use tlog::proof::verify_inclusion;

pub use client::{HostClient, Submitted};
pub use keys::MemberKeys;
pub use sync::{Misbehaviour, Report, Synced};

use replica::Replica;

/// File name of the member's key file in the node's directory.
pub const KEY_FILE: &str = "member.key";
/// File name of the replica.
pub const REPLICA_FILE: &str = "replica.sqlite";

/// Why a node operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The host misbehaved; the report says how, and where the evidence is.
    #[error("{}: evidence written to {}", .0.message, .0.evidence.display())]
    HostMisbehaved(Box<Report>),
    /// The checkpoint lacks the cosignatures the witness policy requires (the host may not
    /// reach its witnesses); nothing was accepted.
    #[error(
        "the host's checkpoint of size {size} carries {got} of the {required} witness cosignatures the group requires; not accepted (retry later)"
    )]
    Unwitnessed {
        /// Its size.
        size: u64,
        /// Valid policy cosignatures on it.
        got: usize,
        /// Cosignatures required.
        required: usize,
    },
    /// The host refused a statement.
    #[error("the host refused the statement ({code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The rejection's code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The host could not be reached or answered nonsense.
    #[error("host: {0}")]
    Network(String),
    /// Keys are missing or malformed.
    #[error("keys: {0}")]
    Keys(String),
    /// The node directory is not set up, or set up differently.
    #[error("{0}")]
    Setup(String),
    /// The replica is inconsistent.
    #[error("{0}")]
    Replica(String),
    /// A statement could not be built.
    #[error("statement: {0}")]
    Statement(String),
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The filesystem failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl NodeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> NodeError {
        NodeError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A member's node.
pub struct Node {
    data: PathBuf,
    replica: Replica,
    /// The rules' state as of the verified checkpoint.
    rules: Rules,
    /// The full group for views, folded on first use; emptied when a sync fails.
    views: OnceLock<Group>,
    frontier: Frontier,
    origin: Origin,
    known: VerifierSet,
    policy: witnessing::Policy,
    genesis: GenesisDocument,
    keys: MemberKeys,
    client: HostClient,
}

/// What posting a statement gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// Its id.
    pub id: StatementId,
    /// Its index in the log.
    pub index: u64,
}

/// The result of an audit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Audit {
    /// Statements re-verified.
    pub statements: u64,
    /// The verified checkpoint's size.
    pub size: u64,
}

/// The current time as a statement timestamp.
pub fn now() -> Timestamp {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp::from_unix_saturating(unix)
}

fn genesis_document(genesis: &Signed) -> Result<GenesisDocument, NodeError> {
    match Body::parse(genesis.statement()) {
        Ok(Body::Genesis(g)) => Ok(g.document),
        Ok(_) => Err(NodeError::Setup(
            "the genesis file holds a statement that is not a genesis".into(),
        )),
        Err(e) => Err(NodeError::Setup(format!(
            "the genesis file is not valid: {e}"
        ))),
    }
}

impl Node {
    /// Sets up a node in `data` for the group founded by `genesis`, talking to `host`, with
    /// the member's keys (copied into the directory, owner-only).
    pub fn init(
        data: &Path,
        host: &str,
        genesis: &[u8],
        keys: MemberKeys,
    ) -> Result<Node, NodeError> {
        let genesis =
            Signed::from_json(genesis).map_err(|e| NodeError::Setup(format!("genesis: {e}")))?;
        genesis_document(&genesis)?;
        std::fs::create_dir_all(data).map_err(|e| NodeError::io(data, e))?;
        let replica_path = data.join(REPLICA_FILE);
        if replica_path.exists() {
            return Err(NodeError::Setup(format!(
                "{} already holds a node",
                data.display()
            )));
        }
        keys.save(&data.join(KEY_FILE))?;
        let replica = Replica::open(&replica_path)?;
        replica.set_meta("host", host.as_bytes())?;
        replica.set_meta("genesis", genesis.leaf())?;
        drop(replica);
        Node::open(data)
    }

    /// Opens the node in `data`, folding its replica through the rules only (what a sync,
    /// an audit or a post needs); the group views read is folded when first asked for.
    pub fn open(data: &Path) -> Result<Node, NodeError> {
        Node::open_with(data, false)
    }

    /// Opens the node in `data` for views: the full group is folded at once, and the
    /// rules' state taken from it instead of a second fold.
    pub fn open_for_views(data: &Path) -> Result<Node, NodeError> {
        Node::open_with(data, true)
    }

    fn open_with(data: &Path, views: bool) -> Result<Node, NodeError> {
        let replica_path = data.join(REPLICA_FILE);
        if !replica_path.exists() {
            return Err(NodeError::Setup(format!(
                "{} holds no node: run `detente node init` first",
                data.display()
            )));
        }
        let replica = Replica::open(&replica_path)?;
        let keys = MemberKeys::load(&data.join(KEY_FILE))?;
        let host = replica
            .meta_text("host")?
            .ok_or_else(|| NodeError::Replica("no host in the replica".into()))?;
        let genesis = replica
            .meta("genesis")?
            .ok_or_else(|| NodeError::Replica("no genesis in the replica".into()))?;
        let genesis = Signed::from_leaf(&genesis).map_err(|e| NodeError::Replica(e.to_string()))?;
        let document = genesis_document(&genesis)?;
        let origin =
            Origin::new(document.origin.clone()).map_err(|e| NodeError::Setup(e.to_string()))?;
        let log_key = Ed25519Verifier::from_vkey(&document.log_key)
            .map_err(|e| NodeError::Setup(e.to_string()))?;
        let policy = witnessing::Policy::from_genesis(&document.rules.witnesses)?;
        let known =
            VerifierSet::from_verifiers(std::iter::once(log_key.into()).chain(policy.verifiers()))
                .map_err(|e| NodeError::Setup(e.to_string()))?;
        let client = HostClient::new(&host, keys.member.clone(), keys.signing.clone())?;
        let mut node = Node {
            data: data.to_path_buf(),
            replica,
            rules: Rules::new(),
            views: OnceLock::new(),
            frontier: Frontier::new(),
            origin,
            known,
            policy,
            genesis: document,
            keys,
            client,
        };
        let started = std::time::Instant::now();
        node.rules = match views {
            true => Rules::of(node.group()?),
            false => fold::reopen(&node.replica)?,
        };
        tracing::info!(
            statements = node.rules.size(),
            views,
            ms = started.elapsed().as_millis() as u64,
            "folded the replica"
        );
        node.frontier = node.replica.frontier()?;
        if let Some(first) = node.replica.leaf(0)?
            && first != genesis.leaf()
        {
            return Err(NodeError::Replica(
                "entry 0 of the replica is not the pinned genesis".into(),
            ));
        }
        Ok(node)
    }

    /// The group, as of the last verified checkpoint, with every record views read. It is
    /// folded from the replica on first use (its memory grows with the log), then kept up
    /// to date by [`Node::sync`].
    pub fn group(&self) -> Result<&Group, NodeError> {
        if let Some(g) = self.views.get() {
            return Ok(g);
        }
        let mut group = Group::new();
        self.replica.for_each_leaf(|i, leaf| {
            let s = Signed::from_leaf(leaf)
                .map_err(|e| NodeError::Replica(format!("entry {i}: {e}")))?;
            group
                .apply_with(&s, SignatureCheck::Trusted)
                .map(|_| ())
                .map_err(|r| NodeError::Replica(format!("entry {i}: {r}")))
        })?;
        Ok(self.views.get_or_init(|| group))
    }

    /// The state the group's rules consult (members and their keys and chains, proposals,
    /// agreements, membership changes), as of the last verified checkpoint. Kept in memory
    /// whatever the log's size; see [`Rules`].
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The genesis document.
    pub fn genesis(&self) -> &GenesisDocument {
        &self.genesis
    }

    /// This node's member.
    pub fn member(&self) -> &MemberId {
        &self.keys.member
    }

    /// The node's directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The latest verified checkpoint.
    pub fn verified(&self) -> Result<Option<replica::Verified>, NodeError> {
        self.replica.verified()
    }

    /// A statement of the verified log, with its index.
    pub fn statement(&self, id: &StatementId) -> Result<Option<(u64, Signed)>, NodeError> {
        let Some(index) = self.replica.index_of(id)? else {
            return Ok(None);
        };
        let leaf = self
            .replica
            .leaf(index)?
            .ok_or_else(|| NodeError::Replica(format!("entry {index} missing")))?;
        let s = Signed::from_leaf(&leaf).map_err(|e| NodeError::Replica(e.to_string()))?;
        Ok(Some((index, s)))
    }

    /// Opens a sealed statement addressed to this member (or written by it): `None` if it
    /// is not sealed or not for this member.
    pub fn open_sealed(&self, s: &Signed) -> Option<Result<Value, SealError>> {
        let st = s.statement();
        let sealed = st.sealed.as_ref()?;
        let for_us =
            st.author == self.keys.member || st.to.iter().flatten().any(|m| *m == self.keys.member);
        for_us.then(|| unseal(sealed, &self.keys.identity))
    }

    /// Seals `draft` to `to` and this member.
    pub fn seal(&self, draft: Draft, to: &[MemberId]) -> Result<Draft, NodeError> {
        let mut keys: Vec<SealKey> = Vec::new();
        for m in to.iter().chain(std::iter::once(&self.keys.member)) {
            let member = self
                .rules
                .member(m)
                .filter(|x| x.active)
                .ok_or_else(|| NodeError::Statement(format!("{m} is not a current member")))?;
            keys.push(member.seal.clone());
        }
        draft
            .seal(to, &keys.iter().collect::<Vec<_>>())
            .map_err(|e| NodeError::Statement(e.to_string()))
    }

    /// Signs and submits `drafts` in order as one batch, checks each receipt's inclusion
    /// proof against the log's signed checkpoint, then syncs.
    pub async fn post_all(&mut self, drafts: Vec<Draft>) -> Result<Vec<Posted>, NodeError> {
        self.sync().await?;
        let mut author = Author::resume_in(
            &self.rules,
            self.keys.member.clone(),
            self.keys.signing.clone(),
        );
        let time = now();
        let signed = drafts
            .into_iter()
            .map(|d| {
                author
                    .sign(d, &time)
                    .map_err(|e| NodeError::Statement(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answers = self.client.submit(&signed).await?;
        let mut posted = Vec::with_capacity(signed.len());
        for (s, answer) in signed.iter().zip(answers) {
            posted.push(self.check_receipt(s, answer)?);
        }
        self.sync().await?;
        Ok(posted)
    }

    /// Signs and submits one statement; see [`Node::post_all`].
    pub async fn post(&mut self, draft: Draft) -> Result<Posted, NodeError> {
        let mut all = self.post_all(vec![draft]).await?;
        all.pop()
            .ok_or_else(|| NodeError::Network("no answer".into()))
    }

    fn check_receipt(&self, s: &Signed, answer: Submitted) -> Result<Posted, NodeError> {
        let r = match answer {
            Submitted::Receipt(r) => r,
            Submitted::Refused(status, e) => {
                let code = e["error"].as_str().unwrap_or("refused").to_owned();
                let message = e["message"].as_str().unwrap_or("").to_owned();
                return Err(NodeError::Refused {
                    status,
                    code,
                    message,
                });
            }
        };
        let bad =
            |what: &str| NodeError::Network(format!("the host's receipt is not valid: {what}"));
        let index = r["index"].as_u64().ok_or_else(|| bad("no index"))?;
        let note = r["checkpoint"]
            .as_str()
            .ok_or_else(|| bad("no checkpoint"))?;
        let cp = self.open_checkpoint(note.as_bytes()).map_err(|e| bad(&e))?;
        let proof = r["inclusion_proof"]
            .as_array()
            .ok_or_else(|| bad("no proof"))?
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(tlog::Hash::from_base64)
                    .ok_or_else(|| bad("proof hash"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        verify_inclusion(
            &tlog::leaf_hash(s.leaf()),
            index,
            cp.size(),
            &proof,
            &cp.root(),
        )
        .map_err(|e| bad(&format!("inclusion proof: {e}")))?;
        Ok(Posted { id: s.id(), index })
    }

    /// Re-derives the group's rules from the replica from scratch — every signature, every
    /// rule, the tree — and checks them against the verified checkpoint and the state this
    /// node holds, in the same memory whatever the log's size. `progress(done, total)` is
    /// called as it goes.
    pub fn audit(&self, mut progress: impl FnMut(u64, u64)) -> Result<Audit, NodeError> {
        let total = self.replica.len()?;
        let mut rules = Rules::new();
        let mut frontier = Frontier::new();
        fold::fold_from(
            &mut rules,
            &self.replica,
            fold::Signatures::Verify,
            |from| self.replica.leaves(from, precheck::CHUNK),
            |_| {},
            |start, leaves, _| {
                for leaf in leaves {
                    frontier
                        .append(tlog::leaf_hash(leaf), |_, _| {})
                        .map_err(|e| NodeError::Replica(e.to_string()))?;
                }
                progress(start + leaves.len() as u64, total);
                Ok(())
            },
        )
        .map_err(fold::FoldStop::in_replica)?;
        let v = self
            .replica
            .verified()?
            .ok_or_else(|| NodeError::Replica("nothing verified yet: run sync".into()))?;
        let cp = self
            .open_checkpoint(&v.note)
            .map_err(|e| NodeError::Replica(format!("stored checkpoint: {e}")))?;
        if frontier.size() != cp.size() || frontier.root() != cp.root() {
            return Err(NodeError::Replica(
                "the stored entries do not hash to the stored checkpoint".into(),
            ));
        }
        if rules != self.rules {
            return Err(NodeError::Replica(
                "the group re-derived from scratch differs from the node's".into(),
            ));
        }
        Ok(Audit {
            statements: total,
            size: cp.size(),
        })
    }

    /// A statement's raw leaf as base64 (for evidence bundles).
    pub fn leaf_base64(&self, index: u64) -> Result<Option<String>, NodeError> {
        Ok(self.replica.leaf(index)?.map(|l| STANDARD.encode(l)))
    }
}
