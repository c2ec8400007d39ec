//! What the TAXII tests share: a founded group (alice, bob, carol) on a real host with a
//! witness, each member's node serving TAXII on 127.0.0.1, and a small HTTP client.

use std::time::{Duration, Instant};

use node::Node;
use node::serve::{ServeConfig, Server, Users};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::world::World;

/// The TAXII media type.
pub const TAXII: &str = "application/taxii+json;version=2.1";
/// The API root.
pub const ROOT: &str = "/taxii2/api/";

/// A member's node serving, with a user who may post and one who may only read.
pub struct Served {
    pub server: Server,
    pub base: String,
    pub writer: String,
    pub reader: String,
}

impl Served {
    /// A client as the user who may post.
    pub fn writer(&self) -> Client {
        Client::new(&self.base, Some(&self.writer))
    }
    /// A client as the read-only user.
    pub fn reader(&self) -> Client {
        Client::new(&self.base, Some(&self.reader))
    }
    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base, None)
    }
}

/// The group with one witness (k = 1), so `date_added` comes from a cosignature.
pub async fn world() -> (World, Vec<witness::Running>) {
    World::start_witnessed(1, 1).await
}

/// Starts `who`'s node server, with `taxii.toml` holding `config` if given.
pub async fn serve(w: &World, who: &str, config: Option<&str>) -> Served {
    let data = w.dir.path().join(format!("{who}-taxii"));
    let mut node = Node::init(&data, &w.url, w.genesis.leaf(), w.keys(who)).unwrap();
    node.sync().await.unwrap();
    if let Some(c) = config {
        std::fs::write(data.join("taxii.toml"), c).unwrap();
    }
    let mut users = Users::default();
    let writer = users.add("tool", true).unwrap();
    let reader = users.add("viewer", false).unwrap();
    users.save(&data).unwrap();
    let server = Server::start(
        node,
        ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            sync_every: Duration::from_millis(100),
        },
    )
    .await
    .unwrap();
    Served {
        base: format!("http://{}", server.addr()),
        server,
        writer,
        reader,
    }
}

/// A TAXII client over reqwest, sending what taxii2-client sends.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    cred: Option<(String, String)>,
}

/// An answer: status, headers, JSON body (Null if none or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl Client {
    pub fn new(base: &str, cred: Option<&str>) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            cred: cred.map(|c| {
                let (u, p) = c.split_once(':').unwrap();
                (u.to_owned(), p.to_owned())
            }),
        }
    }

    /// A request to `path` with TAXII `Accept` and the credentials.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_accepting(method, path, TAXII)
    }

    /// A request to `path` with this `Accept` and the credentials.
    pub fn request_accepting(
        &self,
        method: reqwest::Method,
        path: &str,
        accept: &str,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("accept", accept);
        if let Some((u, p)) = &self.cred {
            r = r.basic_auth(u, Some(p));
        }
        r
    }

    /// Sends and reads the answer.
    pub async fn send(r: reqwest::RequestBuilder) -> Answer {
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        Client::send(self.request(reqwest::Method::GET, path)).await
    }

    /// POSTs an envelope to a collection's objects.
    pub async fn post_objects(&self, collection: &str, envelope: &Value) -> Answer {
        let r = self
            .request(
                reqwest::Method::POST,
                &format!("{ROOT}collections/{collection}/objects/"),
            )
            .header("content-type", TAXII)
            .body(envelope.to_string());
        Client::send(r).await
    }

    /// Polls a status until it is complete.
    pub async fn wait_complete(&self, status_id: &str) -> Value {
        let started = Instant::now();
        loop {
            let a = self.get(&format!("{ROOT}status/{status_id}/")).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            if a.body["status"] == "complete" {
                return a.body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still pending: {}",
                a.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POSTs an envelope to a collection's objects, checks it is accepted, and waits
    /// for its status to complete, returning that status.
    pub async fn post_and_wait(&self, collection: &str, envelope: &Value) -> Value {
        let posted = self.post_objects(collection, envelope).await;
        assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
        let id = posted.body["id"].as_str().expect("a status id");
        self.wait_complete(id).await
    }

    /// Polls a collection's objects until `n` are there (another node syncs in the
    /// background), returning them. A thread's or a request's collection is unknown (404)
    /// until the node has synced the statement that opens it; that too is waited out.
    pub async fn wait_objects(&self, collection: &str, query: &str, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let a = self
                .get(&format!("{ROOT}collections/{collection}/objects/{query}"))
                .await;
            if a.status == StatusCode::NOT_FOUND && started.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            let got = a.body["objects"].as_array().cloned().unwrap_or_default();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "only {} of {n} objects: {}",
                got.len(),
                a.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks a TAXII error answer: the status, the media type and the error resource.
pub fn assert_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type(), TAXII);
    assert!(a.body["title"].is_string(), "{}", a.body);
    assert_eq!(a.body["http_status"], status.as_u16().to_string());
}

/// A valid STIX 2.1 indicator with id suffix `n` (a UUID's last 12 hex digits).
pub fn indicator(n: u64, modified: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--8e2e2d2b-17d4-4cbf-938f-{n:012x}"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": format!("indicator {n}"),
        "pattern": format!("[ipv4-addr:value = '10.0.{}.{}']", n / 256 % 256, n % 256),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z"
    })
}

/// The object without the Détente provenance extension (what the poster sent).
pub fn without_provenance(o: &Value) -> Value {
    let mut o = o.clone();
    let ext = o["extensions"].as_object_mut().unwrap();
    ext.remove(node::taxii::EXTENSION_ID)
        .expect("provenance extension");
    if ext.is_empty() {
        o.as_object_mut().unwrap().remove("extensions");
    }
    o
}

/// The collection id of a TLP alias, from the collections list.
pub async fn collection_id(c: &Client, alias: &str) -> String {
    let a = c.get(&format!("{ROOT}collections/")).await;
    a.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["alias"] == alias)
        .unwrap_or_else(|| panic!("no {alias} in {}", a.body))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
