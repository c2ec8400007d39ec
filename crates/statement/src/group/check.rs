//! Phase one of the fold: decide, without changing anything.
//!
//! Order matters only for which reason is reported when several apply; it is fixed so
//! that every party reports the same one: group, author, duplicate, signature (so that a
//! chain error is only ever reported for a statement its author really signed), chain,
//! body, refs, addressees, then the kind's own rules.
//!
//! Statements already in the log are found through a [`Lookup`], so that the rules can run
//! over a log kept on disk as well as over one held in memory.

use super::{Group, Lookup, Refused, Rejection, SignatureCheck, evidence};
use crate::envelope::Signed;
use crate::ids::{Digest, MemberId};
use crate::kind::{
    AgreementBody, Body, Kind, MemberAction, MemberBody, PositionBody, ProposalBody, Stance,
};

pub(super) fn check<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    signed: &Signed,
    sig: SignatureCheck<'_>,
) -> Result<Body, Refused<L::Error>> {
    let s = signed.statement();
    let logged = |id: &Digest| lookup.logged(id, g.size).map_err(Refused::Lookup);
    let Some(genesis) = &g.genesis else {
        return Ok(check_genesis(signed, sig)?);
    };
    if s.group != genesis.origin {
        return Err(Rejection::WrongGroup {
            expected: genesis.origin.clone(),
            got: s.group.clone(),
        }
        .into());
    }
    if s.kind == Kind::Genesis {
        return Err(Rejection::AlreadyFounded.into());
    }
    let author = g
        .members
        .get(&s.author)
        .ok_or_else(|| Rejection::UnknownAuthor {
            author: s.author.clone(),
        })?;
    // A statement that extends its author's chain cannot already be in the log: every
    // logged statement of this author has a smaller seq, hence another id. So the log is
    // searched only for one that does not.
    let extends_chain = s.seq == author.last_seq + 1 && s.prev == author.last_id;
    if !extends_chain && let Some(logged) = logged(&signed.id())? {
        return Err(Rejection::Duplicate {
            id: signed.id(),
            index: logged.index,
        }
        .into());
    }
    if !author.active {
        return Err(Rejection::RemovedMember {
            author: s.author.clone(),
        }
        .into());
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
        }
        .into());
    }
    check_chain(&s.author, author.last_seq, author.last_id, s.seq, s.prev)?;
    let body = Body::parse(s).map_err(Rejection::from)?;
    for r in &s.refs {
        if logged(r)?.is_none() {
            return Err(Rejection::UnknownRef { id: *r }.into());
        }
    }
    for m in s.to.iter().flatten() {
        check_active(g, m)?;
    }
    check_kind(g, lookup, signed, &body)?;
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

fn check_kind<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    signed: &Signed,
    body: &Body,
) -> Result<(), Refused<L::Error>> {
    let s = signed.statement();
    match body {
        Body::Member(b) => Ok(check_member(g, b)?),
        Body::Proposal(b) => check_proposal(g, lookup, b, s.refs.first().copied()),
        Body::Position(b) => check_position(g, lookup, &s.author, b, s.refs[0]),
        Body::Agreement(b) => check_agreement(g, lookup, b, s.refs[0]),
        Body::Evidence(b) => Ok(evidence::check(g, b).map(|_| ())?),
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

fn check_proposal<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    b: &ProposalBody,
    amends: Option<Digest>,
) -> Result<(), Refused<L::Error>> {
    let Some(amends) = amends else { return Ok(()) };
    let Some((proposal, _)) = g.version(&amends) else {
        return Err(wrong_kind(g, lookup, amends, Kind::Proposal)?.into());
    };
    let latest = proposal.versions.last().map_or(amends, |v| v.said.id);
    let expected = proposal.versions.len() as u32 + 1;
    if b.version != expected || amends != latest {
        return Err(Rejection::ProposalVersion {
            expected,
            got: b.version,
            latest,
        }
        .into());
    }
    Ok(())
}

fn check_position<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    author: &MemberId,
    b: &PositionBody,
    target: Digest,
) -> Result<(), Refused<L::Error>> {
    let kind = lookup
        .logged(&target, g.size)
        .map_err(Refused::Lookup)?
        .map(|l| l.kind)
        .ok_or(Rejection::UnknownRef { id: target })?;
    if !b.stance.allowed_on(kind) {
        return Err(Rejection::StanceNotAllowed {
            stance: b.stance,
            target: kind,
        }
        .into());
    }
    // The body's rules make `text_sha256` present exactly for `sign`.
    let (Stance::Sign, Some(got)) = (b.stance, b.text_sha256) else {
        return Ok(());
    };
    let Some(agreement) = g.agreements.get(&target) else {
        return Err(wrong_kind(g, lookup, target, Kind::Agreement)?.into());
    };
    if got != agreement.text_sha256 {
        return Err(Rejection::SignHashMismatch {
            expected: agreement.text_sha256,
            got,
        }
        .into());
    }
    if !agreement.signatories.contains(author) {
        return Err(Rejection::NotASignatory {
            member: author.clone(),
        }
        .into());
    }
    Ok(())
}

fn check_agreement<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    b: &AgreementBody,
    version: Digest,
) -> Result<(), Refused<L::Error>> {
    let Some((_, v)) = g.version(&version) else {
        return Err(wrong_kind(g, lookup, version, Kind::Proposal)?.into());
    };
    if v.text_sha256 != b.text_sha256 {
        return Err(Rejection::UnknownTextHash { got: b.text_sha256 }.into());
    }
    for m in &b.signatories {
        check_active(g, m)?;
    }
    Ok(())
}

/// The rejection for a ref that names something other than `expected`: what it names, or
/// that it names nothing in the log.
fn wrong_kind<L: Lookup + ?Sized>(
    g: &Group,
    lookup: &L,
    id: Digest,
    expected: Kind,
) -> Result<Rejection, Refused<L::Error>> {
    Ok(match lookup.logged(&id, g.size).map_err(Refused::Lookup)? {
        Some(l) => Rejection::WrongRefKind {
            id,
            got: l.kind,
            expected,
        },
        None => Rejection::UnknownRef { id },
    })
}
