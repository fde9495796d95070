//! Day-one conveniences: the picker (in real bash, zsh and fish under a pseudo-terminal),
//! `--region`, who am I (`status`, against moto's identities), the guard for production
//! profiles, and the man page.
#![cfg(unix)]

mod common;

use std::process::Command;

use common::pty::Shell;
use common::*;

fn sandbox(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    s.append_config(&format!(
        "\n[profile dev]\nrole_arn = {}\nsource_profile = default\n[profile prod]\nrole_arn = {}\nsource_profile = default\nawsrole_confirm = true\n",
        s.world.role_arns[2], s.world.role_arns[3]
    ));
    s
}

fn picker(shell: &'static str) {
    let s = sandbox(&format!("pick{shell}"));
    let mut sh = Shell::start(shell, &s);
    sh.init();
    let before = sh.value("$(stty -g)");
    // Filter, choose.
    sh.line("awsrole use");
    sh.expect("Switch to");
    sh.keys("dev");
    sh.keys("\r");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "dev", "{shell}: picked");
    assert_eq!(
        sh.value("$(stty -g)"),
        before,
        "{shell}: terminal after choosing"
    );
    sh.line("awsrole unuse");
    // Leave with Esc: nothing changed, said without calling it an error, the terminal
    // as it was.
    sh.line("awsrole use");
    sh.expect("Switch to");
    sh.expect("PROFILE");
    sh.keys("\u{1b}");
    sh.expect("awsrole: cancelled; nothing was changed");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "", "{shell}: nothing switched");
    assert_eq!(
        sh.value("$(stty -g)"),
        before,
        "{shell}: terminal after Esc"
    );
    // Leave with Ctrl-C: the same.
    sh.line("awsrole use");
    sh.expect("Switch to");
    sh.keys("\u{3}");
    sh.expect("cancelled");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "", "{shell}: nothing switched");
    assert_eq!(
        sh.value("$(stty -g)"),
        before,
        "{shell}: terminal after Ctrl-C"
    );
    // `pick` prints the name for scripts.
    let file = s.home().join("picked");
    sh.line(&format!("awsrole pick > {}", file.display()));
    sh.expect("Pick a profile");
    sh.keys("role-c");
    sh.keys("\r");
    sh.value("done");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), "role-c");
    assert_eq!(
        sh.value("$(stty -g)"),
        before,
        "{shell}: terminal after pick"
    );
    sh.line("exit");
}

#[test]
fn bash_picker_filters_chooses_and_cancels() {
    picker("bash");
}

#[test]
fn zsh_picker_filters_chooses_and_cancels() {
    picker("zsh");
}

#[test]
fn fish_picker_filters_chooses_and_cancels() {
    picker("fish");
}

#[test]
fn use_without_a_profile_and_without_a_terminal_is_a_usage_error() {
    let s = sandbox("picknotty");
    let out = Command::new("setsid")
        .args(["--wait", BIN, "use", "--shell", "bash"])
        .env_clear()
        .envs(s.envs())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("needs a PROFILE"), "{}", stderr(&out));
}

