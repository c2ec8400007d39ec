//! `detente`: the one binary of Détente (host, node, witness and tools).

fn main() {
    println!("detente");
}
