//! `ml-connector check --tenant ID` against the Workday simulator, through the real binary: one line per
//! upstream, the exact failure, exit status 1 when an upstream fails. Secrets never appear in the output.

use crate::support as cli_support;

use std::process::Output;

use cli_support::Env;
use ml_connector_sim::workday::{SimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{self as zsim, ZendeskSim};

/// `tenant add acme` against the Workday simulator at `url` (configured as `c`) and the Zendesk simulator at
/// `zendesk_url`, with `extra` options; then its Zendesk API token and Workday password.
fn add_acme(env: &Env, url: &str, c: &SimConfig, zendesk_url: &str, extra: &[&str]) {
    let mut args = vec![
        "tenant",
        "add",
        "acme",
        "--workday-url",
        url,
        "--workday-tenant",
        &c.tenant,
        "--workday-user",
        &c.username,
        "--zendesk-url",
        zendesk_url,
        "--zendesk-email",
        zsim::DEFAULT_AGENT_EMAIL,
    ];
    args.extend_from_slice(extra);
    env.ok(&args);
    env.secret("acme", "zendesk-api-token", zsim::DEFAULT_API_TOKEN);
    env.secret("acme", "workday-password", &c.password);
}

/// The line of `stdout` that starts with `prefix`.
fn line_starting<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{stdout}"))
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_tenant_reports_each_upstream_and_the_exact_failure() {
    let sim = WorkdaySim::start(SimConfig {
        suppliers: 42,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // A real tenant has both upstreams; `check --tenant` reports each on its own line.
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let zendesk_url = zendesk.base_url();
    let url = sim.base_url();
    let c = sim.config().clone();
    let (ok_out, bad_out, oauth_ok, oauth_bad) = blocking(move || {
        let env = Env::new();
        add_acme(&env, &url, &c, &zendesk_url, &[]);
        let ok_out = env.run(&["check", "--tenant", "acme"]);

        env.secret("acme", "workday-password", "wrong-password-7731");
        let bad_out = env.run(&["check", "--tenant", "acme"]);

        env.secret("acme", "workday-password", &c.password);
        env.ok(&[
            "tenant",
            "update",
            "acme",
            "--workday-client-id",
            &c.client_id,
        ]);
        env.secret("acme", "workday-client-secret", &c.client_secret);
        env.secret("acme", "workday-refresh-token", &c.refresh_token);
        let oauth_ok = env.run(&["check", "--tenant", "acme"]);

        env.secret("acme", "workday-client-secret", "bad-client-secret-5512");
        let oauth_bad = env.run(&["check", "--tenant", "acme"]);
        (ok_out, bad_out, oauth_ok, oauth_bad)
    })
    .await;

    let (stdout, stderr) = text(&ok_out);
    assert!(ok_out.status.success(), "{stdout}\n{stderr}");
    let line = line_starting(&stdout, "workday soap:");
    assert!(
        line.starts_with("workday soap: ok (") && line.contains("42 suppliers"),
        "{line}"
    );
    assert!(
        line.contains("/ccx/service/acme_dpt1/Resource_Management/v46.1"),
        "{line}"
    );
    assert!(
        !stdout.contains("workday oauth"),
        "no OAuth client, no OAuth line"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("zendesk: ok (")),
        "{stdout}"
    );

    let (stdout, stderr) = text(&bad_out);
    assert_eq!(bad_out.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = line_starting(&stdout, "workday soap:");
    assert!(
        line.contains("FAILED: Workday rejected the credentials on Get_Suppliers: invalid username or password"),
        "{line}"
    );
    assert!(!stdout.contains("wrong-password-7731") && !stderr.contains("wrong-password-7731"));

    let (stdout, stderr) = text(&oauth_ok);
    assert!(oauth_ok.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("workday "))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[1].starts_with("workday oauth: ok (access token issued by"),
        "{}",
        lines[1]
    );

    let (stdout, stderr) = text(&oauth_bad);
    assert_eq!(oauth_bad.status.code(), Some(1));
    assert!(stdout.contains("workday soap: ok"), "{stdout}");
    let line = line_starting(&stdout, "workday oauth:");
    assert!(
        line.contains("FAILED") && line.contains("HTTP 401") && line.contains("invalid_client"),
        "{line}"
    );
    assert!(stderr.contains("workday oauth failed"), "{stderr}");
    assert!(
        !stdout.contains("bad-client-secret-5512") && !stderr.contains("bad-client-secret-5512")
    );

    let outcomes: Vec<String> = sim
        .requests()
        .into_iter()
        .map(|r| format!("{}:{}", r.kind, r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            "soap:ok",
            "soap:fault:Client.authenticationError",
            "soap:ok",
            "token:ok",
            "soap:ok",
            "token:invalid_client"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_tenant_names_missing_settings_and_unreachable_hosts() {
    let out = blocking(|| {
        let env = Env::new();
        env.ok(&["tenant", "add", "acme"]);
        let missing = env.run(&["check", "--tenant", "acme"]);
        env.ok(&[
            "tenant",
            "update",
            "acme",
            "--workday-url",
            "http://127.0.0.1:9",
            "--workday-tenant",
            "t",
            "--workday-user",
            "u",
        ]);
        env.secret("acme", "workday-password", "pw");
        let unreachable = env.run(&["check", "--tenant", "acme"]);
        let unknown = env.run(&["check", "--tenant", "nobody"]);
        (missing, unreachable, unknown)
    })
    .await;
    let (stdout, _) = text(&out.0);
    assert_eq!(out.0.status.code(), Some(1));
    assert!(
        stdout.contains("workday soap: FAILED") && stdout.contains("workday-password is not set"),
        "{stdout}"
    );
    let (stdout, _) = text(&out.1);
    assert_eq!(out.1.status.code(), Some(1));
    assert!(
        stdout.contains("cannot reach Workday for Get_Suppliers"),
        "{stdout}"
    );
    let (_, stderr) = text(&out.2);
    assert!(
        !out.2.status.success() && stderr.contains("nobody"),
        "{stderr}"
    );
}

/// When the Workday API client rotates refresh tokens, `check` stores the new one at once: the next run (with
/// the old one invalidated) still authenticates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_stored_for_the_next_run() {
    let sim = WorkdaySim::start(SimConfig {
        suppliers: 5,
        rotate_refresh_tokens: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let zendesk = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let zendesk_url = zendesk.base_url();
    let url = sim.base_url();
    let c = sim.config().clone();
    let outs = blocking(move || {
        let env = Env::new();
        add_acme(
            &env,
            &url,
            &c,
            &zendesk_url,
            &["--workday-client-id", &c.client_id],
        );
        env.secret("acme", "workday-client-secret", &c.client_secret);
        env.secret("acme", "workday-refresh-token", &c.refresh_token);
        let first = env.run(&["check", "--tenant", "acme"]);
        let second = env.run(&["check", "--tenant", "acme"]);
        let db = std::fs::read(env.data().join("ml-connector.db")).unwrap_or_default();
        (first, second, db)
    })
    .await;
    let (first, second, db) = outs;
    for out in [&first, &second] {
        let (stdout, stderr) = text(out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let line = line_starting(&stdout, "workday oauth:");
        assert!(line.contains("rotated refresh token stored"), "{line}");
    }
    let current = sim.current_refresh_token();
    assert_eq!(current, "sim-refresh-token-r2", "two grants, two rotations");
    let (stdout, stderr) = text(&second);
    assert!(!stdout.contains(&current) && !stderr.contains(&current));
    assert!(
        !db.windows(current.len()).any(|w| w == current.as_bytes()),
        "the rotated token is sealed, not stored in clear"
    );
}

/// `ml-connector check --tenant` prints one line for Zendesk (the real binary, against the simulator).
#[tokio::test]
async fn the_check_command_prints_the_zendesk_line() {
    let sim = ZendeskSim::start(zsim::SimConfig::default()).await.unwrap();
    let workday = WorkdaySim::start(SimConfig::default()).await.unwrap();
    let wd = workday.config().clone();
    let cli = Env::new();
    // tokio's Command: the simulator runs on this test's runtime and must keep serving meanwhile.
    let run = async |args: &[&str], token: &str| {
        tokio::process::Command::from(cli.cmd(args))
            .env("ZD_TOKEN", token)
            .output()
            .await
            .unwrap()
    };
    // `tenant set-credentials acme NAME`, the value taken from the environment.
    let set_credential = async |name: &str, value: &str| {
        run(
            &[
                "tenant",
                "set-credentials",
                "acme",
                name,
                "--from-env",
                "ZD_TOKEN",
            ],
            value,
        )
        .await
    };
    let base = sim.base_url();
    let workday_url = workday.base_url();
    let out = run(
        &[
            "tenant",
            "add",
            "acme",
            "--zendesk-url",
            &base,
            "--zendesk-email",
            zsim::DEFAULT_AGENT_EMAIL,
            "--workday-url",
            &workday_url,
            "--workday-tenant",
            &wd.tenant,
            "--workday-user",
            &wd.username,
        ],
        "",
    )
    .await;
    cli_support::assert_success(&out);
    cli_support::assert_success(&set_credential("workday-password", &wd.password).await);
    cli_support::assert_success(
        &set_credential("zendesk-api-token", zsim::DEFAULT_API_TOKEN).await,
    );
    let out = run(&["check", "--tenant", "acme"], "").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().find(|l| l.starts_with("zendesk: ")).unwrap();
    assert!(
        line.starts_with("zendesk: ok (") && line.contains("rate limit 700/min"),
        "{line}"
    );

    cli_support::assert_success(&set_credential("zendesk-api-token", "wrong-token").await);
    let out = run(&["check", "--tenant", "acme"], "").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    let line = stdout.lines().find(|l| l.starts_with("zendesk: ")).unwrap();
    assert!(line.starts_with("zendesk: FAILED (unauthorized"), "{line}");
    assert!(!stdout.contains("wrong-token"));
}
