//! Starting the sequencer from its stores, and rebuilding it after a failure.
//!
//! The committed head (state store) is the truth. At start the host replays every entry
//! bundle of the head's tree through the fold and the tree, and refuses to start unless
//! the entries reproduce the head's root and the head's checkpoint is signed by this log's
//! key. The published `checkpoint` file must then be the head's, or an older one (the
//! crash window between commit and publish), which is replaced; anything else — a
//! published checkpoint the state does not know, missing bundles, an entry the rules
//! refuse — stops the host with an explanation rather than a guess.

use std::sync::Arc;

use statement::Signed;
use statement::group::SignatureCheck;
use store::{Head, Lease, StateStore, TileStore};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Signer, VerifierSet};
use tlog::tile::{TileEdge, bundles_for_size, parse_bundle};

use crate::fold::Fold;
use crate::lease::{Role, Tenure};
use crate::sequencer::Sequencer;
use crate::tiles::TileCache;
use crate::witnesses::Witnesses;
use crate::{HostError, Shared};

/// Where the sequencer's stores and keys come from, for [`Sequencer::open`].
pub struct Opening {
    /// The read path.
    pub tiles: Arc<dyn TileStore>,
    /// The cache of recently written tiles (shared with the HTTP handlers' proofs).
    pub cache: Arc<TileCache>,
    /// The sequencer's state.
    pub state: Arc<dyn StateStore>,
    /// The log's key.
    pub signer: Signer,
    /// What the HTTP handlers read.
    pub shared: Arc<Shared>,
    /// The genesis given at start, if any.
    pub genesis: Option<Signed>,
    /// For the witnesses' HTTP client.
    pub runtime: tokio::runtime::Handle,
    /// This host's URL for the others to forward submissions to.
    pub address: String,
    /// The lease's length.
    pub lease: std::time::Duration,
}

impl Sequencer {
    /// Opens the log in the stores. If this host gets the lease it leads: it repairs the
    /// published checkpoint if needed and, on an empty log, sequences `genesis` as entry
    /// 0. Otherwise it follows the leader from the stores.
    pub fn open(o: Opening) -> Result<Sequencer, HostError> {
        let origin =
            Origin::new(o.signer.name().as_ref()).map_err(|e| HostError::Config(e.to_string()))?;
        let mut s = Sequencer {
            fold: Fold::new(),
            edge: TileEdge::new(),
            bundle: Vec::new(),
            head: None,
            tiles: o.tiles,
            state: o.state,
            signer: o.signer,
            origin,
            cache: o.cache,
            shared: o.shared,
            witnesses: None,
            head_witnessed: false,
            pending: Vec::new(),
            rewitnessed: std::time::Instant::now(),
            tenure: Tenure::new(o.address, o.lease),
            genesis: o.genesis,
            runtime: o.runtime,
        };
        let lease = s.tenure.ask(s.state.as_ref())?;
        s.rebuild()?;
        if let (true, Lease::Granted { epoch }) = (s.tenure.leading(), &lease) {
            tracing::info!(epoch, "took the sequencer lease");
            if s.head.is_none() && s.genesis.is_none() {
                return Err(HostError::Config(
                    "the log is empty: start the host with --genesis FILE".into(),
                ));
            }
            s.lead()?;
        } else {
            s.check_genesis()?;
            s.start_witnesses();
            if let Lease::HeldBy { address, .. } = lease {
                tracing::info!(leader = %address, "another host sequences; following it");
                s.shared.set_role(Role::Follower {
                    leader: Some(address),
                });
            }
        }
        Ok(s)
    }

    /// Founds the log with the genesis if it is empty, checks the genesis against entry 0
    /// otherwise, and starts leading: witnesses asked about the head before anyone is
    /// answered.
    pub(crate) fn lead(&mut self) -> Result<(), HostError> {
        match (self.head.is_some(), self.genesis.clone()) {
            (false, Some(g)) => {
                check_log_key(&g, &self.signer)?;
                self.sequence_now(g)?;
            }
            (false, None) => {
                return Err(HostError::Config(
                    "the log is empty and this host was started without --genesis".into(),
                ));
            }
            (true, _) => self.check_genesis()?,
        }
        self.shared.refresh_members(&self.fold);
        self.start_witnesses();
        self.shared.set_role(Role::Leader);
        self.rewitness();
        Ok(())
    }

