//! The collections (TAXII 2.1 §5.1–5.2): views of the verified log's reports.
//!
//! One collection per TLP 2.0 level (alias `tlp-clear`, `tlp-green`, `tlp-amber`,
//! `tlp-amber-strict`, `tlp-red`), and one per thread or request, on demand: alias
//! `thread-<root message id>` or `request-<request id>`, listed when named in the
//! configuration. A post to a thread or request collection answers it: its reports name
//! the root or the request in `refs`, at the objects' own TLP marking (GREEN when they
//! carry none), and AMBER or RED ones are sealed to the thread's or request's audience. Ids are stable name-based UUIDs, so a client's configuration survives
//! restarts and is the same on every member's node.

use serde_json::{Value, json};
use statement::{Group, MemberId, StatementId, Tlp};

use super::config::{Sealing, TaxiiConfig};
use super::index::Record;
use super::{STIX_MEDIA_TYPE, uuid_of};
use crate::serve::Principal;

/// The TLP levels, in order, with their collection aliases.
pub const TLP_ALIASES: [(Tlp, &str); 5] = [
    (Tlp::Clear, "tlp-clear"),
    (Tlp::Green, "tlp-green"),
    (Tlp::Amber, "tlp-amber"),
    (Tlp::AmberStrict, "tlp-amber-strict"),
    (Tlp::Red, "tlp-red"),
];

/// Which reports a collection shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Reports under this marking.
    Tlp(Tlp),
    /// Reports answering a message of the thread with this root.
    Thread(StatementId),
    /// Reports answering this request.
    Request(StatementId),
}

/// A collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Its UUID.
    pub id: String,
    /// Its alias, usable in place of the id.
    pub alias: String,
    /// What it shows.
    pub scope: Scope,
}

impl Collection {
    /// The collection of a scope.
    pub fn of(scope: Scope) -> Collection {
        let alias = match scope {
            Scope::Tlp(t) => TLP_ALIASES
                .iter()
                .find(|(l, _)| *l == t)
                .map_or("tlp", |(_, a)| a)
                .to_owned(),
            Scope::Thread(root) => format!("thread-{}", root.to_hex()),
            Scope::Request(id) => format!("request-{}", id.to_hex()),
        };
        Collection {
            id: uuid_of(&format!("detente/taxii/collection/{alias}")),
            alias,
            scope,
        }
    }

    /// Whether `who` may add objects here: a user who may post, on a TLP collection whose
    /// sealing is configured, or on a thread or request collection (posts answer it).
    pub fn can_write(&self, who: &Principal, config: &TaxiiConfig) -> bool {
        match self.scope {
            Scope::Tlp(t) => who.can_write && config.sealing(t) != Sealing::NotConfigured,
            Scope::Thread(_) | Scope::Request(_) => who.can_write,
        }
    }

    /// The statement posts here answer (`refs[0]` of their reports), if any.
    pub fn answers(&self) -> Option<StatementId> {
        match self.scope {
            Scope::Tlp(_) => None,
            Scope::Thread(id) | Scope::Request(id) => Some(id),
        }
    }

    /// Whether a record belongs to this collection.
    pub fn shows(&self, r: &Record, group: &Group) -> bool {
        match self.scope {
            Scope::Tlp(t) => r.tlp == t,
            Scope::Request(id) => r.answers == Some(id),
            Scope::Thread(root) => r
                .answers
                .and_then(|a| group.message(&a))
                .is_some_and(|m| m.root == root),
        }
    }

    /// How an answer under `tlp` posted here is sealed: CLEAR and GREEN in the clear;
    /// stricter levels to the thread's or request's audience (its author and addressees,
    /// or every other member for a thread addressed to the whole group).
    pub fn answer_sealing(&self, tlp: Tlp, group: &Group, me: &MemberId) -> Sealing {
        if !tlp.requires_seal() {
            return Sealing::Clear;
        }
        let (author, to) = match self.scope {
            Scope::Tlp(_) => return Sealing::NotConfigured,
            Scope::Request(id) => match group.requests().get(&id) {
                Some(r) => (r.said.author.clone(), Some(r.recipients.clone())),
                None => return Sealing::NotConfigured,
            },
            Scope::Thread(root) => match group.message(&root) {
                Some(m) => (m.said.author.clone(), m.to.clone()),
                None => return Sealing::NotConfigured,
            },
        };
        let Some(to) = to else {
            return Sealing::AllOthers;
        };
        let mut audience: Vec<MemberId> = std::iter::once(author).chain(to).collect();
        audience.sort();
        audience.dedup();
        audience.retain(|m| m != me);
        if audience.is_empty() {
            Sealing::NotConfigured
        } else {
            Sealing::To(audience)
        }
    }

