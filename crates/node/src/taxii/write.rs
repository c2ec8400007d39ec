//! Adding objects (TAXII 2.1 §5.5): a POSTed envelope becomes `report` statements.
//!
//! Each object is validated on its own ([`super::validate`]); failures are reported in the
//! status resource with their reason and the valid objects are still shared. Objects
//! already in the collection are successes without a new statement (a re-POST of the same
//! object is not an error, §5.5). The valid objects are packed, in order, into as few
//! STIX bundles as one log entry (65,535 bytes, sealed or not) allows, each a `report`
//! under the collection's TLP — or, in a thread or request collection, answering it
//! under the objects' own marking ([`Collection::answer_sealing`]) — (an object too large for an entry on its own goes in a blob
//! on the host, named by its SHA-256 in the report and sealed to the same addressees),
//! sealed as that TLP requires ([`super::config`]), signed with
//! the member's key and submitted in the background. An object is a success only once its
//! statement is in a checkpoint this node verified (its inclusion proof checked and the
//! replica synced past it); until then it is pending.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use statement::build::Draft;
use statement::envelope::MAX_LEAF_SIZE;
use statement::kind::Kind;
use statement::seal::seal;
use statement::{MemberId, SealKey, StatementId, Tlp};

use super::collections::{Collection, Scope};
use super::config::Sealing;
use super::index::{Record, format_micros};
use super::status::{Detail, Status};
use super::{EXTENSION_ID, STIX_MEDIA_TYPE, Taxii, TaxiiError, uuid_v4, validate};
use crate::serve::Principal;
use crate::{Node, NodeError};

/// Most objects in one envelope (a bundle's limit in the statement format).
pub const MAX_OBJECTS: usize = 10_000;
/// Most bytes of statements submitted to the host in one request (its limit is 8 MiB).
const MAX_BATCH_BYTES: usize = 6 << 20;

/// An object accepted for sharing.
struct Valid {
    object: Value,
    detail: Detail,
    /// The marking of the report it goes into.
    tlp: Tlp,
}

/// Parses the envelope, records the status, and starts sharing its valid objects.
pub async fn accept(
    t: &Taxii,
    who: &Principal,
    coll: &Collection,
    body: &[u8],
    now_micros: i64,
) -> Result<Status, TaxiiError> {
    let envelope: Value = serde_json::from_slice(body)
        .map_err(|_| TaxiiError::Unprocessable("the body is not JSON".into()))?;
    let objects = envelope
        .get("objects")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            TaxiiError::Unprocessable(
                "expected a TAXII envelope with a non-empty `objects` list".into(),
            )
        })?;
    if objects.len() > MAX_OBJECTS {
        return Err(TaxiiError::Unprocessable(format!(
            "at most {MAX_OBJECTS} objects per envelope"
        )));
    }
    let request_timestamp = format_micros(now_micros);
    let mut status = Status {
        id: uuid_v4()?,
        request_timestamp: request_timestamp.clone(),
        successes: Vec::new(),
        failures: Vec::new(),
        pendings: Vec::new(),
    };
    let valid = {
        let node = t.shared.node().await;
        let mut index = t.index.lock().await;
        index.refresh(&node).await?;
        let group = node.group();
        let existing: Vec<&Record> = index
            .records
            .iter()
            .filter(|r| coll.shows(r, group))
            .collect();
        sort(
            objects,
            coll.scope,
            &existing,
            &request_timestamp,
            &mut status,
        )
    };
    status.pendings = valid.iter().map(|v| v.detail.clone()).collect();
    t.statuses.put(status.clone());
    if !valid.is_empty() {
        let t = t.clone();
        let (id, user, coll) = (status.id.clone(), who.name.clone(), coll.clone());
        tokio::spawn(async move { share(t, id, user, coll, valid).await });
    }
    Ok(status)
}