    /// Checks that a genesis given at start is the log's entry 0 (if the log has one).
    fn check_genesis(&self) -> Result<(), HostError> {
        let (Some(g), true) = (&self.genesis, self.head.is_some()) else {
            return Ok(());
        };
        let first = self.first_entry()?;
        if first.id() != g.id() {
            return Err(HostError::Config(format!(
                "this log was founded by genesis {}, not by the given file ({})",
                first.id(),
                g.id()
            )));
        }
        Ok(())
    }

    /// Sets up the group's witnesses once its genesis is known.
    pub(crate) fn start_witnesses(&mut self) {
        if self.witnesses.is_none()
            && let Some(g) = self.fold.genesis()
        {
            self.witnesses = Some(Witnesses::new(&g.rules.witnesses, self.runtime.clone()));
        }
    }

    /// Discards the in-memory state and rebuilds it from the stores.
    pub(crate) fn reload(&mut self) -> Result<(), HostError> {
        self.fold = Fold::new();
        self.cache.clear();
        self.edge = TileEdge::new();
        self.bundle.clear();
        self.head = None;
        self.rebuild()?;
        self.shared.refresh_members(&self.fold);
        Ok(())
    }

    fn first_entry(&self) -> Result<Signed, HostError> {
        let bundle = bundles_for_size(1)
            .next()
            .ok_or_else(|| HostError::Corrupt("no first bundle".into()))?;
        let data = self.read_required(&bundle.path())?;
        let entries = parse_bundle(bundle, &data).map_err(|e| HostError::Corrupt(e.to_string()))?;
        let first = entries
            .first()
            .ok_or_else(|| HostError::Corrupt("empty first bundle".into()))?;
        Signed::from_leaf(first).map_err(|e| HostError::Corrupt(format!("entry 0: {e}")))
    }

    fn read_required(&self, path: &str) -> Result<Vec<u8>, HostError> {
        self.tiles
            .read(path)?
            .ok_or_else(|| HostError::Corrupt(format!("{path} is missing from the tile store")))
    }

    /// Reads the committed head and replays the stored entries up to it; repairs the
    /// published checkpoint when this host leads.
    fn rebuild(&mut self) -> Result<(), HostError> {
        let published = self.tiles.read("checkpoint")?;
        let Some(head) = self.state.head()? else {
            if published.is_some() {
                return Err(HostError::Corrupt(
                    "the tile store has a checkpoint but the state store has no log: they belong to different logs".into(),
                ));
            }
            return Ok(());
        };
        self.check_own_checkpoint(&head.checkpoint, head.size, head.root)?;
        self.advance_to(&head)?;
        if self.tenure.leading() {
            self.repair_published(published.as_deref(), &head.checkpoint, head.size)?;
        }
        self.adopt(head);
        Ok(())
    }

    /// Follows the committed head from the stores (while another host leads): replays the
    /// entries it added. On an error the caller reloads.
    pub(crate) fn catch_up(&mut self) -> Result<(), HostError> {
        let Some(head) = self.state.head()? else {
            return Ok(());
        };
        if self.head.as_ref() == Some(&head) {
            return Ok(());
        }
        if head.size < self.edge.size() {
            return Err(HostError::Corrupt(format!(
                "the committed head went back from size {} to {}",
                self.edge.size(),
                head.size
            )));
        }
        self.check_own_checkpoint(&head.checkpoint, head.size, head.root)?;
        self.advance_to(&head)?;
        self.adopt(head);
        Ok(())
    }

    /// What a new leader does instead of a full rebuild: catches up with the committed
    /// head and re-publishes its checkpoint if the old leader died before publishing it.
    pub(crate) fn resume(&mut self) -> Result<(), HostError> {
        let published = self.tiles.read("checkpoint")?;
        self.catch_up()?;
        if let Some(head) = &self.head {
            self.repair_published(published.as_deref(), &head.checkpoint, head.size)?;
        }
        Ok(())
    }

    /// Makes `head` the sequencer's head and what the HTTP handlers see.
    fn adopt(&mut self, head: Head) {
        let note = Arc::new(String::from_utf8_lossy(&head.checkpoint).into_owned());
        self.shared.publish(&self.fold, head.size, note);
        self.shared.metrics.set_tree_size(head.size);
        self.head = Some(head);
    }

