//! Black-box tests of the `ml-connector` binary: configuration errors, tenants and secrets, the vault key,
//! and `serve` answering its operations endpoints and shutting down on SIGTERM.

use crate::support as cli_support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use cli_support::{Env, assert_success, stderr};

/// The command failed and said why: its stderr contains `needle`.
#[track_caller]
fn assert_fails_with(out: &Output, needle: &str) {
    assert!(
        !out.status.success() && stderr(out).contains(needle),
        "{}",
        stderr(out)
    );
}

fn file_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_deprecated_config_key_still_works_and_says_what_replaces_it() {
    let env = Env::new();
    let cfg = env.dir.path().join("ml-connector.toml");
    std::fs::write(&cfg, "[zendesk]\nretry_min_delay_ms = 700\n").unwrap();
    let out = env.run(&["--config", cfg.to_str().unwrap(), "config", "show"]);
    assert_success(&out);
    let warning = stderr(&out);
    assert!(
        warning.contains("`zendesk.retry_min_delay_ms`")
            && warning.contains("deprecated")
            && warning.contains("use `zendesk.retry.initial_delay_ms`"),
        "{warning}"
    );
    let shown = String::from_utf8(out.stdout).unwrap();
    let retry = shown
        .split("[zendesk.retry]")
        .nth(1)
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(retry.contains("initial_delay_ms = 700"), "{shown}");
    // The same key from the environment.
    let out = env
        .cmd(&["config", "show"])
        .env("MLC_ZENDESK__RETRY_MIN_DELAY_MS", "800")
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        stderr(&out).contains("MLC_ZENDESK__RETRY_MIN_DELAY_MS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_config_key_exits_non_zero_naming_the_key() {
    let env = Env::new();
    let cfg = env.dir.path().join("ml-connector.toml");
    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:0\"\nrequest_timout_secs = 5\n",
    )
    .unwrap();
    for args in [&["serve"][..], &["check"][..], &["config", "show"][..]] {
        let mut full = vec!["--config", cfg.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = env.run(&full);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("server.request_timout_secs"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = env
        .cmd(&["config", "show"])
        .env("MLC_STORE__MAX_CONECTIONS", "3")
        .output()
        .unwrap();
    assert_fails_with(&out, "MLC_STORE__MAX_CONECTIONS");
}

#[test]
fn config_show_prints_the_effective_config_redacted() {
    let env = Env::new();
    let out = env
        .cmd(&["config", "show"])
        .env(
            "MLC_DATABASE_URL",
            "postgres://mlc:s3cr3t-pw@db.internal:5432/mlc",
        )
        .env("MLC_SERVER__REQUEST_TIMEOUT_SECS", "42")
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("request_timeout_secs = 42"), "{text}");
    assert!(
        !text.contains("s3cr3t-pw") && text.contains("db.internal"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_option() {
    let env = Env::new();
    // Without its tenant, `sync` is a usage error (2) that names the option.
    let out = env.run(&["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tenant"), "{}", stderr(&out));
    let out = env.run(&["demo", "--suppliers", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--suppliers"), "{}", stderr(&out));
}

#[test]
fn tenants_and_sealed_credentials_through_the_cli() {
    let env = Env::new();
    let out = env.ok(&[
        "tenant",
        "add",
        "acme",
        "--name",
        "Acme Corp",
        "--workday-url",
        "https://wd2-impl-services1.workday.com",
        "--workday-tenant",
        "acme_dpt1",
        "--workday-user",
        "ISU_ZENDESK",
        "--zendesk-email",
        "ap@acme.test",
    ]);
    assert!(out.contains("added tenant acme"), "{out}");
    let out = env.run(&["tenant", "add", "acme"]);
    assert_fails_with(&out, "already exists");
    let out = env.run(&["tenant", "add", "Not_A_Subdomain"]);
    assert_fails_with(&out, "invalid tenant id");

    let secret = "wd-password-that-must-never-leak-5521";
    env.secret("acme", "workday-password", secret);
    let token = "zd-token-from-env-8812";
    let out = env
        .cmd(&[
            "tenant",
            "set-credentials",
            "acme",
            "zendesk-api-token",
            "--from-env",
            "ZD_TOKEN",
        ])
        .env("ZD_TOKEN", token)
        .output()
        .unwrap();
    assert_success(&out);
    let out = env.run(&["tenant", "set-credentials", "acme", "password"]);
    assert_fails_with(&out, "workday-password");

    let shown = env.ok(&["tenant", "show", "acme"]);
    assert!(
        shown.contains("workday-password") && shown.contains("set (sealed with key"),
        "{shown}"
    );
    assert!(!shown.contains(secret) && !shown.contains(token));
    let json = env.ok(&["tenant", "show", "acme", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["tenant"]["workday"]["tenant"], "acme_dpt1");
    assert_eq!(value["secrets"].as_array().unwrap().len(), 2);
    assert!(!json.contains(secret));

    let list = env.ok(&["tenant", "list"]);
    assert!(
        list.contains("acme") && list.contains("Acme Corp"),
        "{list}"
    );

    // Nothing in the data directory holds a secret in clear text.
    let bytes = file_bytes(&env.data());
    assert!(contains(&bytes, b"acme_dpt1"));
    assert!(!contains(&bytes, secret.as_bytes()) && !contains(&bytes, token.as_bytes()));

    let key = env.ok(&["tenant", "admin-key", "acme"]);
    assert!(key.trim().starts_with("mlc_admin_"), "{key}");
    assert!(!contains(&file_bytes(&env.data()), key.trim().as_bytes()));

    let out = env.run(&["tenant", "remove", "acme"]);
    assert_fails_with(&out, "--yes");
    env.ok(&["tenant", "remove", "acme", "--yes"]);
    assert!(env.ok(&["tenant", "list"]).contains("no tenants"));
}

#[test]
fn wrong_or_missing_master_key_stops_with_a_clear_error() {
    let env = Env::new();
    env.ok(&["tenant", "add", "acme"]);
    env.secret("acme", "jwt-shared-secret", "shh");

    let other = env.ok(&["vault", "generate-key"]);
    let out = env
        .cmd(&["tenant", "show", "acme"])
        .env("MLC_MASTER_KEY", other.trim())
        .output()
        .unwrap();
    assert_fails_with(&out, "sealed with master key");
    let out = env
        .cmd(&["check"])
        .env("MLC_MASTER_KEY", "short")
        .output()
        .unwrap();
    assert_fails_with(&out, "MLC_MASTER_KEY");

    std::fs::remove_file(env.data().join("master.key")).unwrap();
    let out = env.run(&["check"]);
    assert_fails_with(&out, "missing");
    assert!(
        !env.data().join("master.key").exists(),
        "a new key must not be made over sealed data"
    );
}

#[test]
fn vault_rotate_keeps_secrets_readable() {
    let env = Env::new();
    env.ok(&["tenant", "add", "acme"]);
    for (name, value) in [
        ("workday-password", "pw-1"),
        ("webhook-signing-secret", "whs-2"),
    ] {
        let out = env.with_stdin(&["tenant", "set-credentials", "acme", name], value);
        assert_success(&out);
    }
    let before = env.ok(&["vault", "status"]);
    let out = env.ok(&["vault", "rotate"]);
    assert!(out.contains("re-sealed 2 secrets"), "{out}");
    let after = env.ok(&["vault", "status"]);
    assert_ne!(before, after);
    let shown = env.ok(&["tenant", "show", "acme"]);
    let new_id = after.split_whitespace().nth(2).unwrap();
    assert_eq!(
        shown.matches(&format!("sealed with key {new_id}")).count(),
        2,
        "{shown}"
    );
    env.ok(&["check"]);
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(env: &Env) -> Server {
    let mut child = env
        .cmd(&["serve"])
        .env("MLC_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if json["message"] == "ml-connector listening" {
            break json["addr"].as_str().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_operations_endpoints_and_stops_on_sigterm() {
    let env = Env::new();
    let mut server = start_server(&env);
    let (status, body) = http_get(&server.addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, _) = http_get(&server.addr, "/readyz");
    assert_eq!(status, 200);
    let (status, body) = http_get(&server.addr, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("mlc_http_requests_total"), "{body}");
    let (status, body) = http_get(&server.addr, "/openapi.json");
    assert_eq!(status, 200);
    assert!(body.contains("\"/readyz\""), "{body}");
    let (status, body) = http_get(&server.addr, "/no/such/path");
    assert_eq!(status, 404);
    assert!(body.contains("\"request_id\""), "{body}");

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
