//! The hosts' shared log directory, genesis and logs, and starting them: one host, or
//! several sharing one PostgreSQL state and one tile directory (issue 9).

use super::*;

/// The log directory, its genesis and its logs; where each host listens.
pub struct Site {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    logs: PathBuf,
    pub group: Group,
    /// One address per host.
    pub addrs: Vec<SocketAddr>,
    runs: usize,
    /// The hosts' `--state`: a PostgreSQL URL, or `None` for `state.sqlite` in `data`.
    state: Option<String>,
}

impl Site {
    pub fn new() -> Site {
        Site::with_state(None)
    }

    pub fn with_state(state: Option<String>) -> Site {
        Site::cluster(state, 1)
    }

    /// `hosts` hosts on one directory and `state`.
    pub fn cluster(state: Option<String>, hosts: usize) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("host");
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let group = found(&data, MEMBERS);
        let addrs = (0..hosts)
            .map(|_| SocketAddr::from(([127, 0, 0, 1], free_port())))
            .collect();
        Site {
            _dir: dir,
            data,
            logs,
            group,
            addrs,
            runs: 0,
            state,
        }
    }

    /// The first host's address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Starts the (first) host again on the same directory and port.
    pub fn start(&mut self) -> HostProc {
        self.start_host(0, &[])
    }

    /// Starts host `i` on its port, with `args` added.
    pub fn start_host(&mut self, i: usize, args: &[&str]) -> HostProc {
        let run = self.runs;
        self.runs += 1;
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if let Some(url) = &self.state {
            all.extend(["--state".to_owned(), url.clone()]);
        }
        tokio::task::block_in_place(|| {
            HostProc::start(
                &self.data,
                &self.group.genesis_path,
                self.addrs[i],
                &self.logs,
                run,
                &all,
            )
        })
        .unwrap_or_else(|e| panic!("start {run} (host {i}) failed: {e:#}"))
    }

    /// Lines of every run's log at ERROR level.
    pub fn errors(&self) -> Vec<String> {
        (0..self.runs)
            .flat_map(|run| {
                self.log(run)
                    .lines()
                    .filter(|l| l.contains("ERROR"))
                    .map(|l| format!("run {run}: {l}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The standard error of run `run`.
    pub fn log(&self, run: usize) -> String {
        std::fs::read_to_string(self.logs.join(format!("host-{run}.err"))).unwrap_or_default()
    }

    /// How many runs logged `needle`.
    pub fn runs_logging(&self, needle: &str) -> usize {
        (0..self.runs)
            .filter(|&run| self.log(run).contains(needle))
            .count()
    }

    /// How many starts repaired the crash window between commit and publish.
    pub fn republished(&self) -> usize {
        self.runs_logging("re-publishing the committed checkpoint")
    }
}
