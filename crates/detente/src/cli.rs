//! The command line: one definition per flag, which drives `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Détente: a verifiable exchange for a working group whose members do not trust each
/// other, nor the host.
///
/// Every statement is signed by its author and sequenced into an append-only Merkle log;
/// every member's node verifies everything it reads.
///
/// Exit codes: 0 success; 1 error (the message says what and how to fix it); 2 bad
/// usage; 3 the host misbehaved (evidence written under the node's `evidence/`).
#[derive(Debug, Parser)]
#[command(name = "detente", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a demo working group on this machine: a host and member nodes on 127.0.0.1,
    /// a realistic scenario, then every node syncs, verifies and shows what it sees.
    Demo(DemoArgs),
    /// Run the host: admit, sequence and serve the log (`detente host init` first).
    Host(HostArgs),
    /// Create a member's keys and print the public line others paste.
    Keygen(KeygenArgs),
    /// Found a group: draft the genesis, sign it (each founder), assemble it.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// Set up this member's node.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Fetch and verify what is new in the log.
    Sync(NodeArgs),
    /// Sign and post a statement, wait for it to be in the log, and check its proof.
    Post(PostArgs),
    /// Show the dialogue as threads.
    Read(ReadArgs),
    /// Show one statement, verified, with its content if it is sealed to this member.
    Show(ShowArgs),
    /// Show proposals, their versions and every member's positions.
    Proposals(NodeArgs),
    /// Show agreements and their signatures.
    Agreements(NodeArgs),
    /// Show requests: open, answered, overdue.
    Requests(NodeArgs),
    /// Show every member's standing, computed from the log.
    Standing(NodeArgs),
    /// Re-derive the whole group from the log from scratch and compare.
    Verify(NodeArgs),
    /// Run a witness: cosign a log's checkpoints, each consistent with the last one
    /// cosigned (C2SP tlog-witness). `detente witness init` first.
    Witness(WitnessArgs),
    /// Check, offline, evidence that the host or a member equivocated.
    VerifyEvidence(VerifyEvidenceArgs),
    /// Measure this machine: how fast a host sequences statements, against raw Ed25519.
    Bench(BenchArgs),
}

/// `detente demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to keep the demo's host and nodes (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Number of founding members (2 to 8).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=8))]
    pub members: u8,
    /// Further generated statements to post after the scenario, to show speed.
    #[arg(long, default_value_t = 0)]
    pub scale: u64,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `detente host`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HostArgs {
    /// Subcommand (omit to run the host).
    #[command(subcommand)]
    pub init: Option<HostCommand>,
    /// The log's directory (state.sqlite, tiles/, log.key, log.vkey).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Keep the sequencer's state (head and dedup index) in PostgreSQL instead of
    /// DIR/state.sqlite: postgres://user:password@host/db (no TLS). The environment
    /// variable keeps the password out of the process list [default: DIR/state.sqlite].
    #[arg(long, env = "DETENTE_HOST_STATE", hide_env_values = true)]
    pub state: Option<host::StateUrl>,
    /// Keep the read path (tiles, entry bundles, checkpoint, blobs) elsewhere: file:///DIR,
    /// or s3://BUCKET/PREFIX on S3-compatible storage, with endpoint, region and
    /// credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY (AWS_ALLOW_HTTP=true for a plain-HTTP endpoint), or from the
    /// config file's [s3] table, which wins [default: DIR/tiles].
    #[arg(long, env = "DETENTE_HOST_TILES")]
    pub tiles: Option<host::config::TilesUrl>,
    /// Address to listen on [default: 127.0.0.1:8470].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The assembled genesis statement; needed on first start.
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// A TOML file with the same keys (data, state, tiles, listen, genesis, advertise,
    /// lease_ms, [s3], [batch], [limits]); flags given on the command line win. Unknown keys
    /// are an error.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Longest a statement waits for its batch, in milliseconds [default: 100].
    #[arg(long)]
    pub batch_interval_ms: Option<u64>,
    /// Most statements per batch [default: 4096].
    #[arg(long)]
    pub batch_max: Option<usize>,
    /// This host's URL as other hosts sharing its stores reach it; while it sequences they
    /// forward submissions there [default: http:// + the listen address].
    #[arg(long)]
    pub advertise: Option<String>,
    /// Length of the sequencer lease in milliseconds, when several hosts share the stores:
    /// a dead leader is replaced within about this long [default: 5000].
    #[arg(long)]
    pub lease_ms: Option<u64>,
}

