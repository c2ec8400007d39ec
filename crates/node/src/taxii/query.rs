//! Filtering and pagination (TAXII 2.1 §3.4 filtering, §3.4.1 `added_after`, `limit`,
//! `next`; §3.4.2–3.4.3 `match[id]`, `match[type]`, `match[version]`,
//! `match[spec_version]`; §3.6 pagination with `more` and `next`).
//!
//! Results are in log order, which is `date_added` order ([`super::index`]). `next` is
//! the opaque position of the last record returned (`<log index>.<position in bundle>`);
//! the next page is the same query after it, so it can never widen what the query shows.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use statement::Timestamp;

use super::TaxiiError;
use super::index::{Record, micros};

/// Which versions `match[version]` selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    /// Every version (`all`).
    pub all: bool,
    /// The earliest (`first`).
    pub first: bool,
    /// The latest (`last`, the default).
    pub last: bool,
    /// These `modified` times, in microseconds.
    pub at: BTreeSet<i64>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Only objects added after this time (µs).
    pub added_after: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// Only records after this position.
    pub next: Option<(u64, u32)>,
    /// `match[id]`.
    pub ids: Option<BTreeSet<String>>,
    /// `match[type]`.
    pub types: Option<BTreeSet<String>>,
    /// `match[version]`.
    pub versions: Versions,
    /// `match[spec_version]`.
    pub spec_versions: Option<BTreeSet<String>>,
}

fn bad(param: &str, reason: &'static str) -> TaxiiError {
    TaxiiError::BadParameter {
        param: param.to_owned(),
        reason,
    }
}

fn list(param: &str, v: &str) -> Result<BTreeSet<String>, TaxiiError> {
    let items: Vec<&str> = v.split(',').collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err(bad(param, "empty value in a comma-separated list"));
    }
    Ok(items.into_iter().map(str::to_owned).collect())
}

fn versions(v: &str) -> Result<Versions, TaxiiError> {
    let mut out = Versions::default();
    for item in list("match[version]", v)? {
        match item.as_str() {
            "all" => out.all = true,
            "first" => out.first = true,
            "last" => out.last = true,
            t => {
                let t = Timestamp::parse(t).map_err(|_| {
                    bad("match[version]", "expected last, first, all or timestamps")
                })?;
                out.at.insert(micros(&t));
            }
        }
    }
    Ok(out)
}

impl Query {
    /// Parses the query parameters; `allowed` are the ones this endpoint takes (TAXII 2.1
    /// §3.4 table); others are ignored, as the specification allows. A parameter given
    /// twice, or malformed, is 400.
    pub fn parse(
        params: &[(String, String)],
        allowed: &[&str],
        max_page: usize,
    ) -> Result<Query, TaxiiError> {
        let mut q = Query {
            added_after: None,
            limit: max_page,
            next: None,
            ids: None,
            types: None,
            versions: Versions::default(),
            spec_versions: None,
        };
        let mut seen = BTreeSet::new();
        for (k, v) in params {
            if !allowed.contains(&k.as_str()) {
                continue;
            }
            if !seen.insert(k.as_str()) {
                return Err(bad(k, "given more than once"));
            }
            q.set(k, v, max_page)?;
        }
        if q.versions == Versions::default() {
            q.versions.last = true;
        }
        Ok(q)
    }

    fn set(&mut self, k: &str, v: &str, max_page: usize) -> Result<(), TaxiiError> {
        match k {
            "added_after" => {
                let t = Timestamp::parse(v)
                    .map_err(|_| bad(k, "expected an RFC 3339 UTC timestamp"))?;
                self.added_after = Some(micros(&t));
            }
            "limit" => {
                let n: usize = v
                    .parse()
                    .map_err(|_| bad(k, "expected a positive integer"))?;
                if n == 0 {
                    return Err(bad(k, "expected a positive integer"));
                }
                self.limit = n.min(max_page);
            }
            "next" => {
                self.next =
                    Some(parse_next(v).ok_or_else(|| bad(k, "not a token from this server"))?)
            }
            "match[id]" => self.ids = Some(list(k, v)?),
            "match[type]" => self.types = Some(list(k, v)?),
            "match[version]" => self.versions = versions(v)?,
            "match[spec_version]" => self.spec_versions = Some(list(k, v)?),
            _ => {}
        }
        Ok(())
    }

