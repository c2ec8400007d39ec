//! Status resources (TAXII 2.1 §4.3): what became of each POSTed envelope.
//!
//! Kept in memory for [`KEEP`] (the specification asks for at least 24 hours), by id; a
//! restart forgets them, and their ids then answer 404 as expired ones do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a status resource is kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// One object's outcome (TAXII 2.1 §4.3.1 status-details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The object's id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Why it failed, or where it went.
    pub message: Option<String>,
}

impl Detail {
    fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "version": self.version });
        if let Some(m) = &self.message {
            v["message"] = json!(m);
        }
        v
    }
}

/// A status resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its id (a UUIDv4).
    pub id: String,
    /// When the envelope was received (TAXII timestamp).
    pub request_timestamp: String,
    /// Objects shared and verified in the log.
    pub successes: Vec<Detail>,
    /// Objects refused, with the reason.
    pub failures: Vec<Detail>,
    /// Objects not yet in a checkpoint this node verified.
    pub pendings: Vec<Detail>,
}

impl Status {
    /// The resource as JSON; `complete` exactly when nothing is pending.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "status": if self.pendings.is_empty() { "complete" } else { "pending" },
            "request_timestamp": self.request_timestamp,
            "total_count": self.successes.len() + self.failures.len() + self.pendings.len(),
            "success_count": self.successes.len(),
            "failure_count": self.failures.len(),
            "pending_count": self.pendings.len(),
        });
        // Empty lists are not allowed in TAXII resources (§2.3): omit them.
        for (k, l) in [
            ("successes", &self.successes),
            ("failures", &self.failures),
            ("pendings", &self.pendings),
        ] {
            if !l.is_empty() {
                v[k] = Value::Array(l.iter().map(Detail::to_json).collect());
            }
        }
        v
    }
}

/// The statuses of this server, shared by the handlers and the posting tasks.
#[derive(Clone, Default)]
pub struct Statuses(Arc<Mutex<HashMap<String, (Instant, Status)>>>);

impl Statuses {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Status)>> {
        // A panic while holding the lock leaves whole statuses (each update is one insert).
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores (or replaces) a status, dropping expired ones.
    pub fn put(&self, s: Status) {
        let mut m = self.lock();
        m.retain(|_, (at, _)| at.elapsed() < KEEP);
        let at = m.get(&s.id).map_or_else(Instant::now, |(at, _)| *at);
        m.insert(s.id.clone(), (at, s));
    }

    /// A status by id, unless expired.
    pub fn get(&self, id: &str) -> Option<Status> {
        self.lock()
            .get(id)
            .filter(|(at, _)| at.elapsed() < KEEP)
            .map(|(_, s)| s.clone())
    }

    /// Moves pending objects to successes or failures once their statements are settled.
    pub fn settle(&self, id: &str, outcome: impl FnOnce(&mut Status)) {
        if let Some((_, s)) = self.lock().get_mut(id) {
            outcome(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_completion() {
        let d = |id: &str| Detail {
            id: id.into(),
            version: "v".into(),
            message: None,
        };
        let mut s = Status {
            id: "x".into(),
            request_timestamp: "t".into(),
            successes: vec![],
            failures: vec![d("a")],
            pendings: vec![d("b"), d("c")],
        };
        let v = s.to_json();
        assert_eq!(v["status"], "pending");
        assert_eq!(
            (v["total_count"].as_u64(), v["pending_count"].as_u64()),
            (Some(3), Some(2))
        );
        assert!(v.get("successes").is_none());
        s.successes = std::mem::take(&mut s.pendings);
        let v = s.to_json();
        assert_eq!(v["status"], "complete");
        assert_eq!(v["success_count"], 2);
        let st = Statuses::default();
        st.put(s);
        assert!(st.get("x").is_some() && st.get("y").is_none());
    }
}
