//! The crash tests' clients: each submits its members' statements while the host is
//! killed and restarted, retries what was cut, and remembers every answer and checkpoint.

use super::*;

/// One client: its members' chains, its random choices and what it learnt.
pub(super) struct ClientTask {
    pub(super) world: Arc<World>,
    pub(super) chains: Vec<Chain>,
    pub(super) rng: Rng,
    pub(super) out: Outcome,
    /// Recently answered statements, for replies and idempotency checks.
    pub(super) recent: Vec<(Signed, u64)>,
    pub(super) cache: HashMap<String, Checkpoint>,
}

impl ClientTask {
    pub(super) async fn run(mut self) -> anyhow::Result<Outcome> {
        let mut epoch = self.world.epoch.load(Ordering::SeqCst);
        let mut n = 0u64;
        while !self.world.stop.load(Ordering::SeqCst) {
            let e = self.world.epoch.load(Ordering::SeqCst);
            if e != epoch && self.idempotency_check().await? {
                epoch = e;
            }
            let count = if self.rng.chance(1, 2) {
                1
            } else {
                self.rng.range(2, 9) as usize
            };
            let mut statements = Vec::with_capacity(count);
            for _ in 0..count {
                n += 1;
                statements.push(self.sign_next(n)?);
            }
            self.submit(statements, count > 1).await?;
        }
        Ok(self.out)
    }

    /// Signs the next statement of one of this client's members: a message, sometimes a
    /// reply to one already answered.
    pub(super) fn sign_next(&mut self, n: u64) -> anyhow::Result<Signed> {
        let c = self.rng.range(0, self.chains.len() as u64) as usize;
        let mut draft = Draft::message(&format!("statement {n} of this client"));
        if !self.recent.is_empty() && self.rng.chance(1, 4) {
            let (to, _) = &self.recent[self.rng.range(0, self.recent.len() as u64) as usize];
            draft = draft.refs(&[to.id()]);
        }
        let chain = &mut self.chains[c];
        let m = &self.world.members[chain.member];
        let author = statement::build::Author::new(common::ORIGIN, m.id.clone(), m.key.clone());
        let signed = author.sign_at(draft, &now(), chain.seq + 1, chain.prev)?;
        chain.seq += 1;
        chain.prev = Some(signed.id());
        Ok(signed)
    }

