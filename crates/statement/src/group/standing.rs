//! Standing: each member's record, computed from the log alone (DESIGN.md, "Standing").
//!
//! Times: a statement's time is the trusted upper bound of when it was in the log — the
//! timestamp of the first witness-cosigned checkpoint that covered it, supplied by the
//! caller — and, where no witness time is known, the author's own claim. Requests for
//! assistance count for their addressees (`to`); communication checks count for their
//! addressees, or for every other member when sent to the whole group.

use serde::Serialize;

use super::Group;
use super::state::{Accused, Request, Said};
use crate::ids::{MemberId, Timestamp};

/// One member's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// The member.
    pub member: MemberId,
    /// Requests for assistance addressed to it.
    pub requests_received: u32,
    /// Of those, answered.
    pub answered: u32,
    /// Of those answered, answered by the due time.
    pub answered_on_time: u32,
    /// Unanswered and past due at `now`.
    pub overdue: u32,
    /// Unanswered and not yet due at `now`.
    pub open: u32,
    /// Median seconds from request to answer, over answered requests.
    pub median_answer_seconds: Option<i64>,
    /// Communication checks addressed to it.
    pub checks_received: u32,
    /// Of those, acknowledged with a receipt.
    pub receipts_given: u32,
    /// Of those, acknowledged by the due time.
    pub receipts_on_time: u32,
    /// Agreements it signed.
    pub agreements_signed: u32,
    /// Recorded evidence of its equivocation.
    pub evidence_against: u32,
}

impl Group {
    /// Every member's standing at `now`. `witnessed(index)` gives the trusted time at which
    /// the statement at `index` was first covered by a cosigned checkpoint, if known.
    pub fn standing(
        &self,
        now: &Timestamp,
        witnessed: &dyn Fn(u64) -> Option<Timestamp>,
    ) -> Vec<Standing> {
        let time_of = |s: &Said| witnessed(s.index).unwrap_or_else(|| s.time.clone());
        self.members
            .keys()
            .map(|m| {
                let mut st = Standing {
                    member: m.clone(),
                    requests_received: 0,
                    answered: 0,
                    answered_on_time: 0,
                    overdue: 0,
                    open: 0,
                    median_answer_seconds: None,
                    checks_received: 0,
                    receipts_given: 0,
                    receipts_on_time: 0,
                    agreements_signed: 0,
                    evidence_against: 0,
                };
                let mut durations = Vec::new();
                for r in self.requests.values().filter(|r| r.recipients.contains(m)) {
                    tally_request(&mut st, &mut durations, r, m, now, &time_of);
                }
                durations.sort_unstable();
                st.median_answer_seconds = median(&durations);
                st.agreements_signed = count(
                    self.agreements
                        .values()
                        .filter(|a| a.signed.contains_key(m)),
                );
                st.evidence_against = count(
                    self.evidence
                        .iter()
                        .filter(|e| e.accused == Accused::Member(m.clone())),
                );
                st
            })
            .collect()
    }
}

fn tally_request(
    st: &mut Standing,
    durations: &mut Vec<i64>,
    r: &Request,
    m: &MemberId,
    now: &Timestamp,
    time_of: &dyn Fn(&Said) -> Timestamp,
) {
    if r.check {
        st.checks_received += 1;
        if let Some(receipt) = r.receipts.get(m) {
            st.receipts_given += 1;
            st.receipts_on_time += u32::from(time_of(receipt) <= r.due);
        }
        return;
    }
    st.requests_received += 1;
    match r.answers.get(m) {
        Some(answer) => {
            let at = time_of(answer);
            st.answered += 1;
            st.answered_on_time += u32::from(at <= r.due);
            durations.push(time_of(&r.said).seconds_until(&at).max(0));
        }
        None if *now > r.due => st.overdue += 1,
        None => st.open += 1,
    }
}

fn count<T>(it: impl Iterator<Item = T>) -> u32 {
    u32::try_from(it.count()).unwrap_or(u32::MAX)
}

/// Median of sorted values; the mean of the two middle ones (rounded down) when even.
fn median(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]).div_euclid(2)),
    }
}