/// Splits the objects into failures, already-shared successes and objects to share.
fn sort(
    objects: &[Value],
    scope: Scope,
    existing: &[&Record],
    request_timestamp: &str,
    status: &mut Status,
) -> Vec<Valid> {
    let mut valid: Vec<Valid> = Vec::new();
    for o in objects {
        let mut o = o.clone();
        strip_provenance(&mut o);
        let detail = |message: Option<String>| Detail {
            id: o["id"].as_str().unwrap_or("unknown").to_owned(),
            version: o["modified"]
                .as_str()
                .or(o["created"].as_str())
                .unwrap_or(request_timestamp)
                .to_owned(),
            message,
        };
        if let Err(why) = validate::object(&o) {
            status.failures.push(detail(Some(why)));
            continue;
        }
        let marked = validate::strictest_tlp(&o);
        let tlp = match scope {
            Scope::Tlp(t) => t,
            Scope::Thread(_) | Scope::Request(_) => marked.unwrap_or(Tlp::Green),
        };
        if let Some(marked) = marked.filter(|m| *m > tlp) {
            let why = format!(
                "marked {} but this collection is {}: post it to the {} collection",
                marked.label(),
                tlp.label(),
                marked.label().to_ascii_lowercase().replace([':', '+'], "-")
            );
            status.failures.push(detail(Some(why)));
            continue;
        }
        let d = detail(None);
        if let Some(r) = existing.iter().find(|r| same(r, &o)) {
            let msg = format!(
                "already shared: statement {} at log index {}",
                r.object["extensions"][EXTENSION_ID]["statement"]
                    .as_str()
                    .unwrap_or(""),
                r.index
            );
            status.successes.push(Detail {
                message: Some(msg),
                ..d
            });
        } else if valid.iter().any(|v| v.object == o) {
            status.successes.push(Detail {
                message: Some("repeated in this envelope".into()),
                ..d
            });
        } else {
            valid.push(Valid {
                object: o,
                detail: d,
                tlp,
            });
        }
    }
    valid
}

/// Removes a Détente provenance extension a client sent back: provenance is the log's
/// to say, never the poster's.
fn strip_provenance(o: &mut Value) {
    if let Some(ext) = o.get_mut("extensions").and_then(Value::as_object_mut) {
        ext.remove(EXTENSION_ID);
        if ext.is_empty()
            && let Some(m) = o.as_object_mut()
        {
            m.remove("extensions");
        }
    }
}

/// Whether `r` is the same object version as `o` (for versionless objects, the same
/// content).
fn same(r: &Record, o: &Value) -> bool {
    if o["id"].as_str() != Some(r.stix_id.as_str()) {
        return false;
    }
    let mut served = (*r.object).clone();
    strip_provenance(&mut served);
    let versioned = o.get("modified").or(o.get("created")).is_some();
    if versioned {
        o["modified"].as_str().or(o["created"].as_str()) == Some(r.version.as_str()) || served == *o
    } else {
        served == *o
    }
}

