//! [`PostgresState`]: the sequencer's state in PostgreSQL, for when one machine is not
//! enough (DESIGN.md, "Storage").
//!
//! Why a worker thread: [`StateStore`] is synchronous and is called both from the
//! sequencer's own std thread and from inside tokio handlers. The synchronous `postgres`
//! crate panics when called from inside a tokio runtime, so the store owns one std thread
//! that runs a current-thread tokio runtime and one `tokio-postgres` connection. Callers
//! send a request over an unbounded channel (sending never blocks and never needs a
//! runtime) and wait for the answer on a std channel (which never touches tokio).
//! Requests are served one at a time, in order; the connection is re-opened on the next
//! request when it was lost.
//!
//! Durability: every change is one transaction, and the session sets
//! `synchronous_commit = on`, so `COMMIT` returns only once the server has flushed its
//! write-ahead log (provided the server runs with `fsync = on`, its default).
//!
//! Compare-and-swap: the `head` table always holds exactly one row (size 0 when the log is
//! empty). A commit runs `UPDATE head ... WHERE size = $expected` first, in the same
//! transaction as the id inserts. PostgreSQL locks the row; a concurrent commit from the
//! same size waits for that lock, then re-checks its `WHERE` against the committed row,
//! matches nothing and reports a conflict. This holds between any number of processes.
//!
//! An error from `commit` does not say whether it happened (the connection may have
//! dropped after `COMMIT` was sent): the caller re-reads the head, as the sequencer does.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use statement::Digest;
use tokio::sync::mpsc;
use tokio_postgres::{Client, Config, NoTls};

use crate::lease::{self, LeaseRow};
use crate::{Head, Lease, StateStore, StoreError};

/// The longest one request (including a reconnection) may take before it fails with
/// [`StoreError::PostgresTimeout`] and the connection is dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connection timeout used when the URL does not set `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Key of the advisory lock that serialises schema creation between processes
/// (`CREATE TABLE IF NOT EXISTS` alone races in PostgreSQL).
const SCHEMA_LOCK: i64 = 0x6465_7465_6e74_6501;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS head (
    one SMALLINT PRIMARY KEY CHECK (one = 1),
    size BIGINT NOT NULL CHECK (size >= 0),
    root BYTEA,
    checkpoint BYTEA,
    CHECK ((size = 0) = (root IS NULL) AND (size = 0) = (checkpoint IS NULL))
);
INSERT INTO head (one, size) VALUES (1, 0) ON CONFLICT (one) DO NOTHING;
CREATE TABLE IF NOT EXISTS statements (
    id BYTEA PRIMARY KEY,
    idx BIGINT NOT NULL UNIQUE CHECK (idx >= 0)
);
CREATE TABLE IF NOT EXISTS lease (
    one SMALLINT PRIMARY KEY CHECK (one = 1),
    holder TEXT NOT NULL,
    address TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
INSERT INTO lease (one, holder, address, epoch, expires) VALUES (1, '', '', 0, 'epoch')
    ON CONFLICT (one) DO NOTHING;
";

/// Sequencer state in PostgreSQL; meets every contract of [`StateStore`], including the
/// compare-and-swap between several processes sharing one database.
///
/// The tables (`head`, `statements`) live in the connection's `search_path`: give each
/// log its own database, or its own schema with `?options=-csearch_path%3D<schema>` in
/// the URL.
#[derive(Debug)]
pub struct PostgresState {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    worker: Option<JoinHandle<()>>,
}

#[derive(Debug)]
enum Request {
    Head,
    Commit {
        expected: u64,
        head: Head,
        ids: Vec<(Digest, u64)>,
    },
    Amend {
        size: u64,
        checkpoint: Vec<u8>,
    },
    IndexOf(Digest),
    Lease {
        holder: String,
        address: String,
        ttl: Duration,
    },
    Release(String),
}

#[derive(Debug)]
enum Answer {
    Head(Option<Head>),
    Done,
    Index(Option<u64>),
    Lease(Lease),
}

#[derive(Debug)]
struct Job {
    request: Request,
    reply: std_mpsc::SyncSender<Result<Answer, StoreError>>,
}

impl PostgresState {
    /// Connects to the PostgreSQL server at `url` (`postgres://user:password@host/db`,
    /// without TLS) and creates the tables if needed. Fails if the server cannot be
    /// reached or refuses; later requests reconnect on their own.
    pub fn connect(url: &str) -> Result<PostgresState, StoreError> {
        let mut config: Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                path: "the PostgreSQL store's runtime".into(),
                source,
            })?;
        let (jobs, rx) = mpsc::unbounded_channel();
        let worker = std::thread::Builder::new()
            .name("detente-postgres".into())
            .spawn(move || runtime.block_on(serve(config, rx)))
            .map_err(|source| StoreError::Io {
                path: "the PostgreSQL store's thread".into(),
                source,
            })?;
        let store = PostgresState {
            jobs: Some(jobs),
            worker: Some(worker),
        };
        // The first request connects and creates the schema; report its failure now.
        store.head()?;
        Ok(store)
    }

    fn call(&self, request: Request) -> Result<Answer, StoreError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or(StoreError::PostgresStopped)?;
        jobs.send(Job { request, reply })
            .map_err(|_| StoreError::PostgresStopped)?;
        answer.recv().map_err(|_| StoreError::PostgresStopped)?
    }
}

