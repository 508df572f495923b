//! Ticket enrichment through the real binary with webhooks flowing: `setup` provisions the Zendesk simulator's
//! fields, webhook and trigger; `sync` fills the invoice index from the Workday simulator; `serve` receives the
//! trigger's webhooks and its workers write the mapped invoice fields on the ticket — once, although that write
//! fires the trigger again. Unknown numbers are recorded, not retried; a Workday outage ends in a dead letter
//! that a requeue brings back; a `serve` killed while it holds leases loses no event and writes no ticket twice.

use std::collections::HashSet;
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;

use crate::setup::{Setup, blocking};
use ml_connector_sim::workday::data::{Invoice, PayState};
use ml_connector_sim::workday::{Fault, FaultConfig, SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, TicketSeed, ZendeskSim};

/// Configuration of the `serve` processes below: quick leases and retries, so the outage and kill cases
/// finish in seconds.
const FAST: &[(&str, &str)] = &[
    ("MLC_ENRICHMENT__LEASE_SECS", "3"),
    ("MLC_ENRICHMENT__RETRY_INITIAL_SECS", "1"),
    ("MLC_ENRICHMENT__RETRY_MAX_SECS", "2"),
    ("MLC_ENRICHMENT__MAX_ATTEMPTS", "3"),
    ("MLC_ENRICHMENT__IDLE_POLL_MS", "100"),
    ("MLC_WORKDAY__RETRY__MAX_RETRIES", "0"),
    ("MLC_SYNC__SCHEDULER_ENABLED", "false"),
];