#[test]
fn region_overrides_the_export_and_shows_in_the_prompt() {
    let s = sandbox("region");
    let out = s.run(&["export", "dev", "--region", "us-west-2", "--format", "env"]);
    let vars = parse_env(&stdout(&out));
    assert_eq!(
        get(&vars, "AWS_REGION"),
        Some("us-west-2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(get(&vars, "AWS_DEFAULT_REGION"), Some("us-west-2"));
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; awsrole use dev --region eu-central-1; echo \"$AWSROLE_PROMPT|$AWS_REGION\"; awsrole status",
    );
    let text = stdout(&out);
    assert!(
        text.contains("dev@eu-central-1 ") && text.contains("|eu-central-1"),
        "{text} {}",
        stderr(&out)
    );
    assert!(text.contains("region:  eu-central-1 (--region)"), "{text}");
}

#[test]
fn status_says_who_i_am_from_the_cache_and_verify_asks_sts() {
    let s = sandbox("whoami");
    let caller = support("caller.py").display().to_string();
    let calls = support("sts_calls.py").display().to_string();
    let url = &s.world.url;
    // moto's recording just before and just after `status`, in the same shell.
    let out = shell_run(
        &s,
        "bash",
        &format!(
            "eval \"$(awsrole init bash)\"; awsrole use dev; echo \"key: $AWS_ACCESS_KEY_ID\"; \
             python3 {calls} {url} > before.json; awsrole status; python3 {calls} {url} > after.json; \
             echo \"caller: $(python3 {caller} {url})\""
        ),
    );
    let text = stdout(&out);
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .trim()
            .to_string()
    };
    let (caller_arn, key) = (line("caller: "), line("key: "));
    // Calls of this world, or signed with the shell's role keys (a GetCallerIdentity).
    let ours = |file: &str| {
        let all: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(s.home().join(file)).unwrap()).unwrap();
        all.iter()
            .filter(|c| {
                let text = c.to_string();
                text.contains(&s.world.prefix)
                    || text.contains(&s.world.access_key_id)
                    || text.contains(&key)
            })
            .count()
    };
    assert!(
        ours("before.json") > 0,
        "the recording holds the use's calls"
    );
    assert!(
        text.contains(&format!("role:    {caller_arn}\n")),
        "status's ARN is the caller's: {text}"
    );
    let account = caller_arn.split(':').nth(4).unwrap();
    assert!(text.contains(&format!("account: {account}\n")), "{text}");
    assert!(
        text.contains("region:  ap-northeast-1\n") && text.contains("from:    awsrole use\n"),
        "{text}"
    );
    assert!(text.contains(" left)"), "{text}");
    assert_eq!(
        ours("after.json"),
        ours("before.json"),
        "status made no STS call"
    );
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; awsrole use dev; awsrole status --verify",
    );
    assert!(
        stdout(&out).contains("verify:  the keys work: arn:"),
        "{}",
        stdout(&out)
    );
    // list gains account and region columns; --names is unchanged.
    let list = stdout(&s.run(&["list"]));
    assert!(list.starts_with("PROFILE"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("dev ") && l.contains(account) && l.contains("ap-northeast-1")),
        "{list}"
    );
    assert!(!stdout(&s.run(&["list", "--names"])).contains("PROFILE"));
}