impl Drop for PostgresState {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop, which closes the connection.
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
    }
}

fn unexpected(answer: Answer) -> StoreError {
    StoreError::Corrupt(format!("the PostgreSQL worker answered {answer:?}"))
}

impl StateStore for PostgresState {
    fn head(&self) -> Result<Option<Head>, StoreError> {
        match self.call(Request::Head)? {
            Answer::Head(head) => Ok(head),
            other => Err(unexpected(other)),
        }
    }

    fn commit(
        &self,
        expected_size: u64,
        head: &Head,
        ids: &[(Digest, u64)],
    ) -> Result<(), StoreError> {
        let request = Request::Commit {
            expected: expected_size,
            head: head.clone(),
            ids: ids.to_vec(),
        };
        match self.call(request)? {
            Answer::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn amend_checkpoint(&self, size: u64, checkpoint: &[u8]) -> Result<(), StoreError> {
        let request = Request::Amend {
            size,
            checkpoint: checkpoint.to_vec(),
        };
        match self.call(request)? {
            Answer::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn index_of(&self, id: &Digest) -> Result<Option<u64>, StoreError> {
        match self.call(Request::IndexOf(*id))? {
            Answer::Index(index) => Ok(index),
            other => Err(unexpected(other)),
        }
    }

    fn acquire_lease(
        &self,
        holder: &str,
        address: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let request = Request::Lease {
            holder: holder.to_owned(),
            address: address.to_owned(),
            ttl,
        };
        match self.call(request)? {
            Answer::Lease(lease) => Ok(lease),
            other => Err(unexpected(other)),
        }
    }

    fn release_lease(&self, holder: &str) -> Result<(), StoreError> {
        match self.call(Request::Release(holder.to_owned()))? {
            Answer::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

/// The worker's loop: one request at a time, each bounded by [`REQUEST_TIMEOUT`].
async fn serve(config: Config, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut client: Option<Client> = None;
    while let Some(job) = jobs.recv().await {
        let answer =
            tokio::time::timeout(REQUEST_TIMEOUT, handle(&config, &mut client, job.request))
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::PostgresTimeout {
                        seconds: REQUEST_TIMEOUT.as_secs(),
                    })
                });
        if answer.is_err() {
            // After a timeout or a lost connection the session's state is unknown: start
            // afresh on the next request. (An error from the server, such as a constraint
            // violation, leaves the connection usable, but reconnecting is cheap and rare.)
            client = None;
        }
        // The caller may have gone; then nobody wants the answer.
        let _ = job.reply.send(answer);
    }
}

async fn handle(
    config: &Config,
    client: &mut Option<Client>,
    request: Request,
) -> Result<Answer, StoreError> {
    let client = match client {
        Some(c) if !c.is_closed() => c,
        slot => slot.insert(open(config).await?),
    };
    match request {
        Request::Head => Ok(Answer::Head(read_head(&*client).await?)),
        Request::Commit {
            expected,
            head,
            ids,
        } => {
            commit(client, expected, &head, &ids).await?;
            Ok(Answer::Done)
        }
        Request::Amend { size, checkpoint } => {
            amend(client, size, &checkpoint).await?;
            Ok(Answer::Done)
        }
        Request::IndexOf(id) => Ok(Answer::Index(index_of(client, &id).await?)),
        Request::Lease {
            holder,
            address,
            ttl,
        } => Ok(Answer::Lease(
            acquire_lease(client, &holder, &address, ttl).await?,
        )),
        Request::Release(holder) => {
            client
                .execute(
                    "UPDATE lease SET holder = '', address = '' WHERE one = 1 AND holder = $1",
                    &[&holder],
                )
                .await?;
            Ok(Answer::Done)
        }
    }
}

/// Opens a connection, makes its commits durable on return, and creates the schema.
async fn open(config: &Config) -> Result<Client, StoreError> {
    let (mut client, connection) = config.connect(NoTls).await?;
    // The connection task ends when the server or the network drops it; the next request
    // then sees `is_closed` and reconnects, and the caller sees the error itself.
    tokio::spawn(connection);
    client.batch_execute("SET synchronous_commit = on").await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    tx.batch_execute(SCHEMA).await?;
    tx.commit().await?;
    Ok(client)
}

async fn read_head(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Option<Head>, StoreError> {
    let row = client
        .query_opt("SELECT size, root, checkpoint FROM head WHERE one = 1", &[])
        .await?
        .ok_or_else(|| StoreError::Corrupt("the head row is missing".into()))?;
    let size = from_sql_index(row.try_get::<_, i64>(0)?)?;
    if size == 0 {
        return Ok(None);
    }
    let (root, checkpoint): (Option<Vec<u8>>, Option<Vec<u8>>) = (row.try_get(1)?, row.try_get(2)?);
    let root = root
        .as_deref()
        .and_then(tlog::Hash::from_slice)
        .ok_or_else(|| StoreError::Corrupt("root is not 32 bytes".into()))?;
    let checkpoint =
        checkpoint.ok_or_else(|| StoreError::Corrupt("the head has no checkpoint".into()))?;
    Ok(Some(Head {
        size,
        root,
        checkpoint,
    }))
}

async fn stored_size(client: &impl tokio_postgres::GenericClient) -> Result<u64, StoreError> {
    Ok(read_head(client).await?.map_or(0, |h| h.size))
}

async fn commit(
    client: &mut Client,
    expected: u64,
    head: &Head,
    ids: &[(Digest, u64)],
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // The UPDATE takes the row lock: this is the compare-and-swap (see the module doc).
    let moved = if head.size > expected {
        tx.execute(
            "UPDATE head SET size = $1, root = $2, checkpoint = $3 WHERE one = 1 AND size = $4",
            &[
                &to_sql_index(head.size)?,
                &head.root.as_bytes().as_slice(),
                &head.checkpoint,
                &to_sql_index(expected)?,
            ],
        )
        .await?
    } else {
        0
    };
    if moved != 1 {
        let found = stored_size(&tx).await?;
        return Err(StoreError::Conflict { expected, found });
    }
    let keys: Vec<&[u8]> = ids
        .iter()
        .map(|(id, _)| id.0.as_bytes().as_slice())
        .collect();
    let indices = ids
        .iter()
        .map(|(_, i)| to_sql_index(*i))
        .collect::<Result<Vec<i64>, _>>()?;
    tx.execute(
        "INSERT INTO statements (id, idx) SELECT * FROM UNNEST($1::bytea[], $2::bigint[])",
        &[&keys, &indices],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn amend(client: &mut Client, size: u64, checkpoint: &[u8]) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    let moved = if size > 0 {
        tx.execute(
            "UPDATE head SET checkpoint = $1 WHERE one = 1 AND size = $2",
            &[&checkpoint, &to_sql_index(size)?],
        )
        .await?
    } else {
        0
    };
    if moved != 1 {
        let found = stored_size(&tx).await?;
        return Err(StoreError::Conflict {
            expected: size,
            found,
        });
    }
    tx.commit().await?;
    Ok(())
}

/// Takes or renews the lease in one transaction; `FOR UPDATE` serialises concurrent takers
/// on the row, and `now()` is the server's clock, the same for every host.
async fn acquire_lease(
    client: &mut Client,
    holder: &str,
    address: &str,
    ttl: Duration,
) -> Result<Lease, StoreError> {
    let tx = client.transaction().await?;
    let r = tx
        .query_one(
            "SELECT holder, address, epoch,
                    (EXTRACT(EPOCH FROM (expires - now())) * 1000)::bigint
             FROM lease WHERE one = 1 FOR UPDATE",
            &[],
        )
        .await?;
    let row = LeaseRow {
        holder: r.try_get(0)?,
        address: r.try_get(1)?,
        epoch: r.try_get(2)?,
        remaining_ms: r.try_get(3)?,
    };
    let epoch = match row.take(holder) {
        Ok(epoch) => epoch,
        Err(held) => return Ok(held),
    };
    tx.execute(
        "UPDATE lease SET holder = $1, address = $2, epoch = $3,
                expires = now() + $4::bigint * interval '1 millisecond'
         WHERE one = 1",
        &[&holder, &address, &epoch, &lease::ttl_millis(ttl)],
    )
    .await?;
    tx.commit().await?;
    Ok(lease::granted(epoch))
}

async fn index_of(client: &Client, id: &Digest) -> Result<Option<u64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT idx FROM statements WHERE id = $1",
            &[&id.0.as_bytes().as_slice()],
        )
        .await?;
    row.map(|r| from_sql_index(r.try_get(0)?)).transpose()
}

fn to_sql_index(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n)
        .map_err(|_| StoreError::Corrupt(format!("index {n} exceeds PostgreSQL's bigint")))
}

fn from_sql_index(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative index {n}")))
}
