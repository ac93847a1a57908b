// `sqlx::migrate!` embeds the migrations at compile time but, on stable Rust, does not tell cargo
// to watch them: without this a new migration file is silently left out until something else
// in this crate changes.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
