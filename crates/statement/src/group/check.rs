//! Phase one of the fold: decide, without changing anything.
//!
//! Order matters only for which reason is reported when several apply; it is fixed so
//! that every party reports the same one: group, author, duplicate, signature (so that a
//! chain error is only ever reported for a statement its author really signed), chain,
//! body, refs, addressees, then the kind's own rules.

use super::{Group, Rejection, SignatureCheck, evidence};
use crate::envelope::Signed;
use crate::ids::{Digest, MemberId};
use crate::kind::{
    AgreementBody, Body, Kind, MemberAction, MemberBody, PositionBody, ProposalBody, Stance,
};

pub(super) fn check(
    g: &Group,
    signed: &Signed,
    sig: SignatureCheck<'_>,
) -> Result<Body, Rejection> {
    let s = signed.statement();
    let Some(genesis) = &g.genesis else {
        return check_genesis(signed, sig);
    };
    if s.group != genesis.origin {
        return Err(Rejection::WrongGroup {
            expected: genesis.origin.clone(),
            got: s.group.clone(),
        });
    }
    if s.kind == Kind::Genesis {
        return Err(Rejection::AlreadyFounded);
    }
    let author = g
        .members
        .get(&s.author)
        .ok_or_else(|| Rejection::UnknownAuthor {
            author: s.author.clone(),
        })?;
    if let Some(logged) = g.statements.get(&signed.id()) {
        return Err(Rejection::Duplicate {
            id: signed.id(),
            index: logged.index,
        });
    }
    if !author.active {
        return Err(Rejection::RemovedMember {
            author: s.author.clone(),
        });
    }
    let current = author.key.verifying_key();
    let verified = match sig {
        SignatureCheck::Trusted => true,
        SignatureCheck::VerifiedWith(k) if k == current => true,
        _ => signed.verify(current),
    };
    if !verified {
        return Err(Rejection::BadSignature {
            author: s.author.clone(),
        });
    }
    check_chain(&s.author, author.last_seq, author.last_id, s.seq, s.prev)?;
    let body = Body::parse(s)?;
    for r in &s.refs {
        if !g.statements.contains_key(r) {
            return Err(Rejection::UnknownRef { id: *r });
        }
    }
    for m in s.to.iter().flatten() {
        check_active(g, m)?;
    }
    check_kind(g, signed, &body)?;
    Ok(body)
}

fn check_genesis(signed: &Signed, sig: SignatureCheck<'_>) -> Result<Body, Rejection> {
    let s = signed.statement();
    if s.kind != Kind::Genesis {
        return Err(Rejection::NotFounded);
    }
    let body = Body::parse(s)?;
    let Body::Genesis(b) = &body else {
        return Err(Rejection::NotFounded);
    };
    // `Body::parse` checked that the author is the first founder.
    let key = b.document.founders[0].key.verifying_key();
    let verified = matches!(sig, SignatureCheck::Trusted) || signed.verify(key);
    if !verified {
        return Err(Rejection::BadSignature {
            author: s.author.clone(),
        });
    }
    Ok(body)
}

fn check_chain(
    author: &MemberId,
    last_seq: u64,
    last_id: Option<Digest>,
    seq: u64,
    prev: Option<Digest>,
) -> Result<(), Rejection> {
    let expected = last_seq + 1;
    if seq > expected {
        return Err(Rejection::SeqGap {
            author: author.clone(),
            expected,
            got: seq,
        });
    }
    if seq < expected {
        return Err(Rejection::SeqRepeat {
            author: author.clone(),
            expected,
            got: seq,
        });
    }
    if prev != last_id {
        return Err(Rejection::PrevMismatch {
            expected: last_id,
            got: prev,
        });
    }
    Ok(())
}

fn check_active(g: &Group, m: &MemberId) -> Result<(), Rejection> {
    match g.members.get(m) {
        Some(member) if member.active => Ok(()),
        _ => Err(Rejection::NotAMember { member: m.clone() }),
    }
}

fn check_kind(g: &Group, signed: &Signed, body: &Body) -> Result<(), Rejection> {
    let s = signed.statement();
    match body {
        Body::Member(b) => check_member(g, b),
        Body::Proposal(b) => check_proposal(g, b, s.refs.first().copied()),
        Body::Position(b) => check_position(g, &s.author, b, s.refs[0]),
        Body::Agreement(b) => check_agreement(g, b, s.refs[0]),
        Body::Evidence(b) => evidence::check(g, b).map(|_| ()),
        _ => Ok(()),
    }
}

fn check_member(g: &Group, b: &MemberBody) -> Result<(), Rejection> {
    match b.action {
        MemberAction::Add if g.members.contains_key(&b.member) => Err(Rejection::MemberExists {
            member: b.member.clone(),
        }),
        MemberAction::Add => Ok(()),
        MemberAction::Remove | MemberAction::Rotate => check_active(g, &b.member),
    }
}

fn check_proposal(g: &Group, b: &ProposalBody, amends: Option<Digest>) -> Result<(), Rejection> {
    let Some(amends) = amends else { return Ok(()) };
    let Some((proposal, _)) = g.version(&amends) else {
        return Err(wrong_kind(g, amends, Kind::Proposal));
    };
    let latest = proposal.versions.last().map_or(amends, |v| v.said.id);
    let expected = proposal.versions.len() as u32 + 1;
    if b.version != expected || amends != latest {
        return Err(Rejection::ProposalVersion {
            expected,
            got: b.version,
            latest,
        });
    }
    Ok(())
}

fn check_position(
    g: &Group,
    author: &MemberId,
    b: &PositionBody,
    target: Digest,
) -> Result<(), Rejection> {
    let kind = g
        .statements
        .get(&target)
        .map(|l| l.kind)
        .ok_or(Rejection::UnknownRef { id: target })?;
    if !b.stance.allowed_on(kind) {
        return Err(Rejection::StanceNotAllowed {
            stance: b.stance,
            target: kind,
        });
    }
    // The body's rules make `text_sha256` present exactly for `sign`.
    let (Stance::Sign, Some(got)) = (b.stance, b.text_sha256) else {
        return Ok(());
    };
    let agreement = g
        .agreements
        .get(&target)
        .ok_or_else(|| wrong_kind(g, target, Kind::Agreement))?;
    if got != agreement.text_sha256 {
        return Err(Rejection::SignHashMismatch {
            expected: agreement.text_sha256,
            got,
        });
    }
    if !agreement.signatories.contains(author) {
        return Err(Rejection::NotASignatory {
            member: author.clone(),
        });
    }
    Ok(())
}

fn check_agreement(g: &Group, b: &AgreementBody, version: Digest) -> Result<(), Rejection> {
    let (_, v) = g
        .version(&version)
        .ok_or_else(|| wrong_kind(g, version, Kind::Proposal))?;
    if v.text_sha256 != b.text_sha256 {
        return Err(Rejection::UnknownTextHash { got: b.text_sha256 });
    }
    for m in &b.signatories {
        check_active(g, m)?;
    }
    Ok(())
}

fn wrong_kind(g: &Group, id: Digest, expected: Kind) -> Rejection {
    match g.statements.get(&id) {
        Some(l) => Rejection::WrongRefKind {
            id,
            got: l.kind,
            expected,
        },
        None => Rejection::UnknownRef { id },
    }
}
