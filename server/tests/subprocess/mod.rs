//! The real `factmark-server` binary as a child process on 127.0.0.1:0, shared by the process
//! tests and the load benchmark (`#[path]`-included there).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub const BINARY: &str = env!("CARGO_BIN_EXE_factmark-server");

pub struct Spawned {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, from the server's first line.
    pub base: String,
    /// Everything the server printed after its first line.
    #[allow(dead_code)] // read by the process tests, not by the load bench
    pub output: Arc<Mutex<String>>,
}

/// Starts the binary with rate limiting off and waits for its "listening on" line.
pub fn spawn(database: &Path, extra: &[&str]) -> Spawned {
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--database"])
        .arg(database)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start factmark-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("the server printed nothing").unwrap();
    let base = first
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line from factmark-server: {first}"))
        .to_string();
    // Keep reading, so the server never writes into a closed pipe.
    let output = Arc::new(Mutex::new(String::new()));
    let sink = output.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    Spawned {
        child,
        base,
        output,
    }
}