/// Packs, seals, signs and submits, then settles the status.
async fn share(t: Taxii, status_id: String, user: String, coll: Collection, valid: Vec<Valid>) {
    let mut node = t.shared.node().await;
    let mut levels: BTreeMap<Tlp, Vec<&Valid>> = BTreeMap::new();
    for v in &valid {
        levels.entry(v.tlp).or_default().push(v);
    }
    let mut drafts: Vec<(Draft, Vec<&Valid>)> = Vec::new();
    let mut failed: Vec<(&Valid, String)> = Vec::new();
    for (tlp, objects) in levels {
        let sealing = match coll.scope {
            Scope::Tlp(_) => t.config.sealing(tlp),
            _ => coll.answer_sealing(tlp, node.group(), node.member()),
        };
        let to = match addressees(&node, &sealing) {
            Ok(to) => to,
            Err(e) => {
                failed.extend(
                    objects
                        .into_iter()
                        .map(|v| (v, format!("cannot seal: {e}"))),
                );
                continue;
            }
        };
        let packing = Packing {
            node: &node,
            tlp,
            user: &user,
            to: to.as_deref(),
            refs: coll.answers(),
        };
        let mut blobs: Vec<&Valid> = Vec::new();
        if let Err(e) = packing.pack(objects.clone(), &mut drafts, &mut blobs) {
            failed.extend(objects.into_iter().map(|v| (v, e.clone())));
            continue;
        }
        for v in blobs {
            match packing.blob_draft(v).await {
                Ok(d) => drafts.push((d, vec![v])),
                Err(why) => failed.push((v, why)),
            }
        }
    }
    t.statuses.settle(&status_id, |s| {
        for (v, why) in failed {
            s.pendings.retain(|d| d != &v.detail);
            s.failures.push(Detail {
                message: Some(why),
                ..v.detail.clone()
            });
        }
    });
    for batch in batches(drafts) {
        let (ds, members): (Vec<Draft>, Vec<Vec<&Valid>>) = batch.into_iter().unzip();
        let posted = node.post_all(ds).await;
        let verified = node.verified().ok().flatten().map_or(0, |v| v.size);
        t.statuses.settle(&status_id, |s| match &posted {
            Ok(posted) => {
                for (p, objs) in posted.iter().zip(&members) {
                    for v in objs {
                        s.pendings.retain(|d| d != &v.detail);
                        let message = format!("statement {} at log index {}", p.id.to_hex(), p.index);
                        if p.index < verified {
                            s.successes.push(Detail { message: Some(message), ..v.detail.clone() });
                        } else {
                            s.failures.push(Detail { message: Some(format!("{message} is not yet in a verified checkpoint")), ..v.detail.clone() });
                        }
                    }
                }
            }
            Err(e) => {
                let why = match e {
                    NodeError::Refused { code, .. } => format!("the host refused the report ({code})"),
                    _ => "not confirmed in a checkpoint this node verified: the host or the sync failed; post it again".into(),
                };
                tracing::warn!(error = %e, "TAXII: sharing failed");
                for v in members.iter().flatten() {
                    s.pendings.retain(|d| d != &v.detail);
                    s.failures.push(Detail { message: Some(why.clone()), ..v.detail.clone() });
                }
            }
        });
    }
}

/// The sealing keys of `to` and this member (as [`Node::seal`] uses them).
fn seal_keys(node: &Node, to: &[MemberId]) -> Result<Vec<SealKey>, String> {
    to.iter()
        .chain(std::iter::once(node.member()))
        .map(|m| {
            node.group()
                .member(m)
                .filter(|x| x.active)
                .map(|x| x.seal.clone())
                .ok_or_else(|| format!("{m} is not a current member"))
        })
        .collect()
}

/// Who to seal to: `None` for clear reports.
fn addressees(node: &Node, sealing: &Sealing) -> Result<Option<Vec<MemberId>>, String> {
    match sealing {
        Sealing::Clear => Ok(None),
        Sealing::To(l) => Ok(Some(l.clone())),
        Sealing::AllOthers => Ok(Some(
            node.group()
                .members()
                .iter()
                .filter(|(id, m)| m.active && *id != node.member())
                .map(|(id, _)| id.clone())
                .collect(),
        )),
        Sealing::NotConfigured => Err("no addressees configured for this TLP level".into()),
    }
}

/// What packing needs: the node (to seal), the marking, the poster and the addressees.
struct Packing<'n> {
    node: &'n Node,
    tlp: Tlp,
    user: &'n str,
    to: Option<&'n [MemberId]>,
    /// The thread root or request the reports answer.
    refs: Option<StatementId>,
}

/// Drafts with the objects each carries.
type Drafts<'a> = Vec<(Draft, Vec<&'a Valid>)>;

impl Packing<'_> {
    /// Builds the drafts of `objects`, splitting in halves until each fits one log entry;
    /// an object that alone does not fit goes to `blobs`.
    fn pack<'a>(
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
    async fn blob_draft(&self, v: &Valid) -> Result<Draft, String> {
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
fn batches<T>(drafts: Vec<(Draft, T)>) -> Vec<Vec<(Draft, T)>> {
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
