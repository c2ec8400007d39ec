//! Helpers every page shares (reading a statement's content for this member, badges,
//! links), and the statement page: any statement's raw JSON, author, signature status,
//! log index, inclusion proof and addressees.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use statement::{Digest, Signed, StatementId, Tlp};
use tlog::proof::{MemoryTree, prove_inclusion, verify_inclusion};

use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, short, when};
use super::{Console, layout};
use crate::replica::Verified;
use crate::{Node, NodeError};

/// What this member can read of a statement's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The clear or opened content (`subject`, `text`, `title`, `bundle`, …).
    pub value: Option<Value>,
    /// Whether it was sealed (and opened for this member).
    pub opened: bool,
    /// Why it cannot be read, in plain words, when it cannot.
    pub unreadable: Option<String>,
}

impl Content {
    /// A text field of the content.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.value.as_ref()?.get(name)?.as_str()
    }
}

/// The content of `s` for this node's member: the clear body, or the sealed content if it
/// is addressed to (or written by) the member.
pub fn content(node: &Node, s: &Signed) -> Content {
    let st = s.statement();
    match node.open_sealed(s) {
        Some(Ok(v)) => Content {
            value: Some(v),
            opened: true,
            unreadable: None,
        },
        Some(Err(_)) => Content {
            value: None,
            opened: false,
            unreadable: Some("Sealed to us, but it cannot be opened.".into()),
        },
        None if st.sealed.is_some() => Content {
            value: None,
            opened: false,
            unreadable: Some(format!(
                "Sealed to {}; not readable here.",
                names(st.to.iter().flatten())
            )),
        },
        None => Content {
            value: Some(Value::Object(st.body.clone())),
            opened: false,
            unreadable: None,
        },
    }
}