    /// Applies the stored entries from the tree's size up to `head` to the group and the
    /// tree (trusted: this log's key signed the head that covers them), and checks that
    /// they reproduce the head's root.
    fn advance_to(&mut self, head: &Head) -> Result<(), HostError> {
        let from = self.edge.size();
        let mut leaves = Vec::new();
        for bundle in bundles_for_size(head.size) {
            if bundle.first_entry() + u64::from(bundle.width()) <= from {
                continue;
            }
            let data = self.read_required(&bundle.path())?;
            let entries = parse_bundle(bundle, &data)
                .map_err(|e| HostError::Corrupt(format!("{}: {e}", bundle.path())))?;
            for (i, entry) in entries.iter().enumerate() {
                let index = bundle.first_entry() + i as u64;
                if index < from {
                    continue;
                }
                let signed = Signed::from_leaf(entry)
                    .map_err(|e| HostError::Corrupt(format!("entry {index}: {e}")))?;
                self.fold
                    .apply_with(&signed, SignatureCheck::Trusted)
                    .map_err(|r| {
                        HostError::Corrupt(format!("entry {index} breaks the group's rules: {r}"))
                    })?;
                leaves.push(tlog::leaf_hash(entry));
            }
            self.bundle = if bundle.is_full() {
                Vec::new()
            } else {
                entries.iter().map(|e| e.to_vec()).collect()
            };
        }
        self.edge
            .append(&leaves)
            .map_err(|e| HostError::Corrupt(e.to_string()))?;
        if self.edge.root() != head.root {
            return Err(HostError::Corrupt(format!(
                "the {} stored entries hash to {}, but the committed checkpoint says {}",
                head.size,
                self.edge.root(),
                head.root
            )));
        }
        Ok(())
    }

    /// Opens a checkpoint note with this log's key and checks it names `size` and `root`.
    fn check_own_checkpoint(
        &self,
        note: &[u8],
        size: u64,
        root: tlog::Hash,
    ) -> Result<Checkpoint, HostError> {
        let known = VerifierSet::from_verifiers([self.signer.verifier().into()])
            .map_err(|e| HostError::Corrupt(e.to_string()))?;
        let opened = Checkpoint::open(note, &self.origin, &known).map_err(|e| {
            HostError::Corrupt(format!(
                "the committed checkpoint does not open with this log's key: {e}"
            ))
        })?;
        let cp = opened.checkpoint().clone();
        if cp.size() != size || cp.root() != root {
            return Err(HostError::Corrupt(
                "the committed checkpoint disagrees with the committed head".into(),
            ));
        }
        Ok(cp)
    }

    /// Makes the published checkpoint the committed one, if the published one is older,
    /// missing, or not a signed note (torn by a power loss).
    fn repair_published(
        &self,
        published: Option<&[u8]>,
        committed: &[u8],
        size: u64,
    ) -> Result<(), HostError> {
        if published == Some(committed) {
            return Ok(());
        }
        // Not a signed note at all: a checkpoint replaced just before a power loss, which
        // the tile store need not have made durable (its copy is the committed head).
        let published = published.filter(|p| tlog::note::Note::parse(p).is_ok());
        if let Some(p) = published {
            let known = VerifierSet::from_verifiers([self.signer.verifier().into()])
                .map_err(|e| HostError::Corrupt(e.to_string()))?;
            let cp = Checkpoint::open(p, &self.origin, &known).map_err(|e| {
                HostError::Corrupt(format!("the published checkpoint is not this log's: {e}"))
            })?;
            if cp.checkpoint().size() > size {
                return Err(HostError::Corrupt(format!(
                    "the published checkpoint is at size {}, beyond the committed {size}",
                    cp.checkpoint().size()
                )));
            }
        }
        tracing::warn!(
            size,
            "re-publishing the committed checkpoint (crash between commit and publish)"
        );
        self.tiles.publish_checkpoint(committed)?;
        Ok(())
    }
}

/// Checks that the genesis names this host's key as the log key.
fn check_log_key(genesis: &Signed, signer: &Signer) -> Result<(), HostError> {
    let body = statement::Body::parse(genesis.statement())
        .map_err(|e| HostError::Genesis(e.to_string()))?;
    let statement::Body::Genesis(g) = body else {
        return Err(HostError::Genesis(
            "the genesis file holds a statement that is not a genesis".into(),
        ));
    };
    let ours = signer.verifier().to_vkey();
    if g.document.log_key != ours {
        return Err(HostError::Config(format!(
            "the genesis names log key {}, but this host's key (log.key) is {ours}",
            g.document.log_key
        )));
    }
    Ok(())
}