/// `detente host init`.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Create the log's key in DIR and print its verifier key, for the genesis draft.
    Init {
        /// The log's directory.
        #[arg(long)]
        data: PathBuf,
        /// The log's origin, e.g. `example.org/detente/wg-1`.
        #[arg(long)]
        origin: String,
    },
}

/// `detente keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Member id: 1 to 64 characters of a-z, 0-9, '.', '-'.
    #[arg(long)]
    pub member: String,
    /// Display name, e.g. "CERT North".
    #[arg(long)]
    pub name: Option<String>,
    /// How to reach the member's people.
    #[arg(long)]
    pub contact: Option<String>,
    /// Where to write the key file (owner-only) [default: <member>.key].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `detente genesis ...`.
#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Write the genesis document every founder will sign.
    Draft {
        /// The group's name.
        #[arg(long)]
        name: String,
        /// The log's origin (as given to `detente host init`).
        #[arg(long)]
        origin: String,
        /// The log's verifier key (printed by `detente host init`).
        #[arg(long)]
        log_key: String,
        /// A founder's public line (printed by `detente keygen`); repeat per founder. The
        /// first founder assembles the genesis.
        #[arg(long = "founder", required = true)]
        founders: Vec<String>,
        /// Approvals needed for a membership change [default: a majority of founders].
        #[arg(long)]
        quorum: Option<u32>,
        /// A witness, as URL=VERIFIER_KEY (printed by `detente witness init`); repeat.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// Cosignatures nodes require on a checkpoint [default: a majority of witnesses].
        #[arg(long)]
        witnesses_required: Option<u32>,
        /// Where to write the draft.
        #[arg(long, default_value = "genesis-draft.json")]
        out: PathBuf,
    },
    /// Sign a genesis draft as a founder (prints the signature line to hand back).
    Sign {
        /// The draft.
        draft: PathBuf,
        /// The founder's key file.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signature [default: <member>.sig].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check that every founder signed the same draft and write the genesis statement.
    Assemble {
        /// The draft.
        draft: PathBuf,
        /// The founders' signature files.
        #[arg(long = "signature", required = true)]
        signatures: Vec<PathBuf>,
        /// The first founder's key file (it envelopes the genesis).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the genesis.
        #[arg(long, default_value = "genesis.json")]
        out: PathBuf,
    },
}

/// `detente node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create this member's node: a replica pinned to the genesis, talking to the host.
    Init {
        /// The host's URL, e.g. http://127.0.0.1:8470.
        #[arg(long)]
        host: String,
        /// The genesis statement.
        #[arg(long)]
        genesis: PathBuf,
        /// The member's key file (copied into the node's directory, owner-only).
        #[arg(long)]
        key: PathBuf,
        /// The node's directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Serve the member's people and tools: TAXII 2.1 under /taxii2/ and the web console,
    /// with a background sync. Users log in with `name:token` from `detente node user add`.
    Serve {
        /// Node options.
        #[command(flatten)]
        node: NodeArgs,
        /// Address to listen on (keep it on loopback, or put a TLS proxy in front).
        #[arg(long, default_value = "127.0.0.1:8490")]
        listen: SocketAddr,
        /// Seconds between background syncs.
        #[arg(long, default_value_t = 2)]
        sync_every: u64,
    },
    /// Manage who may use `detente node serve`.
    #[command(subcommand)]
    User(UserCommand),
}

/// `detente node user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (or give an existing one a new token) and print its `name:token` once.
    Add {
        /// Node options.
        #[command(flatten)]
        node: NodeArgs,
        /// The user's name.
        name: String,
        /// Only read: no posting in the member's name.
        #[arg(long)]
        read_only: bool,
    },
    /// List the users.
    List {
        /// Node options.
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Remove a user.
    Remove {
        /// Node options.
        #[command(flatten)]
        node: NodeArgs,
        /// The user's name.
        name: String,
    },
}