    /// Applies the `match[...]` filters and the version selection to `records` (in log
    /// order, one collection's), then `added_after` and `next`.
    pub fn select<'a>(&self, records: impl Iterator<Item = &'a Record>) -> Vec<&'a Record> {
        let mut by_id: BTreeMap<&str, Vec<&'a Record>> = BTreeMap::new();
        for r in records {
            let keep = self.ids.as_ref().is_none_or(|s| s.contains(&r.stix_id))
                && self.types.as_ref().is_none_or(|s| s.contains(&r.stix_type))
                && self
                    .spec_versions
                    .as_ref()
                    .is_none_or(|s| s.contains(&r.spec_version));
            if !keep {
                continue;
            }
            let versions = by_id.entry(&r.stix_id).or_default();
            // The same version shared twice is one version: keep the first to enter the log.
            if !versions.iter().any(|v| v.version_key == r.version_key) {
                versions.push(r);
            }
        }
        let mut out: Vec<&Record> = Vec::new();
        for versions in by_id.values() {
            let first = versions.iter().min_by_key(|r| (r.version_key, r.key()));
            let last = versions
                .iter()
                .max_by_key(|r| (r.version_key, std::cmp::Reverse(r.key())));
            for r in versions {
                let v = &self.versions;
                let chosen = v.all
                    || v.at.contains(&r.version_key)
                    || (v.first && first.is_some_and(|f| f.key() == r.key()))
                    || (v.last && last.is_some_and(|l| l.key() == r.key()));
                if chosen {
                    out.push(r);
                }
            }
        }
        out.retain(|r| {
            self.added_after.is_none_or(|a| r.date_added > a)
                && self.next.is_none_or(|n| r.key() > n)
        });
        out.sort_by_key(|r| r.key());
        out
    }
}

/// One page of a selection.
pub struct Page<'a> {
    /// The records of this page.
    pub items: Vec<&'a Record>,
    /// Whether more follow.
    pub more: bool,
    /// The `next` token, when more follow.
    pub next: Option<String>,
}

/// Cuts the first page of `limit` records.
pub fn page<'a>(mut selected: Vec<&'a Record>, limit: usize) -> Page<'a> {
    let more = selected.len() > limit;
    selected.truncate(limit);
    let next = more
        .then(|| selected.last().map(|r| format!("{}.{}", r.index, r.pos)))
        .flatten();
    Page {
        items: selected,
        more,
        next,
    }
}

/// Recent selections by query, so that walking a collection page by page with `next`
/// selects once instead of once per page. A selection stays valid while the index holds
/// the same number of records: the index only grows, and every filter but `next` and
/// `limit` is in the key.
#[derive(Default)]
pub struct Selections(Mutex<VecDeque<Selection>>);

/// The cache key, the index length it was made at, and the records' keys in order.
type Selection = (String, usize, Arc<Vec<(u64, u32)>>);

/// How many selections are kept.
const KEEP_SELECTIONS: usize = 16;

impl Selections {
    /// The selection of `key` at index length `len`, made by `make` if not kept.
    pub fn get_or(
        &self,
        key: &str,
        len: usize,
        make: impl FnOnce() -> Vec<(u64, u32)>,
    ) -> Arc<Vec<(u64, u32)>> {
        let lock = || {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, _, s)) = lock().iter().find(|(k, l, _)| k == key && *l == len) {
            return s.clone();
        }
        let made = Arc::new(make());
        let mut kept = lock();
        kept.push_front((key.to_owned(), len, made.clone()));
        kept.truncate(KEEP_SELECTIONS);
        made
    }
}

/// The cache key of a query on `collection`: every parameter but `next` and `limit`.
pub fn selection_key(collection: &str, params: &[(String, String)]) -> String {
    let mut p: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "next" && k != "limit")
        .collect();
    p.sort();
    let mut key = collection.to_owned();
    for (k, v) in p {
        key.push_str(&format!("&{k}={v}"));
    }
    key
}

/// The page after `next` of a selection, its records found in `records` (log order).
pub fn page_of<'a>(
    keys: &[(u64, u32)],
    records: &'a [Record],
    next: Option<(u64, u32)>,
    limit: usize,
) -> Page<'a> {
    let start = next.map_or(0, |n| keys.partition_point(|k| *k <= n));
    let rest = keys.get(start..).unwrap_or_default();
    let items: Vec<&Record> = rest
        .iter()
        .take(limit)
        .filter_map(|k| {
            let i = records.binary_search_by_key(k, Record::key).ok()?;
            records.get(i)
        })
        .collect();
    let more = rest.len() > limit;
    let next = more
        .then(|| items.last().map(|r| format!("{}.{}", r.index, r.pos)))
        .flatten();
    Page { items, more, next }
}

fn parse_next(v: &str) -> Option<(u64, u32)> {
    let (i, p) = v.split_once('.')?;
    Some((i.parse().ok()?, p.parse().ok()?))
}

