//! Status resources (TAXII 2.1 §4.3): what became of each POSTed envelope.
//!
//! Kept for [`KEEP`] (the specification asks for at least 24 hours), by id, in memory and
//! in [`STATUS_FILE`] in the node's directory, rewritten (temporary file, then rename) on
//! every change, so that a client polling across a restart still gets an answer. The
//! background task that shares an envelope does not survive a restart: objects still
//! pending when the node stopped are reported, on the next start, as failures to post
//! again (re-posting an object that did reach the log is a success without a new
//! statement).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// File name of the kept status resources in the node's directory.
pub const STATUS_FILE: &str = "taxii-status.json";

/// How long a status resource is kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// One object's outcome (TAXII 2.1 §4.3.1 status-details).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A kept status and when it was received (unix seconds).
#[derive(Serialize, Deserialize)]
struct Kept {
    received: u64,
    status: Status,
}

type Map = HashMap<String, Kept>;

/// The statuses of this server, shared by the handlers and the posting tasks.
#[derive(Clone, Default)]
pub struct Statuses {
    map: Arc<Mutex<Map>>,
    file: Option<PathBuf>,
}

fn fresh(k: &Kept) -> bool {
    unix_now().saturating_sub(k.received) < KEEP.as_secs()
}

impl Statuses {
    /// The statuses kept in the node's directory `data`. A file that cannot be read is
    /// logged and replaced: status resources are a courtesy to clients, not the record.
    pub fn open(data: &Path) -> Statuses {
        let file = data.join(STATUS_FILE);
        let mut map: Map = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(error = %e, file = %file.display(), "TAXII statuses unreadable; starting afresh");
                Map::new()
            }),
            Err(_) => Map::new(),
        };
        map.retain(|_, k| fresh(k));
        for k in map.values_mut() {
            for d in std::mem::take(&mut k.status.pendings) {
                k.status.failures.push(Detail {
                    message: Some(
                        "the node stopped before this was confirmed in the log; post it again"
                            .into(),
                    ),
                    ..d
                });
            }
        }
        let s = Statuses {
            map: Arc::new(Mutex::new(map)),
            file: Some(file),
        };
        s.save(&s.lock());
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // A panic while holding the lock leaves whole statuses (each update is one insert).
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the statuses to the file (called with the lock held, so writes are in order).
    fn save(&self, map: &Map) {
        let Some(file) = &self.file else { return };
        let tmp = file.with_extension("json.tmp");
        let written = serde_json::to_vec(map)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, file));
        if let Err(e) = written {
            tracing::warn!(error = %e, file = %file.display(), "cannot keep TAXII statuses");
        }
    }

    /// Stores (or replaces) a status, dropping expired ones.
    pub fn put(&self, s: Status) {
        let mut m = self.lock();
        m.retain(|_, k| fresh(k));
        let received = m.get(&s.id).map_or_else(unix_now, |k| k.received);
        m.insert(
            s.id.clone(),
            Kept {
                received,
                status: s,
            },
        );
        self.save(&m);
    }

    /// A status by id, unless expired.
    pub fn get(&self, id: &str) -> Option<Status> {
        self.lock()
            .get(id)
            .filter(|k| fresh(k))
            .map(|k| k.status.clone())
    }

    /// Moves pending objects to successes or failures once their statements are settled.
    pub fn settle(&self, id: &str, outcome: impl FnOnce(&mut Status)) {
        let mut m = self.lock();
        if let Some(k) = m.get_mut(id) {
            outcome(&mut k.status);
            self.save(&m);
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

    #[test]
    fn kept_across_a_restart_with_pendings_failed() {
        let dir = tempfile::tempdir().unwrap();
        let st = Statuses::open(dir.path());
        let d = Detail {
            id: "indicator--x".into(),
            version: "v".into(),
            message: None,
        };
        st.put(Status {
            id: "s1".into(),
            request_timestamp: "t".into(),
            successes: vec![d.clone()],
            failures: vec![],
            pendings: vec![d],
        });
        drop(st);
        let again = Statuses::open(dir.path());
        let s = again.get("s1").unwrap();
        assert_eq!(s.to_json()["status"], "complete");
        assert_eq!((s.successes.len(), s.failures.len()), (1, 1));
        assert!(
            s.failures[0]
                .message
                .as_ref()
                .unwrap()
                .contains("post it again")
        );
    }
}
