//! The real binary as a subprocess: durability across `kill -9`, clean stop on SIGTERM, the
//! command line.

mod common;
mod subprocess;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client_id, flag_with_id, ANNO_TYPE, ARTICLE};
use serde_json::Value;

use subprocess::{spawn, Spawned as Server, BINARY};

fn container(server: &Server) -> String {
    format!("{}/annotations/", server.base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_annotation_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("durable.sqlite3");
    let mut server = spawn(&database, &[]);
    let url = container(&server);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // (client id, annotation path) of every 201.
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, url, acknowledged) = (client.clone(), url.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let id = client_id();
                let body = flag_with_id(ARTICLE, &format!("writer {writer} claim {n}"), None, &id);
                let sent = client
                    .post(&url)
                    .header("content-type", ANNO_TYPE)
                    .body(body.to_string())
                    .send()
                    .await;
                let Ok(response) = sent else { break }; // the server is gone
                if response.status() == 201 {
                    let location = response.headers()["location"].to_str().unwrap().to_string();
                    let path = location.split_once("/annotations/").unwrap().1.to_string();
                    acknowledged.lock().unwrap().push((id, path));
                } else {
                    panic!("unexpected status {}", response.status());
                }
            }
        }));
    }

    // Kill while the writers are busy: after a few hundred acknowledgements, or 5 s.
    let deadline = Instant::now() + Duration::from_secs(5);
    while acknowledged.lock().unwrap().len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.child.kill().expect("kill -9"); // SIGKILL on Unix
    server.child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 50,
        "too few writes before the kill: {}",
        acknowledged.len()
    );

    // Restart on the same file: every 201 is there, with the client's id.
    let mut restarted = spawn(&database, &[]);
    let url = container(&restarted);
    for (id, path) in &acknowledged {
        let response = client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "acknowledged annotation {path} lost"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["via"], id.as_str());
    }
    let page: Value = client
        .get(format!(
            "{url}?target={}&limit=1",
            factmark_server::protocol::encode(ARTICLE)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = page["partOf"]["total"].as_u64().unwrap() as usize;
    // Writes in flight at the kill may or may not have been committed; none acknowledged is lost.
    assert!(
        total >= acknowledged.len(),
        "{total} stored < {} acknowledged",
        acknowledged.len()
    );
    eprintln!(
        "kill -9 durability: {} acknowledged, {} stored after restart",
        acknowledged.len(),
        total
    );
    restarted.child.kill().unwrap();
    restarted.child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("graceful.sqlite3");
    let mut server = spawn(&database, &[]);
    let client = reqwest::Client::new();
    let id = client_id();
    let response = client
        .post(container(&server))
        .header("content-type", ANNO_TYPE)
        .body(flag_with_id(ARTICLE, "x", None, &id).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let path = response.headers()["location"]
        .to_str()
        .unwrap()
        .split_once("/annotations/")
        .unwrap()
        .1
        .to_string();

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit}");
    std::thread::sleep(Duration::from_millis(50));
    assert!(server.output.lock().unwrap().contains("stopped"));

    let mut again = spawn(&database, &[]);
    let body: Value = client
        .get(format!("{}{path}", container(&again)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["via"], id.as_str());
    again.child.kill().unwrap();
    again.child.wait().unwrap();
}

#[test]
fn help_documents_every_option() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--listen",
        "--database",
        "--container-path",
        "--public-url",
        "--allow-origin",
        "--static",
        "--max-body-bytes",
        "--rate-limit",
        "--rate-burst",
        "--client-ip-header",
        "--page-size",
        "--max-page-size",
        "--page-cache-mb",
        "127.0.0.1:8080",
    ] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let cases: &[(&[&str], &str)] = &[
        (&["--database", "/no/such/dir/f.sqlite3"], "does not exist"),
        (&["--database", "sqlite::memory:"], "in-memory"),
        (&["--allow-origin", "news.example"], "--allow-origin"),
        (&["--container-path", "annotations"], "--container-path"),
        (&["--static", "/no/such/static/dir"], "--static"),
    ];
    for (args, expected) in cases {
        let output = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0"])
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: stderr was {stderr}");
    }
}
