//! The crash tests' checks of the log after the last restart: everything fetched through
//! the read path and checked against the final checkpoint, every checkpoint any client saw
//! consistent with it, every answer in the log at its index, and the stale partial tiles a
//! kill can leave behind.

use super::*;

/// Everything in the log, fetched through the read path and checked against the final
/// checkpoint: (final checkpoint, leaves by index, leaf hashes).
pub(super) async fn fetch_log(
    world: &World,
) -> anyhow::Result<(Checkpoint, Vec<Signed>, Vec<tlog::Hash>)> {
    let me = &world.members[0];
    let note = world.client.get_bytes(me, "/checkpoint").await?;
    let cp = world.saw(&String::from_utf8(note)?)?;
    let mut entries = Vec::new();
    for bundle in bundles_for_size(cp.size()) {
        let data = world
            .client
            .get_bytes(me, &format!("/{}", bundle.path()))
            .await?;
        for (i, leaf) in parse_bundle(bundle, &data)?.into_iter().enumerate() {
            let index = bundle.first_entry() + i as u64;
            entries.push(
                Signed::from_leaf(leaf).with_context(|| format!("entry {index} does not parse"))?,
            );
        }
    }
    ensure!(
        entries.len() as u64 == cp.size(),
        "bundles vs checkpoint size"
    );
    let leaves: Vec<tlog::Hash> = entries.iter().map(|s| tlog::leaf_hash(s.leaf())).collect();
    Ok((cp, entries, leaves))
}

/// Checks the log against every checkpoint seen: the root recomputed from the entries at
/// each size, and (for up to `proofs` of them) the host's consistency proof to the final
/// tree. Returns the number of distinct sizes checked.
pub(super) async fn check_consistency(
    world: &World,
    final_cp: &Checkpoint,
    leaves: &[tlog::Hash],
    proofs: usize,
) -> anyhow::Result<(usize, usize)> {
    let seen = world.seen.lock().unwrap().clone();
    let mut by_size: BTreeMap<u64, tlog::Hash> = BTreeMap::new();
    for (note, (size, root)) in &seen {
        if let Some(other) = by_size.insert(*size, *root) {
            ensure!(
                other == *root,
                "two checkpoints of size {size} with different roots (split view):\n{note}"
            );
        }
        ensure!(
            *size <= final_cp.size(),
            "a checkpoint of size {size} was seen, beyond the final {}",
            final_cp.size()
        );
    }
    let mut frontier = Frontier::new();
    for (&size, root) in &by_size {
        while frontier.size() < size {
            frontier.append(leaves[frontier.size() as usize], |_, _| {})?;
        }
        ensure!(
            frontier.root() == *root,
            "the log's first {size} entries do not hash to the root of the checkpoint seen at that size"
        );
    }
    let sizes: Vec<(u64, tlog::Hash)> = by_size.into_iter().collect();
    let step = sizes.len().div_ceil(proofs.max(1)).max(1);
    let mut checked = 0;
    for (i, (size, root)) in sizes.iter().enumerate() {
        if i % step != 0 && i != sizes.len() - 1 {
            continue;
        }
        let path = format!("/v1/proof/consistency?old={size}&new={}", final_cp.size());
        let v = world.client.get_json(&world.members[1], &path).await?;
        verify_consistency(
            *size,
            final_cp.size(),
            root,
            &final_cp.root(),
            &hashes(&v["proof"])?,
        )
        .with_context(|| format!("the host's consistency proof from {size} fails"))?;
        checked += 1;
    }
    Ok((sizes.len(), checked))
}

