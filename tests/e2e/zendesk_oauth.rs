//! `ml-connector tenant zendesk-oauth ID`, through the real binary against the Zendesk simulator: the approval
//! URL (state and PKCE), the completion from the redirected address on stdin, and a tenant that then works in
//! OAuth mode.

use ml_connector_sim::workday::{SimConfig as WorkdaySimConfig, WorkdaySim};
use ml_connector_sim::zendesk::{
    DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, SimConfig, SimOauthClient, ZendeskSim,
};

use crate::support::Env;

/// `ml-connector tenant zendesk-oauth` prints the approval URL (with `state` and a PKCE S256 challenge, the
/// verifier sealed in the store), then `--complete` reads the redirected address from stdin (never argv), checks
/// its state, exchanges the code with the verifier and stores the pair; the tenant then works in OAuth mode.
/// The OAuth client is one created before Zendesk supported refresh tokens: it gets a refresh token only because
/// the grant asks for expiring tokens (`expires_in`, `refresh_token_expires_in`).
#[tokio::test]
async fn the_oauth_setup_command_stores_a_working_pair() {
    let sim = ZendeskSim::start(SimConfig {
        oauth_clients: vec![SimOauthClient {
            identifier: DEFAULT_OAUTH_CLIENT_ID.into(),
            secret: DEFAULT_OAUTH_CLIENT_SECRET.into(),
            legacy: true,
        }],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let workday = WorkdaySim::start(WorkdaySimConfig::default())
        .await
        .unwrap();
    let wd = workday.config().clone();
    let cli = Env::new();
    let command = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = tokio::process::Command::from(cli.cmd(args));
        cmd.env("ZD_SECRET", DEFAULT_OAUTH_CLIENT_SECRET)
            .env("WD_PASSWORD", &wd.password)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    // Runs the binary with `input` on stdin; returns (success, stdout, stderr).
    let exec = async |args: &[&str], input: &str, env: &[(&str, &str)]| {
        use tokio::io::AsyncWriteExt as _;
        let mut child = command(args, env).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let run = async |args: &[&str], input: &str| {
        let (ok, stdout, stderr) = exec(args, input, &[]).await;
        assert!(ok, "{args:?}: {stdout}{stderr}");
        stdout
    };
    let base = sim.base_url();
    let workday_url = workday.base_url();
    run(
        &[
            "tenant",
            "add",
            "acme",
            "--zendesk-url",
            &base,
            "--zendesk-auth",
            "oauth",
            "--zendesk-client-id",
            DEFAULT_OAUTH_CLIENT_ID,
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
    run(
        &[
            "tenant",
            "set-credentials",
            "acme",
            "workday-password",
            "--from-env",
            "WD_PASSWORD",
        ],
        "",
    )
    .await;
    run(
        &[
            "tenant",
            "set-credentials",
            "acme",
            "zendesk-oauth-client-secret",
            "--from-env",
            "ZD_SECRET",
        ],
        "",
    )
    .await;
    let redirect = "https://ml-connector.example/oauth/callback";
    let start = [
        "tenant",
        "zendesk-oauth",
        "acme",
        "--redirect-uri",
        redirect,
    ];
    let complete = [
        "tenant",
        "zendesk-oauth",
        "acme",
        "--redirect-uri",
        redirect,
        "--complete",
    ];
    // The code is no longer taken on the command line.
    let (ok, _, stderr) = exec(&[&start[..], &["--code", "C0DE"]].concat(), "", &[]).await;
    assert!(!ok && stderr.contains("--code"), "{stderr}");

    let printed = run(&start, "").await;
    let approve = reqwest::Url::parse(printed.trim()).unwrap();
    assert!(
        approve
            .as_str()
            .starts_with(&format!("{base}/oauth/authorizations/new?"))
    );
    let param = |url: &reqwest::Url, name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param(&approve, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&approve, "code_challenge").map(|c| c.len()), Some(43));
    let state = param(&approve, "state").unwrap();
    // The admin approves in the browser; Zendesk redirects with the code and the state.
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(approve)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect));
    assert_eq!(param(&location, "state").as_deref(), Some(state.as_str()));
    let code = param(&location, "code").unwrap();

    // A redirect whose state is not ours (a forged callback) is refused before anything is exchanged.
    let mut forged = location.clone();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", "0123456789abcdef0123456789abcdef");
    let (ok, stdout, stderr) = exec(
        &[&complete[..], &["--from-env", "ZD_CALLBACK"]].concat(),
        "",
        &[("ZD_CALLBACK", forged.as_str())],
    )
    .await;
    assert!(!ok && stderr.contains("state"), "{stdout}{stderr}");
    assert!(sim.token_grants().is_empty());

    // The real redirect, on stdin.
    let stored = run(&complete, &format!("{location}\n")).await;
    assert!(
        stored.contains("stored the Zendesk OAuth token pair"),
        "{stored}"
    );
    assert!(!stored.contains(&code));
    let grants = sim.token_grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grant_type, "authorization_code");
    assert_eq!(grants[0].status, 200);
    assert!(grants[0].code_verifier_presented, "PKCE verifier sent");
    assert_eq!(grants[0].expires_in.as_deref(), Some("7200"));
    assert_eq!(
        grants[0].refresh_token_expires_in.as_deref(),
        Some("7776000")
    );
    assert!(
        grants[0].issued_refresh_token.is_some(),
        "a legacy client gets a refresh token when it asks for expiry"
    );
    assert!(stored.contains("refresh token expires 20"), "{stored}");
    let checked = run(&["check", "--tenant", "acme"], "").await;
    assert!(
        checked.contains("zendesk: ok (")
            && checked.contains("oauth as")
            && checked.contains("refresh token expires")
            && !checked.contains("WARNING"),
        "{checked}"
    );
    // Inside the warning window, `check` says so and how to renew.
    let (ok, warned, _) = exec(
        &["check", "--tenant", "acme"],
        "",
        &[("MLC_ZENDESK__OAUTH_REFRESH_EXPIRY_WARNING_DAYS", "90")],
    )
    .await;
    assert!(
        ok && warned.contains("WARNING: the OAuth refresh token expires in 89 days")
            && warned.contains("tenant zendesk-oauth acme"),
        "{warned}"
    );
    // The pending authorization is gone: the same redirect cannot be used twice.
    let (ok, _, stderr) = exec(&complete, &format!("{location}\n"), &[]).await;
    assert!(
        !ok && stderr.contains("no Zendesk authorization is in progress"),
        "{stderr}"
    );
    assert_eq!(sim.token_grants().len(), 1);
}
