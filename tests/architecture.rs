//! The rules ARCHITECTURE.md states, checked over the source text, so a change that breaks
//! one fails here instead of eroding the layout quietly.
//!
//! 1. Folders import only folders below them: `sys` ← `chain` ← `env` ← `serve` ← `cli`
//!    (`error` is beside `sys`, importing nothing of awsrole). No cycles can form.
//! 2. Only `sys/settings.rs` reads the environment.
//! 3. Only `sys/output.rs` writes to stdout or stderr.
//!
//! Test modules (`#[cfg(test)] mod tests` to the end of a file) and the test helper
//! `sys/test_child.rs` are exempt from 2 and 3 (they check what the code reads and says),
//! not from 1.

use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["sys", "chain", "env", "serve", "cli"];

fn rank(module: &str) -> Option<usize> {
    match module {
        "error" => Some(0),
        _ => LAYERS.iter().position(|l| *l == module),
    }
}

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let found: Vec<(String, String)> = files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    assert!(
        found.len() > 50,
        "the walk found only {} files",
        found.len()
    );
    found
}

/// The top-level modules `text` names after `crate::`, including inside `crate::{…}`.
fn imported(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The group's top-level items: split on commas at depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(head(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.push(head(&item));
        } else {
            names.push(head(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn head(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The file without its test module (from `#[cfg(test)]\nmod tests` to the end).
fn non_test(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    }
}

#[test]
fn folders_import_only_the_folders_below_them() {
    let mut broken = Vec::new();
    for (file, text) in sources() {
        let folder = file.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(own) = rank(folder) else {
            continue; // lib.rs, main.rs: they join the folders
        };
        for name in imported(&text) {
            let theirs = rank(&name).unwrap_or_else(|| {
                panic!("src/{file} names crate::{name}, which is no folder of awsrole")
            });
            let allowed = if folder == "error" {
                false
            } else {
                theirs <= own
            };
            if !allowed && name != folder {
                broken.push(format!("src/{file} imports crate::{name}"));
            }
        }
    }
    broken.sort();
    broken.dedup();
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn only_settings_reads_the_environment() {
    let reads = ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("];
    let mut found = Vec::new();
    for (file, text) in sources() {
        if file == "sys/settings.rs" || file == "sys/test_child.rs" {
            continue;
        }
        for (n, line) in non_test(&text).lines().enumerate() {
            if reads.iter().any(|r| line.contains(r)) {
                found.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "read it through sys::settings:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_output_writes_to_the_terminal() {
    let writes = ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("];
    let handles = ["io::stdout()", "io::stderr()"];
    let mut found = Vec::new();
    for (file, text) in sources() {
        if file == "sys/output.rs" || file == "sys/test_child.rs" {
            continue;
        }
        for (n, line) in non_test(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let writes_text = writes.iter().any(|w| code.contains(w));
            // A handle asked only whether it is a terminal writes nothing.
            let handle =
                handles.iter().any(|h| code.contains(h)) && !code.contains(".is_terminal()");
            if writes_text || handle {
                found.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "write through sys::output:\n{}",
        found.join("\n")
    );
}

/// The checks themselves: each finds what it is for in a made-up file.
#[test]
fn the_checks_see_what_they_look_for() {
    let text = "use crate::{sys::dirs, cli::notice};\nfn f() { crate::env::hook::x(); }";
    assert_eq!(imported(text), ["sys", "cli", "env"]);
    assert_eq!(
        imported("use crate::{\n    chain::{a, b},\n    error::Result,\n};"),
        ["chain", "error"]
    );
    assert_eq!(non_test("a\n#[cfg(test)]\nmod tests {\nb"), "a\n");
}