    /// The collection resource (TAXII 2.1 §5.2.1).
    pub fn resource(&self, who: &Principal, config: &TaxiiConfig) -> Value {
        let (title, description) = match self.scope {
            Scope::Tlp(t) => (
                t.label().to_owned(),
                format!(
                    "STIX objects of the group's {} reports, each verified against the log{}",
                    t.label(),
                    if t.requires_seal() {
                        "; only reports sealed to this member appear"
                    } else {
                        ""
                    }
                ),
            ),
            Scope::Thread(root) => (
                format!("Thread {}", &root.to_hex()[..12]),
                "Reports answering this thread's messages; a post answers its root".to_owned(),
            ),
            Scope::Request(id) => (
                format!("Request {}", &id.to_hex()[..12]),
                "Reports answering this request; a post answers it".to_owned(),
            ),
        };
        json!({
            "id": self.id,
            "title": title,
            "description": description,
            "alias": self.alias,
            "can_read": true,
            "can_write": self.can_write(who, config),
            "media_types": [STIX_MEDIA_TYPE],
        })
    }
}

/// The collections listed: the five TLP levels, then the configured threads and requests
/// that exist in the group.
pub fn listed(config: &TaxiiConfig, group: &Group) -> Vec<Collection> {
    let tlps = TLP_ALIASES.iter().map(|(t, _)| Scope::Tlp(*t));
    let threads = config
        .threads
        .iter()
        .filter(|r| group.threads().contains_key(r))
        .map(|r| Scope::Thread(*r));
    let requests = config
        .requests
        .iter()
        .filter(|r| group.requests().contains_key(r))
        .map(|r| Scope::Request(*r));
    tlps.chain(threads)
        .chain(requests)
        .map(Collection::of)
        .collect()
}

/// Finds a collection by id or alias, including threads and requests not configured.
pub fn find(key: &str, group: &Group) -> Option<Collection> {
    let tlp = TLP_ALIASES
        .iter()
        .map(|(t, _)| Collection::of(Scope::Tlp(*t)))
        .find(|c| c.id == key || c.alias == key);
    if tlp.is_some() {
        return tlp;
    }
    let by_alias = |prefix: &str| {
        key.strip_prefix(prefix)
            .and_then(|h| StatementId::parse(h).ok())
    };
    if let Some(root) = by_alias("thread-") {
        return group
            .threads()
            .contains_key(&root)
            .then(|| Collection::of(Scope::Thread(root)));
    }
    if let Some(id) = by_alias("request-") {
        return group
            .requests()
            .contains_key(&id)
            .then(|| Collection::of(Scope::Request(id)));
    }
    group
        .threads()
        .keys()
        .map(|r| Collection::of(Scope::Thread(*r)))
        .chain(
            group
                .requests()
                .keys()
                .map(|r| Collection::of(Scope::Request(*r))),
        )
        .find(|c| c.id == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids the README lists: clients are configured with them, so they must not move.
    #[test]
    fn tlp_collection_ids_are_pinned() {
        let ids: Vec<String> = TLP_ALIASES
            .iter()
            .map(|(t, _)| Collection::of(Scope::Tlp(*t)).id)
            .collect();
        assert_eq!(
            ids,
            [
                "ccc40c01-8d11-8261-9f36-fca365c664f8",
                "1e21fc49-f6a9-8266-9f40-431e6acd9222",
                "abc39f59-cf72-8502-b41f-b5043ea1a5cf",
                "39e989be-9064-8d82-8fad-846f433afe5f",
                "c0b0bbd2-9f3e-8e74-abfc-45c2c2762fd7",
            ]
        );
    }
}
