//! `awsrole sso sync` against tests/support/sso_fake.py, whose ListAccounts and
//! ListAccountRoles speak the portal's wire format (checked by botocore's `sso` client in
//! sso_fake_check.py) and whose role credentials are real in moto; the results are read
//! back by the AWS CLI and botocore, and by awsrole's own list, status and picker.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const BEGIN: &str = "# >>> awsrole sso sync: sso-session corp >>>";
const END: &str = "# <<< awsrole sso sync: sso-session corp <<<";

/// A sandbox signed in (as `aws sso login` leaves it: the AWS CLI's token file) to the
/// sso-session `corp` of a fake portal showing `accounts`.
struct Org {
    s: Sandbox,
    fake: LocalServer,
}

fn accounts() -> Value {
    json!([
        {"id": "111111111111", "name": "Prod (EU)", "roles": ["ReadOnly"]},
        {"id": "222222222222", "name": "dev", "roles": ["Admin", "PowerUser"]},
        {"id": "333333333333", "name": "shared", "roles": ["Admin"]},
        {"id": "444444444444", "name": "shared", "roles": ["Admin"]},
    ])
}

fn session(start_url: &str) -> String {
    format!("[sso-session corp]\nsso_start_url = {start_url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n")
}

impl Org {
    fn new(name: &str, accounts: Value) -> Org {
        let s = Sandbox::with_world(World::build(name, 1));
        let fake = sso_fake();
        let org = Org { s, fake };
        org.control(json!({ "accounts": accounts }));
        let doc = org.post(
            "/issue",
            &json!({"start_url": org.start_url(), "region": "eu-west-1", "expires_in": 7200}),
        );
        let cache = org.s.home().join(".aws/sso/cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            cache.join(format!("{}.json", sha1_hex("corp"))),
            serde_json::to_vec(&doc).unwrap(),
        )
        .unwrap();
        org.s.write_config(&session(&org.start_url()));
        org
    }