/// `detente witness`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WitnessArgs {
    /// Subcommand (omit to run the witness).
    #[command(subcommand)]
    pub init: Option<WitnessCommand>,
    /// The witness's directory (witness.key, witness.vkey, witness.sqlite).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub listen: SocketAddr,
    /// The witness's name (needed on first start if `witness init` was not run).
    #[arg(long)]
    pub name: Option<String>,
    /// A log to witness, as ORIGIN=VERIFIER_KEY; repeat.
    #[arg(long)]
    pub log: Vec<String>,
    /// Witness the log of this genesis (its origin and log key).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
}

/// `detente witness init`.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create the witness's key and print its verifier key, for genesis drafts.
    Init {
        /// The witness's directory.
        #[arg(long)]
        data: PathBuf,
        /// The witness's name, a schema-less URL such as `cert-north.example/witness`.
        #[arg(long)]
        name: String,
    },
}

/// `detente verify-evidence`.
#[derive(Debug, Args)]
pub struct VerifyEvidenceArgs {
    /// The evidence: a file from a node's `evidence/`, an `evidence` statement (JSON), or
    /// an agreement evidence bundle downloaded from the web console.
    pub file: PathBuf,
    /// The group's genesis (for the log's and founders' keys).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Or a node's directory (for every member's keys, including later ones).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

/// Options of every command that works on a node.
#[derive(Debug, Args, Clone)]
pub struct NodeArgs {
    /// The node's directory.
    #[arg(long, env = "DETENTE_NODE", default_value = ".")]
    pub data: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `detente read`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Node options.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Show only the thread with this root id.
    #[arg(long)]
    pub thread: Option<String>,
}

/// `detente show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Node options.
    #[command(flatten)]
    pub node: NodeArgs,
    /// The statement id (64 hex digits).
    pub id: String,
}

/// `detente post`.
#[derive(Debug, Args)]
pub struct PostArgs {
    /// Node options.
    #[command(flatten)]
    pub node: NodeArgs,
    /// What to post.
    #[command(subcommand)]
    pub what: PostCommand,
}

/// TLP 2.0 levels on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TlpArg {
    /// TLP:CLEAR.
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER (always sealed).
    Amber,
    /// TLP:AMBER+STRICT (always sealed).
    AmberStrict,
    /// TLP:RED (always sealed).
    Red,
}