    /// Submits until every statement is answered or resolved by resuming.
    pub(super) async fn submit(
        &mut self,
        mut pending: Vec<Signed>,
        batch: bool,
    ) -> anyhow::Result<()> {
        let mut backoff = Duration::from_millis(5);
        let mut attempts = 0;
        while !pending.is_empty() {
            attempts += 1;
            ensure!(attempts < 2000, "statements unanswered after 2000 attempts");
            match self.world.client.post(&pending, batch).await {
                // The host may still sequence a request that timed out: only a retry of
                // the very same statements is safe then.
                Answer::TimedOut => {
                    self.out.lost += 1;
                    self.out.retried += 1;
                    tokio::time::sleep(backoff).await;
                }
                // The host that had the request is gone: retry, or resume from its chain.
                Answer::Lost(_) => {
                    self.out.lost += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(100));
                    if self.rng.chance(1, 2) {
                        self.out.retried += 1;
                    } else {
                        self.out.resumed += 1;
                        self.resume(&pending).await?;
                        return Ok(());
                    }
                }
                Answer::Got(503 | 429, _) => {
                    self.out.unavailable += 1;
                    tokio::time::sleep(backoff).await;
                }
                Answer::Got(200, body) if !batch => {
                    self.accept(&pending[0], &body)?;
                    pending.clear();
                }
                Answer::Got(200, body) => {
                    let results = body["results"]
                        .as_array()
                        .with_context(|| format!("a batch answer without results: {body}"))?;
                    ensure!(results.len() == pending.len(), "one result per statement");
                    let mut again = Vec::new();
                    for (s, r) in pending.iter().zip(results) {
                        match r["status"].as_u64() {
                            Some(200) => self.accept(s, r)?,
                            Some(503 | 429) => {
                                self.out.unavailable += 1;
                                again.push(s.clone());
                            }
                            _ => bail!("statement {} refused in a batch: {r}", s.id()),
                        }
                    }
                    pending = again;
                }
                Answer::Got(status, body) => {
                    bail!("statement(s) refused: {status} {body}")
                }
            }
        }
        Ok(())
    }

    /// Checks a receipt: its id, its checkpoint (signed by the log) and its inclusion
    /// proof; records it.
    pub(super) fn accept(&mut self, s: &Signed, r: &Value) -> anyhow::Result<()> {
        ensure!(
            r["id"] == s.id().to_hex(),
            "a receipt for another statement: {r}"
        );
        let index = r["index"].as_u64().context("receipt without index")?;
        let note = r["checkpoint"]
            .as_str()
            .context("receipt without checkpoint")?;
        let cp = match self.cache.get(note) {
            Some(cp) => cp.clone(),
            None => {
                let cp = self.world.saw(note)?;
                self.cache.insert(note.to_owned(), cp.clone());
                cp
            }
        };
        verify_inclusion(
            &tlog::leaf_hash(s.leaf()),
            index,
            cp.size(),
            &hashes(&r["inclusion_proof"])?,
            &cp.root(),
        )
        .with_context(|| format!("the receipt's inclusion proof fails: {r}"))?;
        if r["duplicate"] == true {
            self.out.duplicates += 1;
        }
        self.out.answered.push((s.id(), index, note.to_owned()));
        self.recent.push((s.clone(), index));
        if self.recent.len() > 64 {
            self.recent.remove(0);
        }
        Ok(())
    }

    /// After a restart: re-submits an answered statement, which must be answered with
    /// its original index. Returns false if the host was not reachable.
    pub(super) async fn idempotency_check(&mut self) -> anyhow::Result<bool> {
        let Some((s, index)) = self.recent.first().cloned() else {
            return Ok(true);
        };
        match self
            .world
            .client
            .post(std::slice::from_ref(&s), false)
            .await
        {
            Answer::Lost(_) | Answer::TimedOut | Answer::Got(503 | 429, _) => Ok(false),
            Answer::Got(200, body) => {
                ensure!(
                    body["index"] == index && body["duplicate"] == true,
                    "a retry of statement {} (answered at {index}) got {body}",
                    s.id()
                );
                self.world
                    .saw(body["checkpoint"].as_str().context("no checkpoint")?)?;
                self.out.idempotent_checks += 1;
                Ok(true)
            }
            Answer::Got(status, body) => bail!("a retry of an answered statement: {status} {body}"),
        }
    }

    /// Resumes each chain of `pending` from where the host has it: the statements up to
    /// the host's `last_seq` are in the log (and must be ours, in order), the rest are
    /// given up and the chain continues after the host's.
    pub(super) async fn resume(&mut self, pending: &[Signed]) -> anyhow::Result<()> {
        for chain in &mut self.chains {
            let m = &self.world.members[chain.member];
            let mine: Vec<&Signed> = pending
                .iter()
                .filter(|s| s.statement().author == m.id)
                .collect();
            let Some(first) = mine.first() else { continue };
            let base = first.statement().seq - 1;
            let path = format!("/v1/members/{}", m.id);
            let view = get_until_answered(&self.world, chain.member, &path).await?;
            let last_seq = view["last_seq"].as_u64().context("last_seq")?;
            let last_id = view["last_id"].as_str().map(str::to_owned);
            ensure!(
                last_seq >= base && last_seq <= base + mine.len() as u64,
                "{}'s chain is at {last_seq} on the host, but we had {base} in the log and {} unanswered",
                m.id,
                mine.len()
            );
            let expected = if last_seq == base {
                first.statement().prev.map(|p| p.to_hex())
            } else {
                Some(mine[(last_seq - base - 1) as usize].id().to_hex())
            };
            ensure!(
                last_id == expected,
                "{}'s latest statement on the host is {last_id:?}, not ours ({expected:?})",
                m.id
            );
            for s in &mine {
                if s.statement().seq <= last_seq {
                    let path = format!("/v1/statements/{}", s.id());
                    let found = get_until_answered(&self.world, chain.member, &path).await?;
                    let index = found["index"].as_u64().context("index")?;
                    self.out.discovered.push((s.id(), index));
                } else {
                    self.out.abandoned.push(s.id());
                }
            }
            chain.seq = last_seq;
            chain.prev = last_id.map(|h| StatementId::parse(&h)).transpose()?;
        }
        Ok(())
    }
}

/// A signed read, retried while the host is down; fails on any answer but 200.
pub(super) async fn get_until_answered(
    world: &World,
    member: usize,
    path: &str,
) -> anyhow::Result<Value> {
    for _ in 0..2000 {
        match world.client.get(&world.members[member], path).await {
            Answer::Lost(_) | Answer::TimedOut | Answer::Got(503, _) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Answer::Got(200, v) => return Ok(v),
            Answer::Got(status, v) => bail!("GET {path}: {status} {v}"),
        }
    }
    bail!("GET {path}: no answer")
}

/// Polls `/checkpoint` and remembers every checkpoint seen.
pub(super) async fn watch(world: Arc<World>) -> anyhow::Result<u64> {
    let mut polls = 0;
    while !world.stop.load(Ordering::SeqCst) {
        // While the host is down the read fails: that is expected.
        if let Ok(note) = world
            .client
            .get_bytes(&world.members[0], "/checkpoint")
            .await
        {
            world.saw(&String::from_utf8(note)?)?;
            polls += 1;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok(polls)
}