    fn start_url(&self) -> String {
        format!("https://{}.awsapps.com/start", self.s.world.prefix)
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let out = Command::new("curl")
            .args(["-sf", "-X", "POST", "-d", &body.to_string()])
            .arg(format!("{}{path}", self.fake.url))
            .output()
            .unwrap();
        assert!(out.status.success(), "POST {path}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn get(&self, path: &str) -> Value {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}{path}", self.fake.url)])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn control(&self, body: Value) {
        self.post("/control", &body);
    }

    fn count(&self, op: &str) -> usize {
        self.get("/requests")
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["op"] == op)
            .count()
    }

    fn env(&self, c: &mut Command) {
        c.env("AWS_ENDPOINT_URL_SSO", &self.fake.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.fake.url);
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.s.cmd(args);
        self.env(&mut c);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn sync(&self, extra: &[&str]) -> Output {
        let mut args = vec!["sso", "sync"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(out.status.success(), "sso sync {extra:?}: {}", stderr(&out));
        out
    }

    fn config_path(&self) -> PathBuf {
        self.s.home().join(".aws/config")
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap()
    }

    /// Inode and modification time: a file written again (even with the same bytes)
    /// is a new inode after an atomic rename.
    fn identity(&self) -> (u64, i64, i64) {
        let m = std::fs::metadata(self.config_path()).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    }

    /// The text of the block, markers included.
    fn block(&self) -> String {
        let text = self.config();
        let start = text.find(BEGIN).expect("a block");
        let end = text.find(END).expect("its end") + END.len() + 1;
        text[start..end].to_string()
    }

    /// An outside client with the sandbox's environment.
    fn outside(&self, program: &str, args: &[&str]) -> Output {
        let mut c = Command::new(program);
        c.args(args).env_clear().envs(self.s.envs());
        self.env(&mut c);
        c.env("AWS_DEFAULT_REGION", "us-east-1");
        c.output().unwrap()
    }
}

fn sha1_hex(text: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys;print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
            text,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn profile(name: &str, account: &str, role: &str, account_name: &str, region: &str) -> String {
    format!(
        "[profile {name}]\nsso_session = corp\nsso_account_id = {account}\nsso_role_name = {role}\nregion = {region}\nawsrole_account_name = {account_name}\n"
    )
}

#[test]
fn sync_writes_a_marked_block_and_keeps_every_other_byte() {
    let o = Org::new("syncblock", accounts());
    // What a person wrote: comments of both kinds, odd spacing, CRLF line ends, a
    // profile whose name the template would give dev's Admin role, no final newline.
    let mine = format!(
        "; my config\r\n{}\n#  keep   this\n[profile dev/Admin]\nregion=us-west-2   \n  \n[default]\r\nregion = ap-northeast-1",
        session(&o.start_url())
    );
    o.s.write_config(&mine);
    std::fs::set_permissions(o.config_path(), std::fs::Permissions::from_mode(0o640)).unwrap();

    let out = o.sync(&[]);
    let err = stderr(&out);
    let text = o.config();
    assert!(text.starts_with(&mine), "the text before stays a prefix");
    assert_eq!(
        &text[mine.len()..mine.len() + 2],
        "\n\n",
        "a blank line, then the block"
    );
    assert!(
        text.ends_with(&format!("{END}\n")),
        "nothing after the block"
    );
    let block = o.block();
    assert_eq!(
        block,
        format!(
            "{BEGIN}\n# Written by 'awsrole sso sync'; each sync replaces everything down to the closing line.\n# name-template: {{account_name}}/{{role_name}}\n\n{}\n{}\n{}\n{}\n{END}\n",
            profile("Prod-EU/ReadOnly", "111111111111", "ReadOnly", "Prod (EU)", "eu-west-1"),
            profile("dev/PowerUser", "222222222222", "PowerUser", "dev", "eu-west-1"),
            profile("shared/Admin", "333333333333", "Admin", "shared", "eu-west-1"),
            profile("shared/Admin-444444444444", "444444444444", "Admin", "shared", "eu-west-1"),
        )
    );
    // The hand-written dev/Admin was left alone and said so; the clash was made unique.
    assert!(
        err.contains(
            "skipped account 222222222222 (dev) role Admin: a profile 'dev/Admin' written by hand"
        ),
        "{err}"
    );
    assert!(
        err.contains("account 444444444444 (shared) role Admin is 'shared/Admin-444444444444': 'shared/Admin' is another"),
        "{err}"
    );
    assert!(
        err.contains("4 account(s), 4 profile(s)") && err.contains("4 added"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    // Atomic, with the file's mode, and no temporary file left.
    let mode = std::fs::metadata(o.config_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640);
    let leftovers: Vec<_> = std::fs::read_dir(o.s.home().join(".aws"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Nothing changed at the portal: nothing is written (same inode, same mtime).
    let before = o.identity();
    std::thread::sleep(Duration::from_millis(20));
    let out = o.sync(&[]);
    assert!(
        stderr(&out).contains("nothing to write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.identity(), before, "the file was not written again");
    assert_eq!(o.config(), text);

    // The person edits around the block; the portal drops an account and adds a role.
    let (head, tail) = text.split_at(text.find(BEGIN).unwrap());
    let block_len = o.block().len();
    let head = head.replace("#  keep   this", "#  keep   this, edited");
    let tail = format!(
        "{}\n# after the block\n[profile later]\nregion = x\n",
        &tail[block_len..]
    );
    std::fs::write(o.config_path(), format!("{head}{}{tail}", o.block())).unwrap();
    o.control(json!({"accounts": [
        {"id": "111111111111", "name": "Prod (EU)", "roles": ["ReadOnly", "Admin"]},
        {"id": "222222222222", "name": "dev", "roles": ["Admin", "PowerUser"]},
        {"id": "333333333333", "name": "shared", "roles": ["Admin"]},
    ]}));
    let out = o.sync(&[]);
    assert!(
        stderr(&out).contains("1 added, 0 changed, 1 removed"),
        "{}",
        stderr(&out)
    );
    let text = o.config();
    assert!(text.starts_with(&head) && text.ends_with(&tail), "{text}");
    let block = o.block();
    assert!(block.contains(&profile(
        "Prod-EU/Admin",
        "111111111111",
        "Admin",
        "Prod (EU)",
        "eu-west-1"
    )));
    assert!(
        !block.contains("444444444444"),
        "the account that is gone is dropped"
    );

    // --keep-removed keeps what the portal stopped listing, as it was.
    o.control(json!({"accounts": [
        {"id": "111111111111", "name": "Prod (EU)", "roles": ["ReadOnly", "Admin"]},
        {"id": "222222222222", "name": "dev", "roles": ["Admin", "PowerUser"]},
    ]}));
    let out = o.sync(&["--keep-removed"]);
    assert!(
        stderr(&out).contains("kept 1 profile(s)") && stderr(&out).contains("shared/Admin"),
        "{}",
        stderr(&out)
    );
    assert!(o.block().contains(&profile(
        "shared/Admin",
        "333333333333",
        "Admin",
        "shared",
        "eu-west-1"
    )));
    let out = o.sync(&[]);
    assert!(stderr(&out).contains("1 removed"), "{}", stderr(&out));
    assert!(!o.block().contains("333333333333"));
}

#[test]
fn dry_run_prints_the_diff_and_changes_nothing() {
    let o = Org::new("syncdry", accounts());
    o.sync(&[]);
    let (before, identity) = (o.config(), o.identity());
    o.control(json!({"accounts": [
        {"id": "111111111111", "name": "Prod (EU)", "roles": ["ReadOnly"]},
        {"id": "222222222222", "name": "dev", "roles": ["Admin", "PowerUser"]},
        {"id": "333333333333", "name": "shared", "roles": ["Admin", "Billing"]},
    ]}));
    let out = o.sync(&["--dry-run", "--region", "us-east-2"]);
    let diff = stdout(&out);
    assert!(
        diff.starts_with(&format!(
            "--- {0}\n+++ {0} (after awsrole sso sync)\n",
            o.config_path().display()
        )),
        "{diff}"
    );
    assert!(
        diff.contains(
            "@@ profile shared/Billing @@\n+[profile shared/Billing]\n+sso_session = corp\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains(
            "@@ profile shared/Admin-444444444444 @@\n-[profile shared/Admin-444444444444]\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("-region = eu-west-1\n") && diff.contains("+region = us-east-2\n"),
        "{diff}"
    );
    assert!(
        stderr(&out).contains("--dry-run: nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.config(), before);
    assert_eq!(o.identity(), identity);

    // A template and a region given once stay for the syncs after.
    o.sync(&[
        "--name-template",
        "{account_id}-{role_name}",
        "--region",
        "us-east-2",
    ]);
    let block = o.block();
    assert!(
        block.contains("# name-template: {account_id}-{role_name}\n# region: us-east-2\n"),
        "{block}"
    );
    assert!(block.contains(&profile(
        "222222222222-Admin",
        "222222222222",
        "Admin",
        "dev",
        "us-east-2"
    )));
    let identity = o.identity();
    let out = o.sync(&[]);
    assert!(
        stderr(&out).contains("nothing to write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.identity(), identity);
}

#[test]
fn a_broken_config_or_template_is_refused_before_the_portal_is_asked() {
    let o = Org::new("syncbroken", accounts());
    let refused = |config: &str, args: &[&str], code: i32, says: &str| {
        o.s.write_config(config);
        let mut all = vec!["sso", "sync"];
        all.extend_from_slice(args);
        let out = o.run(&all);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{says}: {}", stderr(&out));
        assert_eq!(o.config(), config, "nothing written");
    };
    let good = session(&o.start_url());
    let path = o.config_path().display().to_string();
    refused(
        &format!("{good}this is junk\n"),
        &[],
        1,
        &format!("{path}:5: 'this is junk'"),
    );
    refused(
        &format!("{good}{BEGIN}\n[profile a]\n"),
        &[],
        1,
        &format!("{path}:5: the 'awsrole sso sync' block of sso-session corp has no closing line"),
    );
    refused(
        &good,
        &["--name-template", "{account}/{role_name}"],
        2,
        "there is no placeholder {account}",
    );
    refused(
        &good,
        &["--sso-session", "nope"],
        2,
        "there is no [sso-session nope]",
    );
    refused(
        &format!("{good}[sso-session other]\nsso_start_url = x\nsso_region = y\n"),
        &[],
        2,
        "several [sso-session] sections (corp, other)",
    );
    assert_eq!(o.count("ListAccounts"), 0, "the portal was never asked");

    // A token the portal no longer takes: which sign-in to run, and nothing written.
    o.control(json!({"revoke_all": true}));
    refused(&good, &[], 1, "no longer accepts the sign-in of sso-session 'corp' (expired or revoked); run 'awsrole sso login --sso-session corp'");

    // No token at all, and no terminal to sign in at: the command that signs in.
    std::fs::remove_file(
        o.s.home()
            .join(format!(".aws/sso/cache/{}.json", sha1_hex("corp"))),
    )
    .unwrap();
    refused(&good, &[], 1, "not signed in to IAM Identity Center (sso-session 'corp'); run 'awsrole sso login --sso-session corp'");
}

#[test]
fn many_accounts_are_listed_page_by_page_a_few_at_a_time_backing_off_when_throttled() {
    let o = Org::new("syncpages", json!([]));
    // 40 accounts of 3 roles, pages of at most 7, each call 50 ms, the first 5 answers
    // TooManyRequests.
    o.control(json!({"org": {"accounts": 40, "roles": 3}, "page_max": 7, "throttle": 5, "list_delay": 0.05}));
    let out = o.sync(&["--name-template", "{account_id}/{role_name}"]);
    let err = stderr(&out);
    assert!(err.contains("40 account(s), 120 profile(s)"), "{err}");
    assert!(err.contains("asked to slow down 5 time(s)"), "{err}");
    let block = o.block();
    assert_eq!(block.matches("[profile ").count(), 120);
    assert!(block.contains(&profile(
        "100000000039/Billing",
        "100000000039",
        "Billing",
        "Team 39 (env-39)",
        "eu-west-1"
    )));
    // ListAccounts: 6 pages (40 / 7) and the throttled tries; ListAccountRoles: one page
    // per account (3 roles < 7) and the rest of the throttled tries.
    let (accounts, roles) = (o.count("ListAccounts"), o.count("ListAccountRoles"));
    assert_eq!(accounts + roles, 6 + 40 + 5, "{accounts} + {roles}");
    assert!(accounts >= 6 && roles >= 40);
    let in_flight = o.get("/stats")["max_in_flight"].as_u64().unwrap();
    assert!(
        (2..=8).contains(&in_flight),
        "at most 8 at once, and more than one: {in_flight}"
    );

    // A portal that never stops throttling: given up on with what to do, nothing written.
    let before = o.config();
    o.control(json!({"throttle": 100000, "list_delay": 0}));
    let out = o.run(&["sso", "sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("kept answering TooManyRequests to ListAccounts")
            && stderr(&out).contains("wait a minute"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.config(), before);
}

#[test]
fn the_aws_cli_and_botocore_read_the_generated_profiles_and_a_chain_on_top_works() {
    let o = Org::new("syncoutside", accounts());
    o.sync(&[]);
    // A chain written by hand on a generated profile, after the block.
    let role = &o.s.world.role_arns[0];
    o.s.append_config(&format!(
        "\n[profile deploy]\nrole_arn = {role}\nsource_profile = dev/PowerUser\n"
    ));

    // What `aws configure list-profiles` prints (AWS CLI v2) is botocore's
    // available_profiles; the CI's AWS CLI is v1, which reads each profile with
    // `aws configure list --profile`: it resolves the keys through the portal (type sso).
    let py = o.outside(
        "python3",
        &[
            "-c",
            "import boto3;print('\\n'.join(boto3.Session().available_profiles))",
        ],
    );
    assert!(py.status.success(), "{}", stderr(&py));
    let listed: Vec<String> = stdout(&py).lines().map(str::to_string).collect();
    for name in [
        "Prod-EU/ReadOnly",
        "dev/PowerUser",
        "shared/Admin",
        "shared/Admin-444444444444",
        "dev/Admin",
        "deploy",
    ] {
        assert!(listed.iter().any(|l| l == name), "{name} in {listed:?}");
    }
    assert!(!listed
        .iter()
        .any(|l| l.contains("dev/Admin") && l != "dev/Admin"));
    let out = o.outside(
        "aws",
        &[
            "configure",
            "list",
            "--profile",
            "shared/Admin-444444444444",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("shared/Admin-444444444444")
            && shown
                .lines()
                .any(|l| l.contains("access_key") && l.trim_end().ends_with("sso")),
        "{shown}"
    );

    // botocore, from the AWS CLI's token, through GetRoleCredentials; awsrole the same.
    let script = "import boto3,sys;print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])";
    for name in ["dev/PowerUser", "deploy"] {
        let py = o.outside("python3", &["-c", script, name]);
        assert!(py.status.success(), "botocore {name}: {}", stderr(&py));
        let theirs = stdout(&py).trim().to_string();
        let out = o.run(&["export", name, "--format", "env"]);
        assert!(out.status.success(), "awsrole {name}: {}", stderr(&out));
        let ours = caller_arn_with_env(&o.s, &parse_env(&stdout(&out)));
        let who = |arn: &str| {
            arn.rsplit_once('/')
                .map(|(role, _)| role.to_string())
                .unwrap()
        };
        assert_eq!(who(&ours), who(&theirs), "{name}: {ours} vs {theirs}");
        if name == "deploy" {
            assert!(ours.contains(role.rsplit('/').next().unwrap()), "{ours}");
        } else {
            assert!(
                ours.starts_with(
                    "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_PowerUser_"
                ),
                "{ours}"
            );
        }
    }
    assert!(o.count("GetRoleCredentials") >= 2);
    // The chain survives the next sync byte for byte.
    let text = o.config();
    let out = o.sync(&[]);
    assert!(
        stderr(&out).contains("nothing to write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.config(), text);
}

#[test]
fn list_status_explain_and_the_picker_show_and_find_account_names() {
    let o = Org::new("syncnames", accounts());
    o.sync(&["--name-template", "{account_id}-{role_name}"]);
    let list = stdout(&o.run(&["list"]));
    assert!(
        list.contains("111111111111-ReadOnly")
            && list.contains("[sso: corp 111111111111 (Prod (EU))/ReadOnly]"),
        "{list}"
    );
    let mut status = o.cmd(&["status"]);
    status.env("AWSROLE_PROFILE", "222222222222-Admin");
    let status = stdout(&status.output().unwrap());
    assert!(
        status.contains("[sso: corp 222222222222 (dev)/Admin]")
            && status.contains("account: 222222222222 (dev)\n"),
        "{status}"
    );
    let explain = stdout(&o.run(&["explain", "111111111111-ReadOnly"]));
    assert!(
        explain.contains("in account 111111111111 'Prod (EU)'"),
        "{explain}"
    );

    // The picker filters on the account's name, which is in no profile name here.
    let chosen = o.s.home().join("chosen");
    let mut c = Command::new("sh");
    c.args(["-c", &format!("{BIN} pick > {}", chosen.display())])
        .env_clear()
        .envs(o.s.envs())
        .current_dir(o.s.home());
    o.env(&mut c);
    use expectrl::Expect;
    let mut term = expectrl::Session::spawn(c).unwrap();
    term.set_expect_timeout(Some(Duration::from_secs(20)));
    term.expect("Pick a profile").unwrap();
    term.send("Prod (EU").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    term.send("\r").unwrap();
    wait_for(Duration::from_secs(20), "the picker's answer", || {
        std::fs::read_to_string(&chosen).is_ok_and(|t| !t.is_empty())
    });
    assert_eq!(
        std::fs::read_to_string(&chosen).unwrap(),
        "111111111111-ReadOnly\n"
    );
}

#[test]
fn a_linked_config_stays_a_link_and_an_edit_made_during_the_listing_wins() {
    let o = Org::new("synclink", accounts());
    // A dotfiles manager's link: the file it points at is written, the link stays.
    let target = o.s.home().join("dotfiles/aws-config");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::rename(o.config_path(), &target).unwrap();
    std::os::unix::fs::symlink(&target, o.config_path()).unwrap();
    o.sync(&[]);
    let link = std::fs::symlink_metadata(o.config_path()).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read_to_string(&target).unwrap().contains(BEGIN));

    // The person saves the file while the portal is listed (each call takes a second):
    // their edit stays, and the sync says to run again.
    o.control(json!({"list_delay": 1.0, "accounts": [
        {"id": "111111111111", "name": "Prod (EU)", "roles": ["ReadOnly", "Admin"]},
    ]}));
    let asked = o.count("ListAccounts");
    let child = o
        .cmd(&["sso", "sync"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The config is read before the first call; save once the portal has that call.
    wait_for(Duration::from_secs(30), "the first ListAccounts", || {
        o.count("ListAccounts") > asked
    });
    o.s.append_config("\n# saved meanwhile\n");
    let edited = o.config();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("changed while 'awsrole sso sync' was listing the portal; nothing was written: run it again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(o.config(), edited);
    assert!(std::fs::symlink_metadata(o.config_path())
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_hostile_portal_cannot_write_keys_or_sections_of_its_own() {
    let o = Org::new(
        "synchostile",
        json!([
            {"id": "111111111111", "name": "ok\n[profile evil]\ncredential_process = touch pwned",
             "roles": ["Admin", "Admin\n[profile evil2]\ncredential_process = touch pwned"]},
            {"id": "22222222222\n2", "name": "bad id", "roles": ["Admin"]},
        ]),
    );
    let out = o.sync(&[]);
    let err = stderr(&out);
    assert!(
        err.contains("skipped role") && err.contains("skipped an account"),
        "{err}"
    );
    let block = o.block();
    // The name's line breaks became spaces: one value, on one line.
    assert!(
        block.contains(
            "\nawsrole_account_name = ok [profile evil] credential_process = touch pwned\n"
        ),
        "{block}"
    );
    let headers: Vec<&str> = block.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        headers,
        ["[profile ok-profile-evil-credential_process-touch-pwned/Admin]"],
        "{block}"
    );
    // botocore agrees: one generated profile (and the credentials file's default), and
    // no credential_process anywhere.
    let script = "import boto3,botocore.session as s;c=s.get_session().full_config['profiles'];print(sorted(c));print([k for p in c.values() for k in p if k=='credential_process'])";
    let py = o.outside("python3", &["-c", script]);
    assert!(py.status.success(), "{}", stderr(&py));
    assert_eq!(
        stdout(&py),
        "['default', 'ok-profile-evil-credential_process-touch-pwned/Admin']\n[]\n"
    );
}

#[test]
fn each_sign_in_session_has_its_own_block_and_leaves_the_others_alone() {
    let o = Org::new("synctwo", accounts());
    o.sync(&[]);
    // A second organisation (same fake portal, its own sign-in and token).
    let other_url = format!("{}-other", o.start_url());
    o.s.append_config(&format!(
        "\n[sso-session other]\nsso_start_url = {other_url}\nsso_region = us-east-1\n"
    ));
    let doc = o.post(
        "/issue",
        &json!({"start_url": other_url, "region": "us-east-1", "expires_in": 7200}),
    );
    std::fs::write(
        o.s.home()
            .join(".aws/sso/cache")
            .join(format!("{}.json", sha1_hex("other"))),
        serde_json::to_vec(&doc).unwrap(),
    )
    .unwrap();
    let before = o.config();
    // Two sessions now: sync must be told which.
    let out = o.run(&["sso", "sync"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The same template would give the names corp's block holds: skipped, reported.
    let out = o.sync(&["--sso-session", "other"]);
    assert!(
        stderr(&out).contains(
            "skipped account 111111111111 (Prod (EU)) role ReadOnly: a profile 'Prod-EU/ReadOnly'"
        ),
        "{}",
        stderr(&out)
    );
    let out = o.sync(&[
        "--sso-session",
        "other",
        "--name-template",
        "{sso_session}/{account_id}/{role_name}",
    ]);
    assert!(stderr(&out).contains("5 added"), "{}", stderr(&out));
    let text = o.config();
    assert!(
        text.starts_with(&before),
        "corp's block and the rest are as they were"
    );
    let theirs = &text[before.len()..];
    assert!(
        theirs.starts_with("\n# >>> awsrole sso sync: sso-session other >>>\n")
            && theirs.contains("[profile other/111111111111/ReadOnly]\nsso_session = other\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-east-1\n")
            && theirs.ends_with("# <<< awsrole sso sync: sso-session other <<<\n"),
        "{theirs}"
    );
    for session in ["corp", "other"] {
        let out = o.sync(&["--sso-session", session]);
        assert!(
            stderr(&out).contains("nothing to write"),
            "{session}: {}",
            stderr(&out)
        );
    }
    assert_eq!(o.config(), text);
}

#[test]
fn at_a_terminal_without_a_sign_in_sync_signs_in_by_itself() {
    let mut o = Org::new("syncsignin", accounts());
    o.s.keyring = "keyutils";
    std::fs::remove_file(
        o.s.home()
            .join(format!(".aws/sso/cache/{}.json", sha1_hex("corp"))),
    )
    .unwrap();
    let done = o.s.home().join("done");
    let mut c = Command::new("sh");
    c.args([
        "-c",
        &format!("{BIN} sso sync 2> err; echo $? > {}", done.display()),
    ])
    .env_clear()
    .envs(o.s.envs())
    .current_dir(o.s.home())
    .env(
        "BROWSER",
        format!("python3 {}", support("sso_browser.py").display()),
    );
    o.env(&mut c);
    let _term = expectrl::Session::spawn(c).unwrap();
    wait_for(Duration::from_secs(60), "the sync to end", || {
        std::fs::read_to_string(&done).is_ok_and(|t| t.ends_with('\n'))
    });
    let err = std::fs::read_to_string(o.s.home().join("err")).unwrap();
    assert_eq!(std::fs::read_to_string(&done).unwrap(), "0\n", "{err}");
    assert!(
        err.contains("not signed in to sso-session 'corp'; signing in"),
        "{err}"
    );
    assert_eq!(o.count("ListAccounts"), 1);
    assert!(o.block().contains("[profile dev/Admin]"));
    // The sign-in went to the keyring: the next sync needs none.
    let out = o.sync(&[]);
    assert!(
        stderr(&out).contains("nothing to write"),
        "{}",
        stderr(&out)
    );
}