/// Checks what the clients learnt against the log.
pub(super) fn check_outcomes(entries: &[Signed], outcomes: &[Outcome]) -> anyhow::Result<()> {
    let mut at: HashMap<StatementId, u64> = HashMap::new();
    for (i, s) in entries.iter().enumerate() {
        ensure!(
            at.insert(s.id(), i as u64).is_none(),
            "statement {} is in the log twice",
            s.id()
        );
    }
    let mut ours = HashSet::new();
    for o in outcomes {
        for (id, index, _) in &o.answered {
            match at.get(id) {
                Some(i) if i == index => {}
                Some(i) => bail!("statement {id} was answered with index {index} but is at {i}"),
                None => bail!("statement {id}, answered with index {index}, is not in the log"),
            }
            ours.insert(*id);
        }
        for (id, index) in &o.discovered {
            ensure!(
                at.get(id) == Some(index),
                "statement {id}, found at {index} when resuming, is at {:?}",
                at.get(id)
            );
            ours.insert(*id);
        }
        for id in &o.abandoned {
            ensure!(
                !at.contains_key(id),
                "statement {id} was not in the log when its client resumed, but is now"
            );
        }
    }
    for (i, s) in entries.iter().enumerate().skip(1) {
        ensure!(
            ours.contains(&s.id()),
            "entry {i} ({}) was never answered nor found by its author",
            s.id()
        );
    }
    // Every author's chain is complete and in order (the fold checks it too, at start).
    let mut chains: HashMap<&str, (u64, Option<StatementId>)> = HashMap::new();
    for (i, s) in entries.iter().enumerate() {
        let st = s.statement();
        let (seq, prev) = chains.entry(st.author.as_str()).or_insert((0, None));
        ensure!(
            st.seq == *seq + 1 && st.prev == *prev,
            "entry {i} breaks {}'s chain",
            st.author
        );
        *seq = st.seq;
        *prev = Some(s.id());
    }
    Ok(())
}

/// Partial entry bundles and level-0 tiles left on disk whose path lies inside the final
/// tree but whose content is not the log's: written for a batch that a kill cut before its
/// checkpoint was committed, at a width the tree then never stopped at. Returns their
/// paths (a finding to report, not a lost statement: no checkpoint covers them).
pub(super) fn stale_partials(
    tiles: &std::path::Path,
    entries: &[Signed],
    leaves: &[tlog::Hash],
) -> Vec<String> {
    let mut stale = Vec::new();
    for (kind, dir) in [
        ("entries", tiles.join("tile/entries")),
        ("0", tiles.join("tile/0")),
    ] {
        let Ok(dirs) = std::fs::read_dir(&dir) else {
            continue;
        };
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            let Some(index) = name.strip_suffix(".p").and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                let Ok(width) = f.file_name().to_string_lossy().parse::<u64>() else {
                    continue;
                };
                let (start, end) = (index * 256, index * 256 + width);
                if end > entries.len() as u64 {
                    continue;
                }
                let data = std::fs::read(f.path()).unwrap();
                let want: Vec<u8> = if kind == "entries" {
                    tlog::tile::encode_bundle(
                        &entries[start as usize..end as usize]
                            .iter()
                            .map(Signed::leaf)
                            .collect::<Vec<_>>(),
                    )
                    .unwrap()
                } else {
                    leaves[start as usize..end as usize]
                        .iter()
                        .flat_map(|h| h.as_bytes().to_vec())
                        .collect()
                };
                if data != want {
                    stale.push(format!("tile/{kind}/{name}/{width}"));
                }
            }
        }
    }
    stale.sort();
    stale
}

/// What the host does with each stale partial tile: whether `GET /tile/...` serves it,
/// and whether its inclusion proof at that tile's tree size verifies.
pub(super) async fn probe_stale(
    world: &World,
    tiles: &std::path::Path,
    stale: &[String],
    leaves: &[tlog::Hash],
) -> Vec<String> {
    let mut out = Vec::new();
    for path in stale {
        let on_disk = std::fs::read(tiles.join(path)).unwrap();
        let served = match world
            .client
            .get_bytes(&world.members[0], &format!("/{path}"))
            .await
        {
            Ok(b) if b == on_disk => "served as is".to_owned(),
            Ok(_) => "served, other bytes".to_owned(),
            Err(e) => format!("not served ({e})"),
        };
        let mut parts = path.rsplit('/');
        let width: u64 = parts.next().unwrap().parse().unwrap();
        let index: u64 = parts
            .next()
            .unwrap()
            .trim_end_matches(".p")
            .parse()
            .unwrap();
        let (leaf, size) = (index * 256, index * 256 + width);
        let proof = format!("/v1/proof/inclusion?index={leaf}&size={size}");
        let proved = match world.client.get_json(&world.members[0], &proof).await {
            Ok(v) => match verify_inclusion(
                &leaves[leaf as usize],
                leaf,
                size,
                &hashes(&v["proof"]).unwrap_or_default(),
                &tlog::merkle::root_of(&leaves[..size as usize]),
            ) {
                Ok(()) => "its inclusion proof at that size verifies".to_owned(),
                Err(e) => format!("its inclusion proof at that size is wrong ({e})"),
            },
            Err(e) => format!("no inclusion proof at that size ({e})"),
        };
        out.push(format!("{path}: {served}; {proved}"));
    }
    out
}
