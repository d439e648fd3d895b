//! Load run: the release server on loopback with a fresh SQLite file, driven by `wrk`.
//!
//!   cargo bench -p factmark-server --bench load -- [--seconds 10] [--connections 64]
//!       [--threads 2] [--read-flags 10] [--json PATH]
//!
//! Two phases, each bounded in time:
//! - creates: POST of distinct factmark flags (unique client ids, one article), each a
//!   durable 201 (SQLite WAL, synchronous=FULL, group commit);
//! - reads: GET /annotations/?target=<article> for an article carrying `--read-flags` flags,
//!   as configured by default (listing pages cached in memory);
//! - the same reads on a server started with `--page-cache-mb 0` (every read queries SQLite).
//!
//! Prints requests/s, p50/p99 latency (wrk's own measurement) and errors; `--json` also writes
//! them for `cargo xtask bench`. Needs `wrk` (Debian package `wrk`).

#[path = "../tests/subprocess/mod.rs"]
mod subprocess;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use factmark_core::model::{
    rfc3339_from_unix_ms, Annotation, Flag, NewFlag, Selectors, TextPositionSelector,
    TextQuoteSelector,
};
use serde_json::{json, Value};

const CREATE_ARTICLE: &str = "https://news.example/africa/mali-algeria-escalation";
const READ_ARTICLE: &str = "https://news.example/politics/budget-vote";
const ID_PLACEHOLDER: &str = "urn:uuid:ID-PLACEHOLDER";

struct Options {
    seconds: u32,
    connections: u32,
    threads: u32,
    read_flags: u32,
    json: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        seconds: 10,
        connections: 64,
        threads: 2,
        read_flags: 10,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| fail(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--seconds" => {
                o.seconds = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--seconds: a number"))
            }
            "--connections" => {
                o.connections = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--connections: a number"))
            }
            "--threads" => {
                o.threads = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--threads: a number"))
            }
            "--read-flags" => {
                o.read_flags = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--read-flags: a number"))
            }
            "--json" => o.json = Some(PathBuf::from(value())),
            _ => {} // cargo bench passes --bench; ignore what is not ours
        }
    }
    o
}

fn fail(message: &str) -> ! {
    eprintln!("load bench: {message}");
    std::process::exit(2);
}

#[derive(Debug, Default)]
struct Phase {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    non_2xx: u64,
    socket_errors: u64,
    /// CPU time the server process used per request (user + system), in microseconds: on a
    /// busy machine this says more about the server than requests/s.
    server_cpu_us: f64,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "seconds": self.seconds,
            "per_second": self.per_second().round(),
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "server_cpu_us_per_request": self.server_cpu_us.round(),
        })
    }
}

fn main() {
    let options = options();
    if Command::new("wrk").arg("--version").output().is_err() {
        fail("wrk is not installed (Debian: apt-get install wrk)");
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let database = scratch.path().join("bench.sqlite3");
    let subprocess::Spawned {
        child: mut server,
        base,
        ..
    } = subprocess::spawn(&database, &[]);
    let container = format!("{base}/annotations/");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(seed(&container, options.read_flags));

    let run_tag: u32 = rand_u32();
    let script = scratch.path().join("create.lua");
    std::fs::write(&script, create_script(run_tag)).unwrap();
    let creates = wrk(
        &options,
        &container,
        Some(&script),
        scratch.path(),
        server.id(),
    );
    let stored = runtime.block_on(count(&container, CREATE_ARTICLE));

    let read_url = format!(
        "{container}?target={}",
        factmark_server::protocol::encode(READ_ARTICLE)
    );
    let reads = wrk(&options, &read_url, None, scratch.path(), server.id());

    let _ = server.kill();
    let _ = server.wait();

    let subprocess::Spawned {
        child: mut uncached_server,
        base: uncached_base,
        ..
    } = subprocess::spawn(&database, &["--page-cache-mb", "0"]);
    let uncached_url = read_url.replacen(&base, &uncached_base, 1);
    let uncached = wrk(
        &options,
        &uncached_url,
        None,
        scratch.path(),
        uncached_server.id(),
    );
    let _ = uncached_server.kill();
    let _ = uncached_server.wait();

    println!();
    println!(
        "factmark-server load run: SQLite (WAL, synchronous=FULL), loopback, wrk -t{} -c{} -d{}s",
        options.threads, options.connections, options.seconds
    );
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} {:>8} {:>14}",
        "", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "server CPU/req"
    );
    for (name, phase) in [
        ("create (POST, durable 201)", &creates),
        ("read (GET ?target=)", &reads),
        ("read, page cache off", &uncached),
    ] {
        println!(
            "{:<28} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>11.0} us",
            name,
            phase.per_second(),
            phase.p50_ms,
            phase.p99_ms,
            phase.max_ms,
            phase.non_2xx + phase.socket_errors,
            phase.server_cpu_us
        );
    }
    println!(
        "stored after the create run: {stored} annotations (wrk counted {} completed creates)",
        creates.requests
    );
    println!(
        "read page: {} annotations per response; CPU per request is the server process's user+system time",
        options.read_flags
    );

    let targets_met = creates.per_second() >= 2000.0
        && reads.per_second() >= 10_000.0
        && creates.p99_ms < 50.0
        && reads.p99_ms < 50.0
        && [&creates, &reads, &uncached]
            .iter()
            .all(|p| p.non_2xx + p.socket_errors == 0);
    println!(
        "targets (>= 2000 creates/s, >= 10000 reads/s, p99 < 50 ms, no errors): {}",
        if targets_met { "met" } else { "NOT met" }
    );

    if let Some(path) = &options.json {
        let report = json!({
            "backend": "sqlite",
            "tool": format!("wrk -t{} -c{} -d{}s --latency", options.threads, options.connections, options.seconds),
            "create": creates.to_json(),
            "read": reads.to_json(),
            "read_page_cache_off": uncached.to_json(),
            "read_page_annotations": options.read_flags,
            "stored_after_create_run": stored,
            "targets_met": targets_met,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap())
            .expect("write --json file");
        println!("wrote {}", path.display());
    }
    // Lost acknowledged writes would be a correctness failure, not a slow run.
    if stored < creates.requests.saturating_sub(creates.non_2xx) {
        eprintln!("load bench: fewer annotations stored than acknowledged");
        std::process::exit(1);
    }
}

