//! Adding objects (TAXII 2.1 §5.5): a POSTed envelope becomes `report` statements.
//!
//! Each object is validated on its own ([`super::validate`]); failures are reported in the
//! status resource with their reason and the valid objects are still shared. Objects
//! already in the collection are successes without a new statement (a re-POST of the same
//! object is not an error, §5.5). The valid objects are packed ([`super::pack`]) into as
//! few reports as the entry size allows: under the collection's TLP, sealed as the
//! configuration says ([`super::config`]); or, in a thread or request collection,
//! answering it under the objects' own marking, sealed to its audience
//! ([`Collection::answer_sealing`]). They are signed with the member's key and submitted
//! in the background. An object is a success only once its statement is in a checkpoint
//! this node verified (its inclusion proof checked and the replica synced past it); until
//! then it is pending.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use statement::build::Draft;
use statement::{MemberId, Tlp};

use super::collections::{Collection, Scope};
use super::config::Sealing;
use super::index::{Record, format_micros};
use super::pack::{Drafts, Packing, batches};
use super::status::{Detail, Status};
use super::{EXTENSION_ID, Taxii, TaxiiError, uuid_v4, validate};
use crate::serve::Principal;
use crate::{Node, NodeError};

/// Most objects in one envelope (a bundle's limit in the statement format).
pub const MAX_OBJECTS: usize = 10_000;

/// An object accepted for sharing.
pub(super) struct Valid {
    pub(super) object: Value,
    pub(super) detail: Detail,
    /// The marking of the report it goes into.
    pub(super) tlp: Tlp,
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
        let group = node.group()?;
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
    // By STIX id, so that duplicate checks stay linear in the envelope's size.
    let mut shared: HashMap<&str, Vec<&Record>> = HashMap::new();
    for r in existing {
        shared.entry(r.stix_id.as_str()).or_default().push(r);
    }
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
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
        let id = d.id.clone();
        let same_id = shared.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        if let Some(r) = same_id.iter().find(|r| same(r, &o)) {
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
        } else if seen
            .get(&id)
            .is_some_and(|i| i.iter().any(|i| valid[*i].object == o))
        {
            status.successes.push(Detail {
                message: Some("repeated in this envelope".into()),
                ..d
            });
        } else {
            seen.entry(id).or_default().push(valid.len());
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
    let (drafts, failed) = prepare(&t, &node, &user, &coll, &valid).await;
    t.statuses.settle(&status_id, |s| {
        resolve(
            s,
            failed.into_iter().map(|(v, why)| (v, Err(why))).collect(),
        );
    });
    for batch in batches(drafts) {
        let (ds, members): (Vec<Draft>, Vec<Vec<&Valid>>) = batch.into_iter().unzip();
        let posted = node.post_all(ds).await;
        let mut verified = node.verified().ok().flatten().map_or(0, |v| v.size);
        if let Ok(p) = &posted
            && p.iter().any(|p| p.index >= verified)
        {
            // post_all synced after the host's answer; one more sync covers a checkpoint
            // published in between.
            let _ = node.sync().await;
            verified = node.verified().ok().flatten().map_or(0, |v| v.size);
        }
        t.statuses
            .settle(&status_id, |s| settle(s, &posted, &members, verified));
    }
}

/// The drafts of the valid objects, one marking at a time, and the objects that could not
/// be drafted with the reason.
async fn prepare<'a>(
    t: &Taxii,
    node: &Node,
    user: &str,
    coll: &Collection,
    valid: &'a [Valid],
) -> (Drafts<'a>, Vec<(&'a Valid, String)>) {
    let mut levels: BTreeMap<Tlp, Vec<&Valid>> = BTreeMap::new();
    for v in valid {
        levels.entry(v.tlp).or_default().push(v);
    }
    let mut drafts: Drafts<'a> = Vec::new();
    let mut failed: Vec<(&Valid, String)> = Vec::new();
    for (tlp, objects) in levels {
        let sealing = match coll.scope {
            Scope::Tlp(_) => t.config.sealing(tlp),
            _ => match node.group() {
                Ok(g) => coll.answer_sealing(tlp, g, node.member()),
                Err(e) => {
                    let why = format!("cannot read the group: {e}");
                    failed.extend(objects.into_iter().map(|v| (v, why.clone())));
                    continue;
                }
            },
        };
        let to = match addressees(node, &sealing) {
            Ok(to) => to,
            Err(e) => {
                let why = format!("cannot seal: {e}");
                failed.extend(objects.into_iter().map(|v| (v, why.clone())));
                continue;
            }
        };
        let packing = Packing {
            node,
            tlp,
            user,
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
    (drafts, failed)
}

/// Settles one batch: a success is a statement in a checkpoint this node verified.
fn settle(
    s: &mut Status,
    posted: &Result<Vec<crate::Posted>, NodeError>,
    members: &[Vec<&Valid>],
    verified: u64,
) {
    let mut done: Vec<(&Valid, Result<String, String>)> = Vec::new();
    match posted {
        Ok(posted) => {
            tracing::info!(status = %s.id, statements = posted.len(), "TAXII objects shared");
            for (p, objs) in posted.iter().zip(members) {
                let message = format!("statement {} at log index {}", p.id.to_hex(), p.index);
                for v in objs {
                    done.push(if p.index < verified {
                        (v, Ok(message.clone()))
                    } else {
                        (
                            v,
                            Err(format!(
                                "{message} is not in a checkpoint this node verified yet"
                            )),
                        )
                    });
                }
            }
        }
        Err(e) => {
            let why = match e {
                NodeError::Refused { code, .. } => format!("the host refused the report ({code})"),
                _ => "not confirmed in a checkpoint this node verified (the host or the sync failed); post it again".into(),
            };
            tracing::warn!(error = %e, "TAXII: sharing failed");
            done.extend(members.iter().flatten().map(|v| (*v, Err(why.clone()))));
        }
    }
    resolve(s, done);
}

/// Moves objects from pending to successes (`Ok`) or failures (`Err`), with the message;
/// one pass over the pending list, however many objects.
fn resolve(s: &mut Status, done: Vec<(&Valid, Result<String, String>)>) {
    let ids: HashSet<&Detail> = done.iter().map(|(v, _)| &v.detail).collect();
    s.pendings.retain(|d| !ids.contains(d));
    for (v, outcome) in done {
        let (list, message) = match outcome {
            Ok(m) => (&mut s.successes, m),
            Err(m) => (&mut s.failures, m),
        };
        list.push(Detail {
            message: Some(message),
            ..v.detail.clone()
        });
    }
}

/// Who to seal to: `None` for clear reports.
fn addressees(node: &Node, sealing: &Sealing) -> Result<Option<Vec<MemberId>>, String> {
    match sealing {
        Sealing::Clear => Ok(None),
        Sealing::To(l) => Ok(Some(l.clone())),
        Sealing::AllOthers => Ok(Some(
            node.rules()
                .members()
                .iter()
                .filter(|(id, m)| m.active && *id != node.member())
                .map(|(id, _)| id.clone())
                .collect(),
        )),
        Sealing::NotConfigured => Err("no addressees configured for this TLP level".into()),
    }
}
