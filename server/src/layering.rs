//! The dependency rules of `docs/architecture.md`, checked on the source: a module may use the modules below it,
//! never those above. Every `crate::…` and `super::…` path in a module's files (comments aside) is resolved to
//! the top-level module it names, and compared with the module's allowed dependencies.

#![cfg(test)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// For each module: the top-level modules it must not use.
const FORBIDDEN: &[(&str, &[&str])] = &[
    // The upstream clients are pure adapters: configuration and credentials in, typed results out.
    (
        "workday",
        &[
            "store", "vault", "cli", "app", "http", "startup", "zendesk", "mapper",
        ],
    ),
    (
        "zendesk",
        &[
            "store", "vault", "cli", "app", "http", "startup", "workday", "mapper",
        ],
    ),
    // What both clients share knows neither of them, nor where tokens are kept.
    (
        "upstream",
        &[
            "store", "vault", "cli", "app", "http", "startup", "workday", "zendesk", "mapper",
        ],
    ),
    (
        "xsd",
        &[
            "store", "vault", "cli", "app", "http", "startup", "workday", "zendesk", "mapper",
        ],
    ),
    // Domain rules over the Workday model (an invoice's position): no I/O, no Zendesk.
    (
        "payables",
        &[
            "store", "vault", "cli", "app", "http", "startup", "zendesk", "upstream", "mapper",
        ],
    ),
    // Storage knows rows, not the application or the upstreams.
    (
        "store",
        &[
            "cli", "app", "http", "startup", "workday", "zendesk", "upstream",
        ],
    ),
    (
        "vault",
        &[
            "cli", "app", "http", "startup", "workday", "zendesk", "upstream", "mapper",
        ],
    ),
    // The mapper turns Workday records into Zendesk field writes (it knows both models); it never calls an
    // upstream, nor serves requests.
    ("mapper", &["cli", "app", "http", "startup", "upstream"]),
    // The application layer assembles; the HTTP layer and the CLI call it, not the reverse.
    ("app", &["cli", "http", "startup", "sync"]),
    // Fresh reads for a ticket or an agent, on the application layer's clients; the sync engine (enrichment)
    // and the HTTP layer use it.
    ("lookup", &["cli", "http", "startup", "sync"]),
    // The sync engine runs on the application layer; HTTP and the CLI start it.
    ("sync", &["cli", "http", "startup"]),
    ("http", &["cli", "startup"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files of top-level module `module` (a file `module.rs` or a folder `module/`).
fn files_of(module: &str) -> Vec<PathBuf> {
    let single = src().join(format!("{module}.rs"));
    if single.exists() {
        return vec![single];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The module path of a file below `src/`: `workday/decode/cursor.rs` → `[workday, decode, cursor]`,
/// `workday/mod.rs` → `[workday]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The names a path or a group starts with: `store::Store` → `[store]`, `{store::X, tenant}` → `[store, tenant]`.
fn heads(rest: &str) -> Vec<String> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut heads = Vec::new();
        let mut item_start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if item_start && !c.is_whitespace() => {
                    heads.push(identifier(&group[i..]).to_string());
                    item_start = false;
                }
                _ => {}
            }
        }
        heads
    } else {
        vec![identifier(rest).to_string()]
    }
}

/// The top-level modules a file's code names through `crate::` or `super::` paths.
fn uses(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    uses_in(&text, &module_path(file))
}

/// The top-level modules `text`, the code of module `here`, names through `crate::` or `super::` paths.
fn uses_in(text: &str, here: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        loop {
            let (is_crate, at) = match (rest.find("crate::"), rest.find("super::")) {
                (Some(c), Some(s)) => (c < s, c.min(s)),
                (Some(c), None) => (true, c),
                (None, Some(s)) => (false, s),
                (None, None) => break,
            };
            let mut tail = &rest[at..];
            let mut base: Vec<String> = if is_crate {
                tail = &tail["crate::".len()..];
                Vec::new()
            } else {
                let mut path = here.to_vec();
                while let Some(after) = tail.strip_prefix("super::") {
                    path.pop();
                    tail = after;
                }
                path
            };
            for head in heads(tail) {
                base.push(head);
                if let Some(top) = base.first().filter(|t| !t.is_empty() && *t != "self") {
                    found.insert(top.clone());
                }
                base.pop();
            }
            rest = &rest[at + 7..];
        }
    }
    found
}

#[test]
fn modules_use_only_what_is_below_them() {
    let mut violations = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        for file in files_of(module) {
            for used in uses(&file) {
                if forbidden.contains(&used.as_str()) {
                    violations.push(format!(
                        "{} uses `{used}`",
                        file.strip_prefix(src()).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations (see docs/architecture.md, \"Who may call whom\"):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_the_paths_it_must() {
    let here = |p: &[&str]| p.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(heads("store::Store;"), ["store"]);
    let found = uses_in(
        "use crate::{store::Store, tenant::X};\n// crate::vault, in a comment\nlet v = crate::vault::Vault::new(k);",
        &here(&["workday", "client"]),
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["store", "tenant", "vault"]
    );
    let found = uses_in(
        "use super::super::super::store::Store;\nuse super::cursor::Cursor;",
        &here(&["workday", "decode", "page"]),
    );
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["store", "workday"]);
    assert_eq!(
        heads("{store::{Store, X}, tenant::T};"),
        ["store", "tenant"]
    );
    // A file of this crate that is known to use the store through both forms.
    let app = uses(&src().join("app/context.rs"));
    assert!(app.contains("store") && app.contains("workday"), "{app:?}");
    // `super::` resolves against the file's place: in `workday/client.rs`, `super::oauth` is `workday`.
    let client = uses(&src().join("workday/client.rs"));
    assert!(
        client.contains("workday") && !client.contains("oauth"),
        "{client:?}"
    );
}
