//! `detente`: the one binary of Détente — host, node, tools and demo.

mod bench;
mod cli;
mod demo;
mod evidence_cmd;
mod host_cmd;
mod node_cmd;
mod serve_cmd;
mod setup;
mod views;
mod witness_cmd;

/// mimalloc instead of glibc's malloc: under the host's load (many small allocations per
/// request freed on other threads, mixed with large buffers) glibc spent a fifth of the
/// runtime's CPU in `malloc_consolidate` and friends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser as _;
use cli::{Cli, Command};

/// Exit code when the host misbehaved (evidence written).
const EXIT_MISBEHAVED: i32 = 3;

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("DETENTE_LOG")
        .unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli.command)) {
        eprintln!("error: {e:#}");
        let misbehaved = e.chain().any(|c| {
            matches!(
                c.downcast_ref::<node::NodeError>(),
                Some(node::NodeError::HostMisbehaved(_))
            )
        });
        std::process::exit(if misbehaved { EXIT_MISBEHAVED } else { 1 });
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(a) => demo::run(a).await,
        Command::Host(a) => host_cmd::run(a).await,
        Command::Keygen(a) => setup::keygen(a),
        Command::Genesis(c) => setup::genesis(c),
        Command::Node(c) => serve_cmd::node(c).await,
        Command::Sync(a) => node_cmd::sync(a).await,
        Command::Post(a) => node_cmd::post(a).await,
        Command::Verify(a) => node_cmd::verify(a),
        Command::Read(a) => views::read(a),
        Command::Show(a) => views::show(a),
        Command::Proposals(a) => views::proposals(a),
        Command::Agreements(a) => views::agreements(a),
        Command::Requests(a) => views::requests(a),
        Command::Standing(a) => views::standing(a),
        Command::Bench(a) => bench::run(a).await,
        Command::Witness(a) => witness_cmd::run(a).await,
        Command::VerifyEvidence(a) => evidence_cmd::run(a),
    }
}