async fn world() -> (WorkdaySim, ZendeskSim, Setup) {
    let workday = WorkdaySim::start(SimConfig {
        suppliers: 12,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let setup = Setup::new(&workday, &zendesk);
    let setup = blocking(move || {
        setup.ok(&["setup", "--tenant", "acme"]);
        setup.ok(&["sync", "--tenant", "acme"]);
        setup
    })
    .await;
    (workday, zendesk, setup)
}

/// Unpaid invoices with a PO and no credit memo whose supplier number no other invoice shares.
fn unpaid_invoices(workday: &WorkdaySim) -> Vec<Invoice> {
    let u = workday.universe();
    let all: Vec<Invoice> = (0..u.invoice_count()).map(|g| u.invoice(g)).collect();
    let mut seen = std::collections::HashMap::new();
    for i in &all {
        *seen
            .entry(i.supplier_invoice_number.to_lowercase())
            .or_insert(0) += 1;
    }
    all.into_iter()
        .filter(|i| {
            i.key.state == PayState::Unpaid
                && !i.key.credited
                && i.po_number.is_some()
                && seen[&i.supplier_invoice_number.to_lowercase()] == 1
        })
        .collect()
}

fn field_id(zendesk: &ZendeskSim, title: &str) -> u64 {
    zendesk
        .ticket_fields()
        .into_iter()
        .find(|f| f["title"] == title)
        .and_then(|f| f["id"].as_u64())
        .unwrap_or_else(|| panic!("no ticket field {title}"))
}

fn custom(ticket: &Value, id: u64) -> Value {
    ticket["custom_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"].as_u64() == Some(id))
        .map_or(Value::Null, |f| f["value"].clone())
}

fn puts_to_ticket(zendesk: &ZendeskSim, id: u64) -> usize {
    ticket_puts(zendesk, id).len()
}

/// Update Ticket requests for this ticket (the log matches by prefix: `tickets/1` would also match `tickets/10`).
fn ticket_puts(zendesk: &ZendeskSim, id: u64) -> Vec<ml_connector_sim::zendesk::LoggedRequest> {
    let path = format!("/api/v2/tickets/{id}");
    zendesk
        .requests_to("PUT", &path)
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

fn get(port: u16, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

/// The sum of `mlc_enrichment_events_total` samples with this outcome, from `/metrics`.
fn processed(port: u16, outcome: &str) -> u64 {
    get(port, "/metrics")
        .lines()
        .filter(|l| {
            l.starts_with("mlc_enrichment_events_total{")
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ticket(zendesk: &ZendeskSim, subject: String) -> u64 {
    zendesk
        .create_ticket(TicketSeed {
            subject,
            description: "Hello, could you tell us when this will be paid? Thanks.".into(),
            ..TicketSeed::default()
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quoted_invoice_fills_the_ticket_once_despite_the_webhook_of_its_own_update() {
    let (workday, zendesk, setup) = world().await;
    let invoice = unpaid_invoices(&workday)
        .into_iter()
        .next()
        .expect("an unpaid invoice with a PO");
    let supplier = workday.universe().supplier(invoice.supplier);
    let port = setup.port;
    let (setup, server) = blocking(move || {
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;
    let id = ticket(
        &zendesk,
        format!("Unpaid invoice {}", invoice.supplier_invoice_number),
    );
    let amount = field_id(&zendesk, "Workday invoice amount");
    wait_until("the ticket's amount", Duration::from_secs(30), || {
        !custom(&zendesk.ticket(id).unwrap(), amount).is_null()
    })
    .await;
    let t = zendesk.ticket(id).unwrap();
    let written = custom(&t, amount);
    let written = Decimal::from_str(
        written
            .as_str()
            .map_or_else(|| written.to_string(), str::to_string)
            .as_str(),
    )
    .unwrap();
    assert_eq!(written, invoice.gross, "amount, exact decimal");
    assert_eq!(
        custom(&t, field_id(&zendesk, "Workday invoice currency")),
        supplier.currency()
    );
    assert_eq!(
        custom(&t, field_id(&zendesk, "Workday invoice due date"))
            .as_str()
            .map(|d| d[..10].to_string()),
        Some(invoice.key.due_date.to_string())
    );
    assert_eq!(
        custom(&t, field_id(&zendesk, "Workday PO number")),
        invoice.po_number.clone().unwrap()
    );
    assert_eq!(
        custom(&t, field_id(&zendesk, "Workday invoice number")),
        invoice.supplier_invoice_number
    );
    let today = chrono::Utc::now().date_naive();
    let status = if invoice.key.due_date < today {
        "wd_overdue"
    } else {
        "wd_unpaid"
    };
    assert_eq!(
        custom(&t, field_id(&zendesk, "Workday payment status")),
        status
    );

    // Our update fired the trigger again; that event is processed and finds nothing to change.
    wait_until("the follow-up event", Duration::from_secs(30), || {
        processed(port, "unchanged") >= 1
    })
    .await;
    assert_eq!(puts_to_ticket(&zendesk, id), 1, "exactly one ticket update");
    assert!(
        zendesk.deliveries().len() >= 2,
        "the update fired the trigger"
    );
    assert_eq!(processed(port, "updated"), 1);

    // The write is in the audit trail, with where it came from in Workday.
    let audit = blocking(move || {
        let out = setup.ok(&["audit", "--tenant", "acme", "--object", "invoice", "--json"]);
        drop(server);
        out
    })
    .await;
    let rows: Value = serde_json::from_str(&audit).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"] == format!("ticket:{id}"))
        .expect("an audit row for the ticket");
    assert_eq!(row["outcome"], "updated");
    assert_eq!(row["operation"], "Get_Supplier_Invoices");
    assert_eq!(row["object_id"], invoice.reference_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_number_is_recorded_and_a_workday_outage_dead_letters_until_requeued() {
    let (workday, zendesk, setup) = world().await;
    let port = setup.port;
    let (setup, serve) = blocking(move || {
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;

    // A number no invoice has: no write, audit `not_found`, the event done.
    let unknown = ticket(&zendesk, "Invoice INV-1999-77777 still open".into());
    wait_until(
        "the unknown number's event",
        Duration::from_secs(30),
        || processed(port, "not_found") >= 1,
    )
    .await;
    assert_eq!(puts_to_ticket(&zendesk, unknown), 0);

    // Workday down: the event fails, is retried, and becomes a dead letter.
    workday.set_faults(FaultConfig {
        rate_503: 1.0,
        ..FaultConfig::default()
    });
    let invoice = unpaid_invoices(&workday).into_iter().nth(1).unwrap();
    let id = ticket(
        &zendesk,
        format!("Re: payment of {}", invoice.supplier_invoice_number),
    );
    wait_until("the dead letter", Duration::from_secs(60), || {
        processed(port, "dead_lettered") >= 1
    })
    .await;
    assert!(processed(port, "retrying") >= 1, "retried before giving up");
    assert_eq!(puts_to_ticket(&zendesk, id), 0);
    let (setup, listed) = blocking(move || {
        let listed = setup.ok(&["dead-letters", "list", "--tenant", "acme", "--json"]);
        (setup, listed)
    })
    .await;
    let dead: Value = serde_json::from_str(&listed).unwrap();
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["ticket_id"], id);
    assert!(
        dead[0]["last_error"].as_str().unwrap().contains("Workday"),
        "{dead:?}"
    );

    // Workday back, the dead letter requeued: processed.
    workday.set_faults(FaultConfig::default());
    let setup = blocking(move || {
        setup.ok(&["dead-letters", "requeue", "--tenant", "acme", "--all"]);
        setup
    })
    .await;
    wait_until("the requeued event", Duration::from_secs(30), || {
        puts_to_ticket(&zendesk, id) == 1
    })
    .await;
    let audit = blocking(move || {
        let audit = setup.ok(&["audit", "--tenant", "acme", "--json"]);
        drop(serve);
        audit
    })
    .await;
    let rows: Value = serde_json::from_str(&audit).unwrap();
    let outcomes: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["object_type"] == "invoice")
        .map(|r| {
            (
                r["target"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&(format!("ticket:{unknown}"), "not_found".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&(format!("ticket:{id}"), "updated".into())),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_while_holding_leases_loses_no_event_and_writes_each_ticket_once() {
    let (workday, zendesk, setup) = world().await;
    let invoices: Vec<Invoice> = unpaid_invoices(&workday).into_iter().take(6).collect();
    assert!(invoices.len() >= 4, "the data set has unpaid invoices");
    // Slow Workday answers, so events are leased when the process dies.
    workday.clear_requests();
    workday.push_faults((0..4).map(|_| Fault::Slow(3_000)));
    let port = setup.port;
    let (setup, serve) = blocking(move || {
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;
    let ids: Vec<u64> = invoices
        .iter()
        .map(|i| ticket(&zendesk, format!("Invoice {}", i.supplier_invoice_number)))
        .collect();
    // Wait until the workers hold events (Workday has seen their first reads), then kill -9.
    wait_until("events in progress", Duration::from_secs(30), || {
        workday.requests().len() >= 2
    })
    .await;
    let mut serve = serve;
    serve.0.kill().unwrap();
    serve.0.wait().unwrap();
    let before: usize = ids.iter().map(|id| puts_to_ticket(&zendesk, *id)).sum();
    assert!(
        before < ids.len(),
        "the kill came after every ticket was written; nothing was left in flight"
    );

    // Restarted: every event processed; each ticket written exactly once.
    let amount = field_id(&zendesk, "Workday invoice amount");
    let (_setup, serve) = blocking(move || {
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;
    wait_until("every ticket written", Duration::from_secs(60), || {
        ids.iter()
            .all(|id| !custom(&zendesk.ticket(*id).unwrap(), amount).is_null())
    })
    .await;
    // And the events the restarted process's writes fired are processed too, finding nothing to change, and
    // nothing is left queued or leased.
    let rewritten = (ids.len() - before) as u64;
    wait_until("the follow-up events", Duration::from_secs(60), || {
        let metrics = get(port, "/metrics");
        metrics
            .lines()
            .any(|l| l.starts_with("mlc_enrichment_queue_depth{") && l.ends_with(" 0"))
            && processed(port, "unchanged") >= rewritten
    })
    .await;
    let written: HashSet<u64> = ids.iter().copied().collect();
    for id in &written {
        assert_eq!(puts_to_ticket(&zendesk, *id), 1, "ticket {id}");
    }
    drop(serve);
}

/// With the tenant's internal note on, the enrichment's one update also adds a private comment summarising the
/// invoice (number, amounts, due date, status, PO, as of); agents see it, the requester does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_internal_note_is_a_private_comment_in_the_same_update() {
    let (workday, zendesk, setup) = world().await;
    let invoice = unpaid_invoices(&workday)
        .into_iter()
        .next()
        .expect("an unpaid invoice");
    let port = setup.port;
    let (_setup, serve) = blocking(move || {
        setup.ok(&["tenant", "update", "acme", "--internal-note", "on"]);
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;
    let id = ticket(
        &zendesk,
        format!("Invoice {}", invoice.supplier_invoice_number),
    );
    wait_until("the ticket written", Duration::from_secs(30), || {
        processed(port, "updated") >= 1
    })
    .await;
    assert_eq!(
        puts_to_ticket(&zendesk, id),
        1,
        "one update carries fields and note"
    );
    let comments: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v2/tickets/{id}/comments",
            zendesk.base_url()
        ))
        .basic_auth(
            format!("{}/token", zsim::DEFAULT_AGENT_EMAIL),
            Some(zsim::DEFAULT_API_TOKEN),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notes: Vec<&Value> = comments["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["public"] == false)
        .collect();
    assert_eq!(notes.len(), 1, "{comments}");
    let body = notes[0]["body"].as_str().unwrap();
    assert!(
        body.contains("Amount due:")
            && body.contains("Payment status:")
            && body.contains("ml-connector"),
        "{body}"
    );
    drop(serve);
}

/// A ticket field the mapping writes was deleted in Zendesk after setup: the write is refused before anything is
/// sent (Zendesk would silently drop an unknown field id), and the event is dead-lettered naming the field, for
/// an administrator to fix the mapping (`mapping set`, or `setup` again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_to_a_field_deleted_in_zendesk_is_refused_not_sent() {
    let (workday, zendesk, setup) = world().await;
    let invoice = unpaid_invoices(&workday)
        .into_iter()
        .next()
        .expect("an unpaid invoice");
    let amount = field_id(&zendesk, "Workday invoice amount");
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/api/v2/ticket_fields/{amount}",
            zendesk.base_url()
        ))
        .basic_auth(
            format!("{}/token", zsim::DEFAULT_AGENT_EMAIL),
            Some(zsim::DEFAULT_API_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let port = setup.port;
    let (setup, serve) = blocking(move || {
        let serve = setup.serve_with(FAST);
        (setup, serve)
    })
    .await;
    let id = ticket(
        &zendesk,
        format!("Invoice {}", invoice.supplier_invoice_number),
    );
    wait_until("the dead letter", Duration::from_secs(30), || {
        processed(port, "dead_lettered") >= 1
    })
    .await;
    assert_eq!(puts_to_ticket(&zendesk, id), 0, "nothing was sent");
    let listed = blocking(move || {
        let listed = setup.ok(&["dead-letters", "list", "--tenant", "acme", "--json"]);
        drop(serve);
        listed
    })
    .await;
    let dead: Value = serde_json::from_str(&listed).unwrap();
    let error = dead[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains(&amount.to_string()) && error.contains("no ticket field has this id"),
        "{dead}"
    );
}

/// The enrichment figures (not a test: run it on purpose, see docs/operations.md "Enrichment figures"). One
/// `serve` replica (`BENCH_WORKERS` workers, default 2, the default configuration) against both simulators:
/// - **throughput**: `BENCH_TICKETS` tickets (default 300), each quoting an unpaid invoice, created back to back;
///   every ticket makes two events (its creation, and the trigger our own update fires). Prints events per
///   second, from the first webhook to the last event done. The connector paces Update Ticket at
///   `zendesk.ticket_update_rpm` (`BENCH_TICKET_UPDATE_RPM`, default 100: Zendesk's own limit per account), which
///   bounds the figure; raise it to see what the rest of the pipeline can do.
/// - **latency**: `BENCH_LATENCY_TICKETS` tickets (default 30) created one at a time, each after the previous one
///   is written; prints the median and p95 of webhook-to-fields latency (the simulator sending a ticket's first
///   webhook → its Update Ticket arriving), and the same figures for the burst above (queueing included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures"]
async fn bench_enrichment_figures() {
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (burst, one_by_one) = (var("BENCH_TICKETS", 300), var("BENCH_LATENCY_TICKETS", 30));
    let (workers, update_rpm) = (var("BENCH_WORKERS", 2), var("BENCH_TICKET_UPDATE_RPM", 100));
    let workday = WorkdaySim::start(SimConfig {
        suppliers: 150,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // The simulator's limits out of the way: the connector's own pacing is what is measured.
    let zendesk = ZendeskSim::start(zsim::SimConfig {
        plan: zsim::Plan::Custom(1_000_000),
        ticket_update_limit: 1_000_000,
        ticket_update_per_ticket_limit: 1_000,
        ..zsim::SimConfig::default()
    })
    .await
    .unwrap();
    let setup = Setup::new(&workday, &zendesk);
    let setup = blocking(move || {
        setup.ok(&["tenant", "update", "acme", "--zendesk-rpm", "1000000"]);
        setup.ok(&["setup", "--tenant", "acme"]);
        setup.ok(&["sync", "--tenant", "acme"]);
        setup
    })
    .await;
    let invoices = unpaid_invoices(&workday);
    assert!(!invoices.is_empty(), "the data set has unpaid invoices");
    let port = setup.port;
    let (_setup, serve) = blocking(move || {
        let serve = setup.serve_with(&[
            ("MLC_SYNC__SCHEDULER_ENABLED", "false"),
            ("MLC_ENRICHMENT__WORKERS", &workers.to_string()),
            ("MLC_ZENDESK__TICKET_UPDATE_RPM", &update_rpm.to_string()),
        ]);
        (setup, serve)
    })
    .await;
    wait_until("serve", Duration::from_secs(60), || {
        get(port, "/metrics").contains("200 OK")
    })
    .await;
    let done = |port| {
        [
            "updated",
            "unchanged",
            "not_found",
            "no_reference",
            "nothing_mapped",
            "ticket_unwritable",
            "dead_lettered",
        ]
        .iter()
        .map(|o| processed(port, o))
        .sum::<u64>()
    };
    let mut quoted = invoices.iter().cycle();
    let mut new_ticket = || {
        let i = quoted.next().unwrap();
        ticket(&zendesk, format!("Invoice {}", i.supplier_invoice_number))
    };
    // Webhook-to-fields latency of each ticket, sorted; each written exactly once.
    let latencies = |ids: &[u64]| {
        let mut first = std::collections::HashMap::new();
        for d in zendesk.deliveries() {
            let at = first.entry(d.ticket_id).or_insert(d.at);
            *at = (*at).min(d.at);
        }
        let mut l: Vec<Duration> = ids
            .iter()
            .map(|id| {
                let puts = ticket_puts(&zendesk, *id);
                assert_eq!(puts.len(), 1, "ticket {id} written once");
                puts[0].received - first[id]
            })
            .collect();
        l.sort();
        let start = ids.iter().map(|id| first[id]).min().unwrap();
        (l, start)
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |l: &[Duration], p: usize| ms(l[(l.len() * p / 100).min(l.len() - 1)]);

    // Latency, one ticket at a time.
    let amount = field_id(&zendesk, "Workday invoice amount");
    let mut ids = Vec::new();
    // Arrivals spaced at the Update Ticket pace, so no ticket waits for the one before it.
    let spacing = Duration::from_secs_f64(60.0 / update_rpm.max(1) as f64);
    for _ in 0..one_by_one {
        let arrived = Instant::now();
        let id = new_ticket();
        wait_until("the ticket written", Duration::from_secs(60), || {
            !custom(&zendesk.ticket(id).unwrap(), amount).is_null()
        })
        .await;
        ids.push(id);
        tokio::time::sleep(spacing.saturating_sub(arrived.elapsed())).await;
    }
    let (quiet, _) = latencies(&ids);
    wait_until("the follow-up events", Duration::from_secs(60), || {
        done(port) >= 2 * one_by_one as u64
    })
    .await;

    // Throughput: a burst.
    let before = done(port);
    let ids: Vec<u64> = (0..burst).map(|_| new_ticket()).collect();
    let events = 2 * burst as u64;
    wait_until("every event processed", Duration::from_secs(3600), || {
        done(port) - before >= events
    })
    .await;
    let end = Instant::now();
    let (loaded, start) = latencies(&ids);
    let elapsed = (end - start).as_secs_f64();
    println!(
        "FIGURE enrichment latency, one replica, one ticket at a time ({one_by_one} tickets): webhook-to-fields \
         median {:.0} ms, p95 {:.0} ms",
        pct(&quiet, 50),
        pct(&quiet, 95),
    );
    println!(
        "FIGURE enrichment throughput, one replica ({workers} workers, Update Ticket paced at {update_rpm}/min): \
         {burst} tickets = {events} events in {elapsed:.1}s = {:.1} events/s; webhook-to-fields under that \
         backlog median {:.0} ms, p95 {:.0} ms",
        events as f64 / elapsed,
        pct(&loaded, 50),
        pct(&loaded, 95),
    );
    drop(serve);
}
