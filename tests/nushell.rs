//! The nushell integration in a real interactive `nu` under a pseudo-terminal: init
//! saved and sourced from config, the hook on directory change and prompt, `.awsrole`
//! trust, `use`/`unuse`, restore, the prompt variable, completions, and values that
//! round-trip through what awsrole prints for nu.
// A pseudo-terminal and nushell's Linux release: Unix only.
#![cfg(unix)]

mod common;

use std::process::Command;

use common::nu::{nu_binary, NuShell};
use common::*;
use proptest::prelude::*;

fn sandbox(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    std::fs::create_dir_all(s.home().join("proj/sub")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "dev\n").unwrap();
    s
}

/// What a user does: save the init once, source it from config (here: typed).
fn start(s: &Sandbox) -> NuShell {
    let init = s.home().join("awsrole-init.nu");
    let out = s.run(&["init", "nu"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&init, &out.stdout).unwrap();
    let mut nu = NuShell::start(s);
    nu.line(&format!("source {}", init.display()));
    // Sourced twice: the hook is installed once.
    nu.line(&format!("source {}", init.display()));
    nu
}

#[test]
fn nushell_switches_restores_and_asks_mfa_only_from_use() {
    let s = sandbox("nu");
    let mut nu = start(&s);
    assert_eq!(nu.value("($env.config.hooks.pre_prompt | length)"), "1");
    assert_eq!(nu.value("($env.config.hooks.env_change.PWD | length)"), "1");
    nu.line("$env.AWS_ACCESS_KEY_ID = 'handset'; $env.AWS_PROFILE = 'mine'; $env.AWS_SECRET_ACCESS_KEY = 'EARLIERsecretNU'");

    // Untrusted: a notice, nothing switched.
    nu.line("cd proj");
    nu.expect("wants dev; run 'awsrole allow' to trust it");
    assert_eq!(nu.var("AWS_ACCESS_KEY_ID"), "handset");

    // Allowed: applied at the next prompt, kept below.
    nu.line("awsrole allow");
    nu.expect("allowed");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "dev");
    let key = nu.var("AWS_ACCESS_KEY_ID");
    assert!(key.starts_with("ASIA"), "AWS_ACCESS_KEY_ID is {key:?}");
    assert_eq!(
        nu.var("AWS_PROFILE"),
        "",
        "never set while a role is active"
    );
    assert!(nu.var("AWSROLE_PROMPT").starts_with("dev "));
    // No child sees the earlier secret, in any spelling the diff could use.
    let env = nu.value("(^env | str join)");
    assert!(
        !env.contains("EARLIERsecretNU") && !env.contains("__awsrole_diff"),
        "{env}"
    );
    let hex: String = "EARLIERsecretNU"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!env.contains(&hex), "{env}");
    nu.line("cd sub");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "dev");

    // Leaving restores exactly what was there; the prompt line is empty at once.
    nu.line("cd ~");
    assert_eq!(nu.var("AWS_ACCESS_KEY_ID"), "handset");
    assert_eq!(nu.var("AWS_PROFILE"), "mine");
    assert_eq!(nu.var("AWS_SECRET_ACCESS_KEY"), "EARLIERsecretNU");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "");
    assert_eq!(nu.var("AWSROLE_PROMPT"), "");

    // Coming back takes dev from the cache, with keys STS accepts (its front checks
    // them against what it issued).
    let caller = support("caller.py").display().to_string();
    nu.line("cd proj");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "dev");
    nu.line(&format!("^python3 {caller} {}", s.world.url));
    nu.expect(&format!("assumed-role/{}RoleC/", s.world.prefix));
    nu.line("cd ~");
    assert_eq!(nu.var("AWS_ACCESS_KEY_ID"), "handset");

    // `use` asks on the terminal and pins the profile until `unuse`.
    nu.line("awsrole use role-b");
    nu.expect("Enter MFA code for");
    nu.answer("123456");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "role-b");
    nu.line(&format!("^python3 {caller} {}", s.world.url));
    nu.expect(&format!("assumed-role/{}RoleB/", s.world.prefix));
    nu.line("awsrole unuse");
    assert_eq!(nu.var("AWSROLE_PROFILE"), "");
    assert_eq!(nu.var("AWS_ACCESS_KEY_ID"), "handset");
    assert_eq!(nu.var("AWS_PROFILE"), "mine");
}

#[test]
fn nushell_completes_profile_names() {
    let s = sandbox("nucompl");
    let mut nu = start(&s);
    let names = nu.value("(nu-complete awsrole profiles | str join ',')");
    assert!(names.contains("role-a") && names.contains("dev"), "{names}");
    // The externs parse a typical command line (a bad signature would not).
    assert_eq!(
        nu.value("(scope commands | where name == 'awsrole use' | length)"),
        "1"
    );
    assert_eq!(
        nu.value("(scope commands | where name == 'awsrole export' | length)"),
        "1"
    );
}

#[test]
fn use_without_the_nu_integration_gives_the_nu_lines() {
    let s = sandbox("nuhint");
    let out = Command::new(nu_binary())
        .args(["--no-config-file", "-c", &format!("^{BIN} use dev")])
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("awsrole init nu | save -f"), "{err}");
    assert!(err.contains("--format nu | from json"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever a value holds, nushell loads exactly it from what awsrole prints.
    #[test]
    fn values_round_trip_through_nushell(values in proptest::collection::vec("[ -~\u{a0}-\u{2fff}\n\t'\"$`\\\\{}();]{0,40}", 1..6)) {
        use awsrole::env::render::{render_env, EnvChange, Format};
        let change = EnvChange {
            set: values.iter().enumerate().map(|(i, v)| (format!("V{i}"), v.clone())).collect(),
            unset: vec!["GONE".into()],
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.json");
        std::fs::write(&file, render_env(Format::Nu, &change)).unwrap();
        let script = format!(
            "$env.GONE = 'x'; let c = (open --raw {} | from json); hide-env --ignore-errors ...($c.unset); load-env $c.set; \
             print ({{gone: ($env.GONE? == null), values: [{}]}} | to json --raw)",
            file.display(),
            (0..values.len()).map(|i| format!("$env.V{i}")).collect::<Vec<_>>().join(", ")
        );
        let out = Command::new(nu_binary()).args(["--no-config-file", "-c", &script]).output().unwrap();
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        prop_assert_eq!(&got["gone"], &serde_json::json!(true));
        prop_assert_eq!(&got["values"], &serde_json::json!(values));
    }
}