#[test]
fn a_guarded_profile_asks_first_and_refuses_without_a_terminal() {
    let s = sandbox("guard");
    // No terminal: refused, unless --yes.
    let out = Command::new("setsid")
        .args(["--wait", BIN, "exec", "prod", "--", "true"])
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    let out = s.run(&["exec", "prod", "--yes", "--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // At a terminal: the question; no switches nothing, yes switches and marks the prompt.
    let mut sh = Shell::start("bash", &s);
    sh.init();
    sh.line("awsrole use prod");
    sh.expect("Switch to prod (account ");
    sh.line("n");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "");
    sh.line("awsrole use prod");
    sh.expect("[y/N]");
    sh.line("y");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "prod");
    assert!(
        sh.var("AWSROLE_PROMPT").starts_with("prod! "),
        "the prompt marks it"
    );
    assert_eq!(sh.var("AWSROLE_PROMPT_WARN"), "1");
    sh.line("awsrole unuse");
    assert_eq!(sh.var("AWSROLE_PROMPT_WARN"), "");
    // `allow` asks once for a .awsrole naming it; the hook then never asks.
    let dir = s.home().join("prod-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "prod\n").unwrap();
    let out = Command::new("setsid")
        .args(["--wait", BIN, "allow"])
        .arg(&dir)
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(s
        .cmd(&["allow", "--yes"])
        .arg(&dir)
        .output()
        .unwrap()
        .status
        .success());
    sh.line(&format!("cd {}", dir.display()));
    assert_eq!(sh.var("AWSROLE_PROFILE"), "prod");
}

/// `exec P -- true` with no terminal to ask on (a session of its own).
fn exec_detached(s: &Sandbox, profile: &str) -> std::process::Output {
    Command::new("setsid")
        .args(["--wait", BIN, "exec", profile, "--", "true"])
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap()
}

#[test]
fn every_spelling_of_the_guard_guards_a_typo_refuses_and_listings_show_it() {
    let s = sandbox("guardwords");
    let on = ["true  # production", "yes", "1", "ON"];
    let off = ["false", "no ; staging", "0", "off"];
    let mut config = String::new();
    for (i, value) in on.iter().chain(&off).chain(&["maybe"]).enumerate() {
        config.push_str(&format!(
            "\n[profile g{i}]\nrole_arn = {}\nsource_profile = default\nawsrole_confirm = {value}\n",
            s.world.role_arns[2]
        ));
    }
    config.push_str(&format!(
        "\n[profile below]\nrole_arn = {}\nsource_profile = g1\n",
        s.world.role_arns[3]
    ));
    s.append_config(&config);
    for (i, value) in on.iter().enumerate() {
        let out = exec_detached(&s, &format!("g{i}"));
        assert_eq!(out.status.code(), Some(2), "{value:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("guarded by awsrole_confirm"),
            "{}",
            stderr(&out)
        );
    }
    for (i, value) in off.iter().enumerate() {
        let out = exec_detached(&s, &format!("g{}", on.len() + i));
        assert!(out.status.success(), "{value:?}: {}", stderr(&out));
    }
    let typo = format!("g{}", on.len() + off.len());
    let out = exec_detached(&s, &typo);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("profile '{typo}': awsrole_confirm = maybe"))
            && stderr(&out).contains(&format!("will not switch to '{typo}'")),
        "{}",
        stderr(&out)
    );
    // A role reached through a guarded profile is guarded too, and says by which.
    let out = exec_detached(&s, "below");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("reached through 'g1'"),
        "{}",
        stderr(&out)
    );
    // list and explain show the guard.
    let list = stdout(&s.run(&["list"]));
    let row = |name: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {list}"))
            .to_string()
    };
    assert!(row("g0").ends_with("  [confirm]"), "{list}");
    assert!(row("below").ends_with("  [confirm: through g1]"), "{list}");
    assert!(!row("g4").contains("[confirm"), "{list}");
    assert!(row(&typo).contains("error:"), "{list}");
    let explained = stdout(&s.run(&["explain", "below"]));
    assert!(
        explained.contains("guard:   awsrole_confirm on 'g1'"),
        "{explained}"
    );
}

#[test]
fn the_man_page_comes_from_the_same_definitions_as_help() {
    let s = sandbox("man");
    let man = stdout(&s.run(&["man"]));
    assert!(
        man.contains(".TH awsrole"),
        "{}",
        &man[..man.len().min(300)]
    );
    let help = stdout(&s.run(&["--help"]));
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() > 15, "{help}");
    for command in commands {
        assert!(
            man.contains(&format!(".TH awsrole-{command}")),
            "{command} has no man section"
        );
    }
    // Every long flag of export appears in its section.
    let export_help = stdout(&s.run(&["export", "--help"]));
    for flag in export_help
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
    {
        let flag = flag.trim_end_matches(|c: char| !c.is_alphanumeric());
        assert!(
            man.contains(&flag.replace('-', "\\-")),
            "{flag} missing from the man page"
        );
    }
}

#[test]
fn unuse_drops_what_an_evaluated_export_set() {
    let s = sandbox("unuseexport");
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; eval \"$(awsrole export dev)\"; \
         echo \"before [$AWSROLE_PROFILE]\"; awsrole unuse; \
         echo \"after [$AWSROLE_PROFILE][$AWS_ACCESS_KEY_ID][$AWS_SESSION_TOKEN][$(awsrole prompt)]\"",
    );
    let text = stdout(&out);
    assert!(text.contains("before [dev]"), "{text}{}", stderr(&out));
    assert!(text.contains("after [][][][]"), "{text}{}", stderr(&out));
    assert!(
        stderr(&out).contains("dev came from 'awsrole export', not 'use'"),
        "{}",
        stderr(&out)
    );
}