fn flag(source: &str, exact: &str, id: &str) -> Value {
    let annotation = Annotation::new_flag(NewFlag {
        source,
        selectors: Selectors {
            quote: TextQuoteSelector {
                exact: exact.into(),
                prefix: Some("officials said that ".into()),
                suffix: Some(" according to the ministry".into()),
            },
            position: Some(TextPositionSelector {
                start: 1200,
                end: 1200 + exact.chars().count(),
            }),
        },
        flag: Flag::Fabricated,
        note: Some("The quoted figure does not appear in the ministry's published report."),
        evidence: vec!["https://evidence.example/ministry-report-2025.pdf".into()],
        id: id.into(),
        now: rfc3339_from_unix_ms(1_735_787_045_678),
    })
    .expect("valid flag");
    serde_json::to_value(&annotation).expect("an annotation serializes")
}

async fn seed(container: &str, flags: u32) {
    let client = reqwest::Client::new();
    for n in 0..flags {
        let id = format!("urn:uuid:00000000-0000-4000-8000-{n:012x}");
        let response = client
            .post(container)
            .header("content-type", "application/ld+json")
            .body(flag(READ_ARTICLE, &format!("passage number {n}"), &id).to_string())
            .send()
            .await
            .expect("seed POST");
        assert_eq!(response.status(), 201, "seeding the read article");
    }
}

async fn count(container: &str, target: &str) -> u64 {
    let url = format!(
        "{container}?target={}&limit=1",
        factmark_server::protocol::encode(target)
    );
    let page: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    page["partOf"]["total"].as_u64().unwrap_or(0)
}

/// A wrk script that POSTs a distinct flag per request: the body is fixed but for the client
/// id, which is unique per run, wrk thread and request.
fn create_script(run_tag: u32) -> String {
    let body = flag(
        CREATE_ARTICLE,
        "120,000 people were displaced",
        ID_PLACEHOLDER,
    )
    .to_string();
    let (before, after) = body
        .split_once(ID_PLACEHOLDER)
        .expect("placeholder in body");
    format!(
        r#"
local next_thread = 0
function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end
local counter = 0
local before = [==[{before}]==]
local after = [==[{after}]==]
local headers = {{ ["Content-Type"] = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"' }}
request = function()
  counter = counter + 1
  local id = string.format("urn:uuid:%08x-%04x-4000-8000-%012x", {run_tag}, thread_no or 0, counter)
  return wrk.format("POST", nil, headers, before .. id .. after)
end
"#
    )
}

const DONE_SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FACTMARK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d status=%d socket=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

fn wrk(
    options: &Options,
    url: &str,
    script: Option<&Path>,
    scratch: &Path,
    server_pid: u32,
) -> Phase {
    // One script file: the phase's request function (if any) plus the reporting hook.
    let mut text = script
        .map(|s| std::fs::read_to_string(s).unwrap())
        .unwrap_or_default();
    text.push_str(DONE_SCRIPT);
    let combined = scratch.join(format!("phase-{}.lua", rand_u32()));
    std::fs::write(&combined, text).unwrap();
    let cpu_before = cpu_seconds(server_pid);
    let output = Command::new("wrk")
        .arg(format!("-t{}", options.threads))
        .arg(format!("-c{}", options.connections))
        .arg(format!("-d{}s", options.seconds))
        .arg("--timeout")
        .arg("5s")
        .arg("--latency")
        .arg("-s")
        .arg(&combined)
        .arg(url)
        .output()
        .expect("run wrk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("FACTMARK "))
        .unwrap_or_else(|| {
            fail(&format!(
                "wrk gave no result: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        });
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| fail(&format!("no {name} in {line}")))
    };
    let cpu = cpu_seconds(server_pid) - cpu_before;
    let ms = |us: u64| us as f64 / 1000.0;
    let requests = field("requests");
    Phase {
        server_cpu_us: cpu * 1e6 / requests.max(1) as f64,
        requests,
        seconds: Duration::from_micros(field("duration_us")).as_secs_f64(),
        p50_ms: ms(field("p50_us")),
        p99_ms: ms(field("p99_us")),
        max_ms: ms(field("max_us")),
        non_2xx: field("status"),
        socket_errors: field("socket"),
    }
}

/// User + system CPU time of a process so far (Linux /proc; 0 elsewhere).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let clock_ticks_per_second = 100.0; // USER_HZ on Linux
    (ticks(11) + ticks(12)) / clock_ticks_per_second
}

fn rand_u32() -> u32 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
