//! Three hosts sharing one PostgreSQL state and one tile store — the bucket named by
//! `DETENTE_TEST_S3` (Garage in CI), or their shared directory when `DETENTE_SKIP_S3=1` —
//! (issue 9): one
//! sequences, the others follow and forward. Clients spread their requests over all three
//! while the leader is SIGKILLed twice (and restarted, as a follower). Afterwards every
//! answered statement is in the log at its answered index, the log is consistent with
//! every checkpoint anyone saw, and each time another host took over within seconds.

use super::*;

/// The lease the hosts run with: a dead leader is replaced within about this long. Long
/// enough that a leader on a starved 2-core CI machine (its three sibling crash tests run
/// beside it) usually commits a batch within half of it.
const LEASE_MS: u64 = 3000;
/// SIGKILLs of the leader.
const LEADER_KILLS: usize = 2;

/// Which of `addrs` says it sequences (`detente_leader 1` in its metrics), if one does.
async fn leader(http: &reqwest::Client, addrs: &[SocketAddr]) -> Option<usize> {
    for (i, addr) in addrs.iter().enumerate() {
        let Ok(r) = http.get(format!("http://{addr}/metrics")).send().await else {
            continue;
        };
        if r.text()
            .await
            .is_ok_and(|t| t.lines().any(|l| l == "detente_leader 1"))
        {
            return Some(i);
        }
    }
    None
}

/// Waits until every host serves the same tree size (followers replay the log a poll
/// interval behind the leader; reads from them are eventually consistent).
async fn converge(http: &reqwest::Client, addrs: &[SocketAddr]) {
    let since = Instant::now();
    loop {
        let mut sizes = Vec::new();
        for addr in addrs {
            let text = match http.get(format!("http://{addr}/metrics")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let size = text
                .lines()
                .find_map(|l| l.strip_prefix("detente_tree_size "))
                .map(str::to_owned);
            sizes.push(size);
        }
        if sizes.iter().all(|s| s.is_some() && *s == sizes[0]) {
            return;
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "hosts do not converge: {sizes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until some host other than `dead` leads; returns it and how long it took.
async fn next_leader(
    http: &reqwest::Client,
    addrs: &[SocketAddr],
    dead: usize,
) -> (usize, Duration) {
    let since = Instant::now();
    loop {
        match leader(http, addrs).await {
            Some(i) if i != dead => return (i, since.elapsed()),
            _ if since.elapsed() > Duration::from_secs(30) => {
                panic!("no host took over within 30 s of the leader's death")
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A member's node syncs the log from `addr` and `detente verify` re-derives the group
/// from scratch; returns what verify printed.
fn node_verifies(site: &Site, addr: SocketAddr) -> String {
    let dir = tempfile::tempdir().unwrap();
    let member = &site.group.members[0];
    let keys = node::keys::MemberKeys {
        member: member.id.clone(),
        signing: member.key.clone(),
        identity: age::x25519::Identity::generate(),
    };
    let key = dir.path().join("member.key");
    std::fs::write(&key, keys.to_file_text().unwrap()).unwrap();
    let data = dir.path().join("node");
    let host = format!("http://{addr}");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(common::BIN)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "detente {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    run(&[
        os("node"),
        os("init"),
        os("--host"),
        host.as_ref(),
        os("--genesis"),
        site.group.genesis_path.as_os_str(),
        os("--key"),
        key.as_os_str(),
        os("--data"),
        data.as_os_str(),
    ]);
    run(&[os("sync"), os("--data"), data.as_os_str()]);
    run(&[os("verify"), os("--data"), data.as_os_str()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_twice_loses_no_answered_statement() {
    let Some(schema) = pg::PgSchema::fresh("failover") else {
        return;
    };
    let seed = Rng::seed();
    eprintln!("seed {seed} (replay with DETENTE_TEST_SEED={seed})");
    let mut rng = Rng::new(seed);
    let mut site = Site::cluster(Some(schema.url.clone()), 3);
    let lease = LEASE_MS.to_string();
    let bucket = s3::fresh_url("failover");
    let mut args = vec!["--lease-ms", lease.as_str()];
    if let Some(url) = &bucket {
        args.extend(["--tiles", url.as_str()]);
    }
    let mut hosts: Vec<HostProc> = (0..3).map(|i| site.start_host(i, &args)).collect();
    eprintln!(
        "tiles in {}",
        bucket.as_deref().unwrap_or("the hosts' shared directory")
    );
    let world = World::new(&site, Client::spread(&site.addrs));
    let http = world.client.http.clone();
    let first = leader(&http, &site.addrs).await;
    assert_eq!(first, Some(0), "the first host started takes the lease");
    let clients = spawn_clients(&world, &site, seed);
    let watcher = tokio::spawn(watch(world.clone()));

    let (mut current, mut takeovers) = (0, Vec::new());
    for kill in 0..LEADER_KILLS {
        tokio::time::sleep(Duration::from_millis(rng.range(800, 2500))).await;
        assert!(
            hosts.iter_mut().all(HostProc::running),
            "a host died on its own before kill {kill}"
        );
        hosts[current].kill();
        let (next, took) = next_leader(&http, &site.addrs, current).await;
        takeovers.push(took);
        hosts[current] = site.start_host(current, &args);
        world.epoch.fetch_add(1, Ordering::SeqCst);
        current = next;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let outcomes = stop_clients(&world, clients).await;
    let polls = watcher.await.unwrap().unwrap();
    assert!(
        hosts.iter_mut().all(HostProc::running),
        "a host died on its own"
    );

    converge(&http, &site.addrs).await;
    let (final_cp, entries, leaves) = fetch_log(&world).await.unwrap();
    assert_eq!(entries[0], site.group.genesis, "entry 0 is the genesis");
    check_outcomes(&entries, &outcomes).unwrap();
    let (sizes, proofs) = check_consistency(&world, &final_cp, &leaves, 200)
        .await
        .unwrap();
    let verified = tokio::task::block_in_place(|| node_verifies(&site, site.addrs[current]));
    let errors = site.errors();
    assert!(errors.is_empty(), "a host logged errors:\n{errors:#?}");
    // Every kill was followed by a take-over (a leader that stepped back adds one more).
    assert!(site.runs_logging("took the sequencer lease") > LEADER_KILLS);
    for took in &takeovers {
        assert!(
            *took < Duration::from_secs(10),
            "take-overs took {takeovers:?}"
        );
    }
    let sum = |f: fn(&Outcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    eprintln!(
        "failover test: {LEADER_KILLS} leader kills (lease {LEASE_MS} ms), take-overs after \
         {takeovers:?}; log of {} entries; {}; {sizes} checkpoint sizes seen ({polls} \
         watcher polls), {proofs} consistency proofs checked; detente verify: {}",
        final_cp.size(),
        summary(&outcomes),
        verified.trim(),
    );
    assert!(sum(|o| o.answered.len() as u64) > 0, "nothing was answered");
}