/// The statements `detente post` makes.
#[derive(Debug, Subcommand)]
pub enum PostCommand {
    /// A message: a new thread, or a reply.
    Message {
        /// The text (markdown).
        text: String,
        /// Subject of a new thread.
        #[arg(long)]
        subject: Option<String>,
        /// The statement this answers.
        #[arg(long)]
        reply_to: Option<String>,
        /// Seal to these members (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        /// TLP marking; AMBER and RED need --to.
        #[arg(long, value_enum)]
        tlp: Option<TlpArg>,
    },
    /// An incident report: a STIX 2.1 bundle under a TLP marking.
    Report {
        /// The STIX 2.1 bundle (JSON file).
        #[arg(long)]
        bundle: PathBuf,
        /// TLP marking; AMBER and RED need --to.
        #[arg(long, value_enum)]
        tlp: TlpArg,
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Seal to these members (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        /// The request this answers.
        #[arg(long)]
        answers: Option<String>,
    },
    /// A request for assistance or information.
    Request {
        /// What is asked.
        text: String,
        /// Subject.
        #[arg(long)]
        subject: Option<String>,
        /// Due time (RFC 3339 UTC), or in how long: 90m, 4h, 2d.
        #[arg(long)]
        due: String,
        /// Addressees (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        /// A communication check: every addressee should send a receipt.
        #[arg(long)]
        check: bool,
        /// Seal the text to the addressees.
        #[arg(long)]
        sealed: bool,
    },
    /// Acknowledge statements (communication checks, read receipts).
    Receipt {
        /// The statement ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// A proposal, or a new version of one.
    Proposal {
        /// Title.
        #[arg(long)]
        title: String,
        /// The text (a file holding markdown).
        #[arg(long)]
        text: PathBuf,
        /// The version this amends (its id); omit for a new proposal.
        #[arg(long)]
        amends: Option<String>,
    },
    /// A position on a proposal version, report or membership change.
    Position {
        /// The statement the position is on.
        target: String,
        /// support, oppose, abstain, approve, comment, or for reports strongly-disagree,
        /// disagree, neutral, agree, strongly-agree.
        #[arg(long)]
        stance: String,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
    },
    /// An agreement on a proposal version's final text.
    Agreement {
        /// The proposal version.
        version: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Who must sign (comma-separated ids).
        #[arg(long, value_delimiter = ',', required = true)]
        signatories: Vec<String>,
    },
    /// Sign an agreement's text.
    Sign {
        /// The agreement.
        agreement: String,
    },
}

/// `detente bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub what: BenchCommand,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start a host in this process on 127.0.0.1 and drive it from concurrent HTTP clients
    /// with pre-signed statements: durably sequenced statements per second and
    /// submit-to-answer latency, for single statements and for batches, each beside the raw
    /// Ed25519 verification rate of one core measured in the same run. Build with
    /// `--release`: a debug build measures the compiler, not the host.
    Host(BenchHostArgs),
    /// Fill a host in this process with a long log, then time a fresh node's `detente sync`
    /// (every entry hashed, every signature and rule checked) and `detente verify`, each in
    /// a child process: statements per second beside the raw Ed25519 rate of one core
    /// measured in the same run, and each child's peak memory. Build with `--release`.
    Verify(BenchVerifyArgs),
    /// Cosignatures per second one witness sustains on one core (checkpoints of a tree of
    /// 10^7 entries and up, each with its consistency proof), and the latency a sequencing
    /// round gains with 3 witnesses on loopback (2 required). Build with `--release`.
    Witness(BenchWitnessArgs),
}

/// `detente bench witness`.
#[derive(Debug, Args)]
pub struct BenchWitnessArgs {
    /// Checkpoints the witness cosigns in each timed phase.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub cosignatures: u32,
    /// Logs cosigned at once in the second phase (the first has one).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub logs: u32,
    /// Single statements submitted to each host in the latency phase.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// The hosts' batch interval in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub batch_interval_ms: u64,
    /// Keep the data here (default: a temporary directory, removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

/// `detente bench verify`.
#[derive(Debug, Args)]
pub struct BenchVerifyArgs {
    /// Statements in the log (besides the genesis and the members' admissions).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub statements: u64,
    /// Members who write them.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub members: u32,
    /// Keep the host's and the node's data here (default: a temporary directory, removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

/// `detente bench host`.
#[derive(Debug, Args)]
pub struct BenchHostArgs {
    /// Statements to sequence in each mode (single, then batched).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub statements: u64,
    /// Concurrent HTTP clients in the single-statement mode; each signs as its own
    /// member, one request at a time.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4000))]
    pub clients: u32,
    /// Concurrent HTTP clients in the batched mode (the first of --clients' members; at
    /// most --clients). Each waits for its answer before sending its next batch, so
    /// clients × batch statements are in flight and latency is about that over the rate:
    /// 32 × 64 = 2048 keep a host at 10,000/s busy while answering in about 0.2 s, 256 × 64
    /// only queue (about 1.6 s at the same rate).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4000))]
    pub batch_clients: u32,
    /// Statements per request in the batched mode.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=4096))]
    pub batch: u32,
    /// The host's batch interval in milliseconds (its default is 100; a short one is what
    /// a busy host with single-statement clients wants). Here a batch of single statements
    /// takes about 5-7 ms to make durable: from 1 to 5 ms the rates measured the same, and
    /// 10 ms held each batch open past that, costing about a tenth of the single rate.
    #[arg(long, default_value_t = 5)]
    pub batch_interval_ms: u64,
    /// Where to put the host's log, kept afterwards (default: a temporary directory,
    /// removed). Must not exist yet, or be empty.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also measure the scale-out backend, after the embedded one in the same run: the
    /// sequencer's state in this PostgreSQL database, which must hold no log yet (a fresh
    /// database, or a fresh schema with ?options=-csearch_path%3DSCHEMA).
    #[arg(long, env = "DETENTE_BENCH_STATE", hide_env_values = true)]
    pub state: Option<host::StateUrl>,
    /// With --state: the tiles in this bucket (s3://BUCKET/PREFIX, credentials from the
    /// AWS_* variables); each run writes under a fresh sub-prefix.
    #[arg(long, requires = "state")]
    pub tiles: Option<host::config::TilesUrl>,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