/// Comma-separated member ids.
pub fn names<'a>(ids: impl Iterator<Item = &'a statement::MemberId>) -> String {
    ids.map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Parses a statement id from a URL.
pub fn parse_id(text: &str) -> Result<StatementId, ConsoleError> {
    Digest::parse(text).map_err(|_| ConsoleError::BadInput("That is not a statement id.".into()))
}

/// A statement of the verified log, or 404.
pub fn get(
    node: &Node,
    id: &StatementId,
    what: &'static str,
) -> Result<(u64, Signed), ConsoleError> {
    node.statement(id)?.ok_or(ConsoleError::NotFound { what })
}

/// A TLP badge.
pub fn tlp_badge(tlp: Tlp) -> Markup {
    let class = match tlp {
        Tlp::Clear => "tlp-clear",
        Tlp::Green => "tlp-green",
        Tlp::Amber => "tlp-amber",
        Tlp::AmberStrict => "tlp-amber-strict",
        Tlp::Red => "tlp-red",
    };
    let mut m = Markup::new();
    crate::h!(m, "<span class=\"badge {}\">{}</span>", class, tlp.label());
    m
}

/// A link to a statement's page.
pub fn link(id: &StatementId) -> Markup {
    let mut m = Markup::new();
    crate::h!(
        m,
        "<a href=\"/statement/{}\"><code>{}</code></a>",
        id,
        short(id)
    );
    m
}

/// The latest verified checkpoint and the tree of its entries, rebuilt from the
/// replica's leaves (fine for a working group's log; a very large log would read stored
/// hashes instead).
pub fn verified_tree(node: &Node) -> Result<(Verified, MemoryTree), NodeError> {
    let v = node
        .verified()?
        .ok_or_else(|| NodeError::Replica("nothing verified yet".into()))?;
    let mut tree = MemoryTree::new();
    node.replica.for_each_leaf(|i, leaf| {
        if i < v.size {
            tree.push(tlog::leaf_hash(leaf))
                .map_err(|e| NodeError::Replica(e.to_string()))?;
        }
        Ok(())
    })?;
    if tree.root() != v.root {
        return Err(NodeError::Replica(
            "the replica's entries do not hash to its checkpoint".into(),
        ));
    }
    Ok((v, tree))
}

/// The inclusion proof of the entry at `index` in the latest verified tree: the tree
/// size, the proof, and whether it verifies against the verified root.
pub fn inclusion(node: &Node, index: u64) -> Result<(u64, Vec<tlog::Hash>, bool), NodeError> {
    let (v, tree) = verified_tree(node)?;
    let proof = prove_inclusion(&tree, index, v.size)
        .map_err(|e| NodeError::Replica(format!("inclusion proof: {e}")))?;
    let leaf = node
        .replica
        .leaf(index)?
        .ok_or_else(|| NodeError::Replica(format!("entry {index} missing")))?;
    let ok = verify_inclusion(&tlog::leaf_hash(&leaf), index, v.size, &proof, &v.root).is_ok();
    Ok((v.size, proof, ok))
}

/// Whether the statement's signature verifies with its author's current or a past key.
pub fn signature_ok(node: &Node, s: &Signed) -> bool {
    node.rules().member(&s.statement().author).is_some_and(|m| {
        std::iter::once(&m.key)
            .chain(&m.past_keys)
            .any(|k| s.verify(k.verifying_key()))
    })
}

/// `GET /statement/{id}`.
pub async fn statement(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let (index, s) = get(&node, &id, "That statement")?;
    let st = s.statement();
    let (size, proof, proof_ok) = inclusion(&node, index)?;
    let mut b = Markup::new();
    crate::h!(b, "<h1>Statement {}</h1><dl>", short(&id));
    crate::h!(b, "<dt>Full id</dt><dd><code>{}</code></dd>", id);
    crate::h!(b, "<dt>Kind</dt><dd>{}</dd>", st.kind.as_str());
    crate::h!(
        b,
        "<dt>Author</dt><dd>{} (statement number {} in its chain)</dd>",
        st.author,
        st.seq
    );
    crate::h!(
        b,
        "<dt>Time the author gave</dt><dd>{}</dd>",
        when(&st.time)
    );
    let sig = if signature_ok(&node, &s) {
        "Valid: signed with the author's key"
    } else {
        "NOT valid with the author's keys"
    };
    crate::h!(b, "<dt>Signature</dt><dd>{}</dd>", sig);
    crate::h!(b, "<dt>Position in the log</dt><dd>entry {}</dd>", index);
    crate::h!(
        b,
        "<dt>Proof it is in the log</dt><dd>{} against the checkpoint of {} entries this node verified</dd>",
        if proof_ok { "Verified" } else { "FAILED" },
        size
    );
    let to = st
        .to
        .as_ref()
        .map_or("the whole group".to_owned(), |t| names(t.iter()));
    crate::h!(b, "<dt>Addressed to</dt><dd>{}</dd>", to);
    if st.sealed.is_some() {
        crate::h!(
            b,
            "<dt>Sealed (encrypted)</dt><dd>to {} and its author</dd>",
            to
        );
    }
    b.push(&Markup::from_safe("</dl><h2>Refers to</h2><ul>".into()));
    for r in &st.refs {
        b.push(&Markup::from_safe("<li>".into()));
        b.push(&link(r));
        b.push(&Markup::from_safe("</li>".into()));
    }
    b.push(&Markup::from_safe(
        "</ul><h2>Inclusion proof</h2><ol>".into(),
    ));
    for h in &proof {
        crate::h!(b, "<li><code>{}</code></li>", h.to_base64());
    }
    let raw = serde_json::to_string_pretty(&s.to_value()).unwrap_or_default();
    crate::h!(
        b,
        "</ol><h2>Raw signed statement</h2><pre class=\"signed-json\">{}</pre>",
        raw
    );
    let content = content(&node, &s);
    if content.opened {
        let opened = serde_json::to_string_pretty(&content.value).unwrap_or_default();
        crate::h!(
            b,
            "<h2>Sealed content, opened for {}</h2><pre>{}</pre>",
            node.member(),
            opened
        );
    } else if let Some(u) = &content.unreadable {
        crate::h!(b, "<p class=\"note\">{}</p>", u);
    }
    Ok(layout::page("Statement", &session, "", &b))
}
