//! `ml-connector demo` as a newcomer runs it: a subprocess that brings up the simulators, the server, setup and
//! the first sync; a ticket created in its Zendesk simulator goes webhook → enrichment → custom fields; SIGINT
//! stops it cleanly.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_comes_up_enriches_a_new_ticket_and_stops_on_sigint() {
    let env = Env::new();
    let mut child = env
        .cmd(&[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--suppliers",
            "12",
            "--no-host",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Readiness: the one JSON line, printed once setup and the first sync are done.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let world: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());

    let zendesk = world["zendesk_url"].as_str().unwrap().to_string();
    let auth = world["zendesk_authorization"].as_str().unwrap().to_string();
    let overdue = world["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "overdue")
        .expect("an overdue demo ticket")
        .clone();
    let number = overdue["expect"]["invoice"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    // A new ticket quoting the invoice, created the way Zendesk's API creates one.
    let created: Value = http
        .post(format!("{zendesk}/api/v2/tickets"))
        .header("Authorization", &auth)
        .json(
            &json!({"ticket": {"subject": format!("Payment of {number}?"),
            "comment": {"body": "Hello, when will this invoice be paid?"}}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["ticket"]["id"].as_u64().expect("a ticket id");
    let deadline = Instant::now() + Duration::from_secs(60);
    let filled = loop {
        let ticket: Value = http
            .get(format!("{zendesk}/api/v2/tickets/{id}"))
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let values: Vec<Value> = ticket["ticket"]["custom_fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["value"].clone())
            .collect();
        if values.iter().any(|v| v == &json!(number)) {
            break values;
        }
        assert!(
            Instant::now() < deadline,
            "ticket {id} was not enriched: {ticket}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        filled.iter().any(|v| v == "wd_overdue"),
        "the overdue status is written: {filled:?}"
    );

    // SIGINT: everything stops, exit status 0.
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(
        std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the demo did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = log.join().unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("demo stopped"), "{log}");
}
