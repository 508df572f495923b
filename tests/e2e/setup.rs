//! `ml-connector setup` and `ml-connector mapping` against the simulators, through the real binary: a fresh
//! Zendesk account gets its fields, webhook, trigger and mapping; a second run writes nothing; a ticket created
//! in Zendesk then reaches the webhook receiver signed with the secret setup sealed; a mapping with a mistake is
//! refused naming the rule, and the stored one stays as it was.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Env, assert_success, stderr};
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, TicketSeed, ZendeskSim};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Serve(pub(crate) Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn healthy(addr: &str) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.starts_with("HTTP/1.1 200")
}

pub(crate) struct Setup {
    pub(crate) env: Env,
    pub(crate) public_url: String,
    pub(crate) port: u16,
}

impl Setup {
    pub(crate) fn new(workday: &WorkdaySim, zendesk: &ZendeskSim) -> Self {
        let env = Env::new();
        let c = workday.config().clone();
        env.ok(&[
            "tenant",
            "add",
            "acme",
            "--workday-url",
            &workday.base_url(),
            "--workday-tenant",
            &c.tenant,
            "--workday-user",
            &c.username,
            "--zendesk-url",
            &zendesk.base_url(),
            "--zendesk-email",
            zsim::DEFAULT_AGENT_EMAIL,
        ]);
        env.secret("acme", "zendesk-api-token", zsim::DEFAULT_API_TOKEN);
        env.secret("acme", "workday-password", &c.password);
        let port = free_port();
        Self {
            env,
            public_url: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        self.env
            .cmd(args)
            .env("MLC_SERVER__PUBLIC_URL", &self.public_url)
            .output()
            .unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    pub(crate) fn serve(&self) -> Serve {
        self.serve_with(&[])
    }

    /// `serve` with more environment (configuration overrides).
    pub(crate) fn serve_with(&self, env: &[(&str, &str)]) -> Serve {
        let mut cmd = self.env.cmd(&["serve"]);
        cmd.env("MLC_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("MLC_SERVER__PUBLIC_URL", &self.public_url);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let serve = Serve(child);
        let addr = format!("127.0.0.1:{}", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !healthy(&addr) {
            assert!(Instant::now() < deadline, "serve did not come up on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        serve
    }
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

pub(crate) async fn sims() -> (WorkdaySim, ZendeskSim) {
    let workday = WorkdaySim::start(SimConfig {
        suppliers: 5,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    (workday, zendesk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_provisions_once_and_ticket_activity_arrives_signed() {
    let (workday, zendesk) = sims().await;
    let setup = Setup::new(&workday, &zendesk);
    let (setup, dry, first) = blocking(move || {
        let dry = setup.ok(&["setup", "--tenant", "acme", "--dry-run"]);
        let first = setup.ok(&["setup", "--tenant", "acme"]);
        (setup, dry, first)
    })
    .await;
    assert!(
        dry.contains("would create") && dry.contains("dry run"),
        "{dry}"
    );
    for item in [
        "organization field `wd_supplier_id`",
        "ticket field \"Workday payment status\"",
        "webhook http://127.0.0.1:",
        "secret webhook-signing-secret",
        "trigger \"ml-connector",
        "mapping and field ids",
    ] {
        assert!(
            first.lines().any(|l| l.contains(item)
                && (l.starts_with("created") || l.starts_with("changed"))),
            "{item} not created:\n{first}"
        );
    }
    // What Zendesk now has: the fields with their real types, one webhook, one trigger calling it.
    let status = zendesk
        .requests_to("POST", "/api/v2/ticket_fields")
        .into_iter()
        .filter_map(|r| r.body)
        .find(|b| b["ticket_field"]["title"] == "Workday payment status")
        .expect("payment status field created");
    assert_eq!(status["ticket_field"]["type"], "tagger");
    let options: Vec<&str> = status["ticket_field"]["custom_field_options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["paid", "partially paid", "unpaid", "overdue"]);
    assert_eq!(zendesk.requests_to("POST", "/api/v2/webhooks").len(), 1);
    let trigger = zendesk.requests_to("POST", "/api/v2/triggers");
    assert_eq!(trigger.len(), 1);
    let action = &trigger[0].body.as_ref().unwrap()["trigger"]["actions"][0];
    assert_eq!(action["field"], "notification_webhook");

    // A second run finds everything and writes nothing.
    zendesk.clear_log();
    let (setup, second) = blocking(move || {
        let second = setup.ok(&["setup", "--tenant", "acme"]);
        (setup, second)
    })
    .await;
    assert!(second.contains("nothing to change"), "{second}");
    assert!(
        second
            .lines()
            .all(|l| l.starts_with("found") || l.starts_with("tenant")),
        "{second}"
    );
    let writes: Vec<String> = zendesk
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.line())
        .collect();
    assert!(writes.is_empty(), "second setup wrote: {writes:?}");

    // The mapping was written against the real field ids.
    let (setup, shown) = blocking(move || {
        let shown = setup.ok(&["mapping", "show", "--tenant", "acme"]);
        (setup, shown)
    })
    .await;
    let amount_id =
        zendesk_ticket_field_id(&zendesk, "Workday invoice amount").expect("amount field");
    assert!(
        shown.contains(&format!("ticket_field = {amount_id}")),
        "{shown}"
    );
    assert!(
        shown.contains("organization_field = \"wd_supplier_id\""),
        "{shown}"
    );

    // Ticket activity: a ticket created in Zendesk reaches the receiver, signed with the sealed secret (a bad
    // signature is answered 401), and is queued (200 only after the event is stored).
    let (setup, server) = blocking(move || {
        let server = setup.serve();
        (setup, server)
    })
    .await;
    let ticket = zendesk
        .create_ticket(TicketSeed {
            subject: "Where is my payment for INV-1?".into(),
            description: "Our invoice INV-1 is still unpaid.".into(),
            ..TicketSeed::default()
        })
        .unwrap();
    let deliveries = zendesk
        .wait_for_deliveries(1, Duration::from_secs(30))
        .await;
    let d = deliveries.first().expect("a delivery");
    assert_eq!(d.ticket_id, ticket);
    assert!(d.url.ends_with("/webhooks/zendesk/acme"), "{}", d.url);
    assert_eq!(d.status, Some(200), "{:?}", d.error);
    drop(server);
    drop(setup);
}

fn zendesk_ticket_field_id(zendesk: &ZendeskSim, title: &str) -> Option<u64> {
    zendesk
        .ticket_fields()
        .into_iter()
        .find(|f| f["title"] == title)
        .and_then(|f| f["id"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_set_refuses_each_mistake_naming_the_rule_and_keeps_the_stored_mapping() {
    let (workday, zendesk) = sims().await;
    let setup = Setup::new(&workday, &zendesk);
    let (setup, before) = blocking(move || {
        setup.ok(&["setup", "--tenant", "acme"]);
        let before = setup.ok(&["mapping", "show", "--tenant", "acme"]);
        (setup, before)
    })
    .await;
    let amount = zendesk_ticket_field_id(&zendesk, "Workday invoice amount").unwrap();
    let status = zendesk_ticket_field_id(&zendesk, "Workday payment status").unwrap();
    let good = format!(
        "plugin_failure_policy = \"write_nothing\"\n\
         [[invoice]]\nsource = \"invoice.total.amount\"\nticket_field = {amount}\nconvert = {{ type = \"decimal\", scale = 2 }}\n"
    );
    let amount_field = format!("ticket field {amount}");
    let status_field = format!("ticket field {status}");
    let cases = [
        (
            format!(
                "[[invoice]]\nsource = \"invoice.amount_due\"\nticket_field = {amount}\nconvert = {{ type = \"decimal\" }}\n[[invoice]]\nsource = \"invoice.no_such_thing\"\nticket_field = {amount}\n"
            ),
            vec!["invoice[1]", "unknown source `invoice.no_such_thing`"],
        ),
        (
            format!(
                "[[invoice]]\nsource = \"invoice.due_date\"\nticket_field = {amount}\nconvert = {{ type = \"date\" }}\n"
            ),
            vec!["invoice[0]", &amount_field, "Decimal"],
        ),
        (
            format!(
                "[[invoice]]\nsource = \"invoice.payment_status\"\nticket_field = {status}\nconvert = {{ type = \"dropdown\", options = {{ Paid = \"wd_settled\" }} }}\n"
            ),
            vec!["invoice[0]", "`wd_settled` is not an option", &status_field],
        ),
        (
            "[[invoice]]\nsource = \"invoice.number\"\nticket_field = 424242\n".to_string(),
            vec![
                "invoice[0]",
                "ticket field 424242 is not in the tenant's field catalog",
            ],
        ),
        (
            "[[supplier]]\nsource = \"supplier.name\"\norganization_field = \"no_such_key\"\n"
                .to_string(),
            vec!["supplier[0]", "organization field `no_such_key`"],
        ),
    ];
    let expectations: Vec<Vec<String>> = cases
        .iter()
        .map(|(_, e)| e.iter().map(|s| s.to_string()).collect())
        .collect();
    let files: Vec<String> = cases.into_iter().map(|(f, _)| f).collect();
    let (errors, validate_err, after, set_out, shown) = blocking(move || {
        let dir = setup.env.dir.path().to_path_buf();
        let mut errors = Vec::new();
        for (i, text) in files.iter().enumerate() {
            let path = dir.join(format!("bad{i}.toml"));
            std::fs::write(&path, text).unwrap();
            let out = setup.run(&["mapping", "set", path.to_str().unwrap(), "--tenant", "acme"]);
            assert_eq!(out.status.code(), Some(1), "{text}");
            errors.push(stderr(&out));
        }
        let path = dir.join("bad3.toml");
        let validate = setup.run(&[
            "mapping",
            "validate",
            path.to_str().unwrap(),
            "--tenant",
            "acme",
        ]);
        let validate_err = stderr(&validate);
        let after = setup.ok(&["mapping", "show", "--tenant", "acme"]);
        let good_path = dir.join("good.toml");
        std::fs::write(&good_path, &good).unwrap();
        setup.ok(&[
            "mapping",
            "validate",
            good_path.to_str().unwrap(),
            "--tenant",
            "acme",
        ]);
        let set_out = setup.ok(&[
            "mapping",
            "set",
            good_path.to_str().unwrap(),
            "--tenant",
            "acme",
        ]);
        let shown = setup.ok(&["mapping", "show", "--tenant", "acme"]);
        (errors, validate_err, after, set_out, shown)
    })
    .await;
    for (err, expected) in errors.iter().zip(&expectations) {
        for e in expected {
            assert!(err.contains(e.as_str()), "`{e}` not in: {err}");
        }
    }
    assert!(validate_err.contains("424242"), "{validate_err}");
    assert_eq!(before, after, "a refused mapping changed the stored one");
    assert!(set_out.contains("1 invoice rules"), "{set_out}");
    assert!(
        shown.contains("plugin_failure_policy = \"write_nothing\""),
        "{shown}"
    );
    assert!(!shown.contains("[[supplier]]"), "{shown}");
}

/// `mapping preview` reads a real invoice (by the number a customer quotes) and a real supplier from the Workday
/// simulator and prints the writes the tenant's mapping would make, sending Zendesk nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_preview_prints_the_writes_for_a_real_invoice_and_supplier() {
    let (workday, zendesk) = sims().await;
    let u = workday.universe();
    let all: Vec<_> = (0..u.invoice_count()).map(|g| u.invoice(g)).collect();
    let invoice = all
        .iter()
        .find(|i| {
            !i.key.credited
                && all
                    .iter()
                    .filter(|o| {
                        o.supplier_invoice_number
                            .eq_ignore_ascii_case(&i.supplier_invoice_number)
                    })
                    .count()
                    == 1
        })
        .expect("an invoice whose number no other shares")
        .clone();
    let supplier = u.supplier(invoice.supplier);
    let amount_field = {
        let setup = Setup::new(&workday, &zendesk);
        let setup = blocking(move || {
            setup.ok(&["setup", "--tenant", "acme"]);
            setup.ok(&["sync", "--tenant", "acme"]);
            setup
        })
        .await;
        let id = zendesk_ticket_field_id(&zendesk, "Workday invoice amount").unwrap();
        zendesk.clear_log();
        let number = invoice.supplier_invoice_number.clone();
        let supplier_id = supplier.id.clone();
        let (by_invoice, by_supplier, json, unknown) = blocking(move || {
            let by_invoice = setup.ok(&[
                "mapping",
                "preview",
                "--tenant",
                "acme",
                "--invoice",
                &number,
            ]);
            let by_supplier = setup.ok(&[
                "mapping",
                "preview",
                "--tenant",
                "acme",
                "--supplier",
                &supplier_id,
            ]);
            let json = setup.ok(&[
                "mapping",
                "preview",
                "--tenant",
                "acme",
                "--invoice",
                &number,
                "--json",
            ]);
            let unknown = setup.run(&[
                "mapping",
                "preview",
                "--tenant",
                "acme",
                "--invoice",
                "NOPE-404",
            ]);
            (by_invoice, by_supplier, json, unknown)
        })
        .await;
        assert!(
            by_invoice.contains(&format!(
                "invoice {} of supplier {}",
                invoice.supplier_invoice_number, supplier.id
            )) || by_invoice.contains(&format!("of supplier {}", supplier.id)),
            "{by_invoice}"
        );
        let written = by_invoice
            .lines()
            .find(|l| {
                l.contains(&format!(
                    "ticket field {id} (Workday invoice amount) = decimal "
                ))
            })
            .unwrap_or_else(|| panic!("no amount write in {by_invoice}"));
        let value: rust_decimal::Decimal = written.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(value, invoice.gross, "{written}");
        assert!(
            by_invoice.contains("mapped by: the declarative rules"),
            "{by_invoice}"
        );
        assert!(
            by_invoice.contains("preview only: nothing was written"),
            "{by_invoice}"
        );
        assert!(
            by_supplier.contains(&format!("supplier {} ({}", supplier.id, supplier.name))
                && by_supplier.contains("organization field wd_supplier_id = text"),
            "{by_supplier}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["kind"], "invoice");
        assert_eq!(parsed["workday_key"], invoice.reference_id);
        assert!(!unknown.status.success());
        assert!(
            stderr(&unknown).contains("no invoice NOPE-404"),
            "{}",
            stderr(&unknown)
        );
        id
    };
    // Previews read Zendesk's fields at most; they never write.
    let writes: Vec<_> = zendesk
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert!(amount_field > 0);
}
