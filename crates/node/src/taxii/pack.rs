//! Packing objects into `report` drafts that each fit one log entry (65,535 bytes, C2SP
//! tlog-tiles entry bundles carry 16-bit lengths), and drafts into host requests.
//!
//! A first cut by the objects' clear size, then each chunk is drafted (and sealed) and
//! split in halves until it fits; an object that alone does not fit travels as a blob on
//! the host, named in its report by SHA-256 and size, sealed like the report.

use serde_json::{Value, json};
use statement::build::Draft;
use statement::envelope::MAX_LEAF_SIZE;
use statement::kind::Kind;
use statement::seal::seal;
use statement::{MemberId, SealKey, StatementId, Tlp};

use super::write::Valid;
use super::{STIX_MEDIA_TYPE, uuid_v4};
use crate::Node;

/// Most bytes of statements submitted to the host in one request (its limit is 8 MiB).
const MAX_BATCH_BYTES: usize = 6 << 20;

/// The sealing keys of `to` and this member (as [`Node::seal`] uses them).
fn seal_keys(node: &Node, to: &[MemberId]) -> Result<Vec<SealKey>, String> {
    to.iter()
        .chain(std::iter::once(node.member()))
        .map(|m| {
            node.rules()
                .member(m)
                .filter(|x| x.active)
                .map(|x| x.seal.clone())
                .ok_or_else(|| format!("{m} is not a current member"))
        })
        .collect()
}

/// What packing needs: the node (to seal), the marking, the poster and the addressees.
pub(super) struct Packing<'n> {
    pub(super) node: &'n Node,
    pub(super) tlp: Tlp,
    pub(super) user: &'n str,
    pub(super) to: Option<&'n [MemberId]>,
    /// The thread root or request the reports answer.
    pub(super) refs: Option<StatementId>,
}

/// Drafts with the objects each carries.
pub(super) type Drafts<'a> = Vec<(Draft, Vec<&'a Valid>)>;

impl Packing<'_> {
    /// Builds the drafts of `objects`, splitting in halves until each fits one log entry;
    /// an object that alone does not fit goes to `blobs`.
    pub(super) fn pack<'a>(
        &self,
        objects: Vec<&'a Valid>,
        out: &mut Drafts<'a>,
        blobs: &mut Vec<&'a Valid>,
    ) -> Result<(), String> {
        let to = self.to.map_or(0, <[MemberId]>::len);
        let overhead = 1024 + self.node.genesis().origin.len() + 70 * to;
        let budget = MAX_LEAF_SIZE.saturating_sub(overhead);
        // A first cut by clear size, so that a large envelope is not sealed many times over.
        let clear_budget = if self.to.is_some() {
            budget * 3 / 4
        } else {
            budget
        };
        let mut chunks = vec![Vec::new()];
        let mut size = 0;
        for v in objects {
            let n = v.object.to_string().len() + 1;
            if size + n > clear_budget && chunks.last().is_some_and(|c| !c.is_empty()) {
                chunks.push(Vec::new());
                size = 0;
            }
            size += n;
            if let Some(c) = chunks.last_mut() {
                c.push(v);
            }
        }
        for c in chunks.into_iter().filter(|c| !c.is_empty()) {
            self.fit(c, budget, out, blobs)?;
        }
        Ok(())
    }

    fn fit<'a>(
        &self,
        objects: Vec<&'a Valid>,
        budget: usize,
        out: &mut Drafts<'a>,
        blobs: &mut Vec<&'a Valid>,
    ) -> Result<(), String> {
        let draft = self.draft(&objects)?;
        let size = draft_size(&draft);
        if size <= budget {
            out.push((draft, objects));
            return Ok(());
        }
        if let [one] = objects[..] {
            // Too large for an entry on its own: it travels as a blob.
            blobs.push(one);
            return Ok(());
        }
        let right = objects[objects.len() / 2..].to_vec();
        let left = objects[..objects.len() / 2].to_vec();
        self.fit(left, budget, out, blobs)?;
        self.fit(right, budget, out, blobs)
    }

    fn draft(&self, objects: &[&Valid]) -> Result<Draft, String> {
        let id = uuid_v4().map_err(|_| "no randomness".to_owned())?;
        let bundle = json!({
            "type": "bundle",
            "id": format!("bundle--{id}"),
            "objects": objects.iter().map(|v| v.object.clone()).collect::<Vec<_>>(),
        });
        let title = format!(
            "{} STIX objects posted through TAXII by {}",
            objects.len(),
            self.user
        );
        let d = self.answering(Draft::report(self.tlp, &title, bundle));
        match self.to {
            None => Ok(d),
            Some(to) => self.node.seal(d, to).map_err(|e| e.to_string()),
        }
    }

    /// The draft with `refs` naming what it answers, if anything.
    fn answering(&self, d: Draft) -> Draft {
        match self.refs {
            Some(r) => d.refs(&[r]),
            None => d,
        }
    }

    /// A report whose one-object bundle is a blob on the host, named by its hash; sealed
    /// reports seal the blob to the same addressees (statement format, `report`).
    pub(super) async fn blob_draft(&self, v: &Valid) -> Result<Draft, String> {
        let id = uuid_v4().map_err(|_| "no randomness".to_owned())?;
        let bundle = json!({
            "type": "bundle",
            "id": format!("bundle--{id}"),
            "objects": [v.object.clone()],
        });
        let bytes = match self.to {
            None => bundle.to_string().into_bytes(),
            Some(to) => {
                let keys = seal_keys(self.node, to)?;
                seal(&bundle, &keys.iter().collect::<Vec<_>>())
                    .map_err(|e| format!("cannot seal the blob: {e}"))?
                    .into_bytes()
            }
        };
        let size = bytes.len();
        let sha = self
            .node
            .client
            .put_blob(bytes)
            .await
            .map_err(|e| format!("the host did not store the blob: {e}"))?;
        let title = format!("1 STIX object posted through TAXII by {}", self.user);
        let body = json!({
            "tlp": self.tlp,
            "title": title,
            "blob": { "sha256": sha.to_hex(), "size": size, "media_type": STIX_MEDIA_TYPE },
        });
        let d = self.answering(Draft::new(Kind::Report, body));
        match self.to {
            None => Ok(d),
            Some(to) => self.node.seal(d, to).map_err(|e| e.to_string()),
        }
    }
}

/// The size a draft's body and sealed content add to its log entry.
fn draft_size(d: &Draft) -> usize {
    Value::Object(d.body.clone()).to_string().len() + d.sealed.as_ref().map_or(0, String::len)
}

/// Groups drafts into host requests under its size limit.
pub(super) fn batches<T>(drafts: Vec<(Draft, T)>) -> Vec<Vec<(Draft, T)>> {
    let mut out: Vec<Vec<(Draft, T)>> = Vec::new();
    let mut size = 0;
    for d in drafts {
        let n = draft_size(&d.0) + 1024;
        if out
            .last()
            .is_none_or(|b| size + n > MAX_BATCH_BYTES || b.len() >= 1000)
        {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(b) = out.last_mut() {
            b.push(d);
        }
    }
    out
}
