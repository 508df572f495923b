//! Running the real `ml-connector` binary: a private data directory per test, and the commands run in it with a
//! clean environment.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ml-connector");

/// A temporary directory whose `data` folder is the binary's `MLC_DATA_DIR`.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The binary with `args`, only `PATH` and `MLC_DATA_DIR` in its environment, and no stdin.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MLC_DATA_DIR", self.data())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `args`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `args`, which must fail; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        stderr(&out)
    }

    /// Like `fails`, for a command that must end by itself: killed and reported if it runs past `limit`.
    pub fn fails_within(&self, limit: Duration, args: &[&str]) -> String {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > limit {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{args:?} was still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        stderr(&out)
    }

    /// Runs `args` with `input` on stdin.
    pub fn with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// `tenant set-credentials TENANT NAME` with the value typed on stdin; must succeed.
    pub fn secret(&self, tenant: &str, name: &str, value: &str) {
        let out = self.with_stdin(
            &["tenant", "set-credentials", tenant, name],
            &format!("{value}\n"),
        );
        assert_success(&out);
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails the test, showing the command's stderr, unless it exited successfully.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
}

/// Waits (blocking) until `condition` holds; fails the test after `deadline`.
#[track_caller]
pub fn wait_for_condition(deadline: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < deadline,
            "condition still false after {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
