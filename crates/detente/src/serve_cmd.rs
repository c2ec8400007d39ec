//! `detente node serve` and `detente node user ...`.

use std::time::Duration;

use anyhow::bail;
use node::serve::{ServeConfig, Server, Users};
use serde_json::json;

use crate::cli::{NodeCommand, UserCommand};
use crate::node_cmd::{open_for_views, print};

pub async fn node(c: NodeCommand) -> anyhow::Result<()> {
    match c {
        NodeCommand::Serve {
            node,
            listen,
            sync_every,
        } => serve(open_for_views(&node)?, listen, sync_every).await,
        NodeCommand::User(u) => user(u),
        init @ NodeCommand::Init { .. } => crate::setup::node_init(init),
    }
}

async fn serve(node: node::Node, listen: std::net::SocketAddr, every: u64) -> anyhow::Result<()> {
    let data = node.data().to_path_buf();
    if Users::load(&data)?.list().next().is_none() {
        eprintln!(
            "No users yet: add one with `detente node user add NAME --data {}`.",
            data.display()
        );
    }
    // Refuse to start on a TAXII configuration that does not parse, rather than serve
    // without TAXII.
    node::taxii::TaxiiConfig::load(&data)?;
    let config = ServeConfig {
        listen,
        sync_every: Duration::from_secs(every.max(1)),
    };
    let server = Server::start(node, config).await?;
    println!(
        "Node serving on http://{addr}/ (console) and http://{addr}/taxii2/ (TAXII 2.1). Ctrl-C to stop.",
        addr = server.addr()
    );
    crate::host_cmd::shutdown_signal().await;
    server.stop().await;
    Ok(())
}

fn user(c: UserCommand) -> anyhow::Result<()> {
    match c {
        UserCommand::Add {
            node,
            name,
            read_only,
        } => {
            let mut users = Users::load(&node.data)?;
            let credentials = users.add(&name, !read_only)?;
            users.save(&node.data)?;
            let text = format!(
                "User {name} added ({}). Its credentials, shown only now:\n  {credentials}\nUse them as the TAXII client's user:password, or to log in to the console.",
                if read_only { "read only" } else { "may post" }
            );
            print(
                node.json,
                &json!({ "name": name, "credentials": credentials, "can_write": !read_only }),
                &text,
            );
        }
        UserCommand::List { node } => {
            let users = Users::load(&node.data)?;
            let list: Vec<_> = users
                .list()
                .map(|(n, u)| json!({ "name": n, "can_write": u.can_write }))
                .collect();
            let text = users
                .list()
                .map(|(n, u)| {
                    format!(
                        "{n}\t{}",
                        if u.can_write { "may post" } else { "read only" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(node.json, &json!(list), &text);
        }
        UserCommand::Remove { node, name } => {
            let mut users = Users::load(&node.data)?;
            if !users.remove(&name) {
                bail!("no user {name:?}");
            }
            users.save(&node.data)?;
            print(
                node.json,
                &json!({ "removed": name }),
                &format!("User {name} removed."),
            );
        }
    }
    Ok(())
}