/// The `X-TAXII-Date-Added-First`/`-Last` values of a page.
pub fn date_range(items: &[&Record]) -> Option<(String, String)> {
    let first = items.iter().map(|r| r.date_added).min()?;
    let last = items.iter().map(|r| r.date_added).max()?;
    Some((
        super::index::format_micros(first),
        super::index::format_micros(last),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rec(index: u64, id: &str, version: i64) -> Record {
        Record {
            index,
            pos: 0,
            date_added: index as i64 * 10,
            tlp: statement::Tlp::Green,
            answers: None,
            stix_id: id.into(),
            stix_type: id.split("--").next().unwrap().into(),
            version: version.to_string(),
            version_key: version,
            spec_version: "2.1".into(),
            object: Arc::new(serde_json::Value::Null),
        }
    }

    fn q(params: &[(&str, &str)]) -> Result<Query, TaxiiError> {
        let p: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Query::parse(
            &p,
            &[
                "added_after",
                "limit",
                "next",
                "match[id]",
                "match[type]",
                "match[version]",
                "match[spec_version]",
            ],
            100,
        )
    }

    #[test]
    fn versions_and_filters() {
        let rs = [
            rec(1, "indicator--a", 5),
            rec(2, "indicator--a", 7),
            rec(3, "malware--b", 1),
            rec(4, "indicator--a", 6),
            rec(5, "indicator--a", 7),
        ];
        let keys = |q: &Query| {
            q.select(rs.iter())
                .iter()
                .map(|r| r.index)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&q(&[]).unwrap()), vec![2, 3]);
        assert_eq!(
            keys(&q(&[("match[version]", "all")]).unwrap()),
            vec![1, 2, 3, 4]
        );
        assert_eq!(
            keys(&q(&[("match[version]", "first")]).unwrap()),
            vec![1, 3]
        );
        assert_eq!(
            keys(&q(&[("match[version]", "first,last")]).unwrap()),
            vec![1, 2, 3]
        );
        assert_eq!(keys(&q(&[("match[type]", "malware")]).unwrap()), vec![3]);
        assert_eq!(
            keys(&q(&[("match[id]", "indicator--a,x--y")]).unwrap()),
            vec![2]
        );
        assert_eq!(
            keys(
                &q(&[
                    ("added_after", "1970-01-01T00:00:00.000025Z"),
                    ("match[version]", "all")
                ])
                .unwrap()
            ),
            vec![3, 4]
        );
        assert_eq!(
            keys(&q(&[("match[spec_version]", "2.0")]).unwrap()),
            Vec::<u64>::new()
        );
        assert_eq!(
            keys(&q(&[("next", "2.0"), ("match[version]", "all")]).unwrap()),
            vec![3, 4]
        );
    }

    #[test]
    fn bad_parameters_are_400() {
        for p in [
            [("limit", "0")],
            [("limit", "x")],
            [("added_after", "yesterday")],
            [("next", "zzz")],
            [("match[version]", "latest")],
            [("match[id]", "a,,b")],
        ] {
            assert_eq!(q(&p).unwrap_err().status(), 400, "{p:?}");
        }
        assert_eq!(
            q(&[("limit", "1"), ("limit", "2")]).unwrap_err().status(),
            400
        );
        assert_eq!(q(&[("limit", "5000")]).unwrap().limit, 100);
    }

    #[test]
    fn kept_selections_page_like_fresh_ones() {
        let rs: Vec<Record> = (1..=5)
            .map(|i| rec(i, &format!("indicator--{i}"), 1))
            .collect();
        let sels = Selections::default();
        let mut made = 0;
        let mut walk = Vec::new();
        let mut next = None;
        loop {
            let keys = sels.get_or("k", rs.len(), || {
                made += 1;
                q(&[])
                    .unwrap()
                    .select(rs.iter())
                    .iter()
                    .map(|r| r.key())
                    .collect()
            });
            let p = page_of(&keys, &rs, next, 2);
            walk.extend(p.items.iter().map(|r| r.index));
            if !p.more {
                break;
            }
            next = parse_next(p.next.as_deref().unwrap());
        }
        assert_eq!(walk, [1, 2, 3, 4, 5]);
        assert_eq!(made, 1, "selected once for the whole walk");
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
        };
        assert_eq!(
            selection_key(
                "c",
                &p(&[
                    ("limit", "1"),
                    ("match[type]", "x"),
                    ("next", "1.0"),
                    ("added_after", "t")
                ])
            ),
            selection_key("c", &p(&[("added_after", "t"), ("match[type]", "x")])),
        );
        assert_ne!(selection_key("c", &p(&[])), selection_key("d", &p(&[])));
    }

    #[test]
    fn pages_say_more_and_next() {
        let rs: Vec<Record> = (1..=5)
            .map(|i| rec(i, &format!("indicator--{i}"), 1))
            .collect();
        let all = q(&[]).unwrap().select(rs.iter());
        let p = page(all, 2);
        assert!(p.more);
        assert_eq!(p.next.as_deref(), Some("2.0"));
        let p = page(q(&[]).unwrap().select(rs.iter()), 5);
        assert!(!p.more && p.next.is_none());
    }
}
