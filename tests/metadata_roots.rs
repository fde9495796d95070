//! Web identity, instance metadata and container credentials as chain roots, against
//! real parts: moto on loopback is STS (AssumeRoleWithWebIdentity there, unsigned), and
//! the metadata services are tests/support/imds_fake.py and container_fake.py, whose
//! credentials are real in moto (checked with botocore's own providers by
//! metadata_fake_check.py), so every hop above them is a real AssumeRole.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const NEEDS: &str = "python3 with boto3 (see .ci/install)";

fn fake(script: &str) -> LocalServer {
    LocalServer::start(script, &[&moto().url], NEEDS)
}

fn control(server: &LocalServer, body: &str) {
    server.post("/control", body);
}

/// The fake serves `role` (real in moto), with `more` JSON fields of its control.
fn serve_role(server: &LocalServer, role: &str, more: &str) {
    control(server, &format!(r#"{{"role_arn":"{role}"{more}}}"#));
}

/// The sandbox with `config` and no credentials file keys, caching in the kernel keyring.
fn sandbox(name: &str, config: &str) -> Sandbox {
    let mut s = Sandbox::with_world(World::build(name, 3));
    s.keyring = "keyutils";
    s.write_config(config);
    s.write_credentials("");
    s
}

fn run(s: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = s.cmd(args);
    c.envs(env.iter().copied());
    c.output().unwrap()
}

fn exported_caller(s: &Sandbox, out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    caller_of(s, &Keys::from_json(out))
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

/// The AssumeRoleWithWebIdentity calls of this world: (role, session name, token).
fn web_identity_calls(s: &Sandbox) -> Vec<(String, String, String)> {
    let out = Command::new("python3")
        .arg(support("sts_calls.py"))
        .arg(&s.world.url)
        .output()
        .unwrap();
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let field = |c: &Value, k: &str| c[k].as_str().unwrap_or_default().to_string();
    all.iter()
        .filter(|c| c["Action"] == "AssumeRoleWithWebIdentity")
        .filter(|c| field(c, "RoleArn").contains(&s.world.prefix))
        .map(|c| {
            assert_eq!(
                field(c, "AccessKey"),
                "",
                "AssumeRoleWithWebIdentity must be unsigned"
            );
            (
                field(c, "RoleArn"),
                field(c, "RoleSessionName"),
                field(c, "WebIdentityToken"),
            )
        })
        .collect()
}

fn assume_roles(s: &Sandbox) -> Vec<String> {
    s.world
        .calls()
        .into_iter()
        .filter(|c| c.action == "AssumeRole")
        .filter_map(|c| c.role_arn)
        .collect()
}

#[test]
fn botocore_providers_get_real_credentials_from_the_fakes() {
    let world = World::build("metacheck", 2);
    let (imds, container) = (fake("imds_fake.py"), fake("container_fake.py"));
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(support("metadata_fake_check.py"))
        .args([
            &moto().url,
            &imds.url,
            &container.url,
            &world.role_arns[0],
            &world.role_arns[1],
            work.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success() && stdout(&out).trim() == "ok",
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

fn web_config(s_home: &std::path::Path, world: &World) -> (String, PathBuf) {
    let token = s_home.join("token");
    let config = format!(
        "[profile ci]\nweb_identity_token_file = {}\nrole_arn = {}\nrole_session_name = ci-run\n\n\
         [profile deploy]\nrole_arn = {}\nsource_profile = ci\n",
        token.display(),
        world.role_arns[0],
        world.role_arns[1]
    );
    (config, token)
}

#[test]
fn a_web_identity_chain_assumes_each_role_once_and_reads_the_token_file_at_each_call() {
    let s = sandbox("webchain", "");
    let (config, token) = web_config(s.home(), &s.world);
    s.write_config(&config);
    std::fs::write(&token, "token-one\n").unwrap();
    // Like `aws --profile`, a named profile's keys win over the variables.
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
        ("AWS_ROLE_ARN", s.world.role_arns[2].as_str()),
    ];

    let caller = exported_caller(
        &s,
        &run(&s, &["export", "deploy", "--format", "json"], &env),
    );
    assert!(
        caller.contains(&format!(
            "assumed-role/{}/",
            role_name(&s.world.role_arns[1])
        )),
        "{caller}"
    );
    assert_eq!(
        web_identity_calls(&s),
        vec![(
            s.world.role_arns[0].clone(),
            "ci-run".into(),
            "token-one".into()
        )]
    );
    assert_eq!(assume_roles(&s), vec![s.world.role_arns[1].clone()]);

    // Cached per hop: again, no call at all.
    exported_caller(
        &s,
        &run(&s, &["export", "deploy", "--format", "json"], &env),
    );
    assert_eq!(web_identity_calls(&s).len(), 1);
    assert_eq!(assume_roles(&s).len(), 1);
    // The web identity profile itself: its credentials were cached as the chain's root.
    exported_caller(&s, &run(&s, &["export", "ci", "--format", "json"], &env));
    assert_eq!(web_identity_calls(&s).len(), 1);

    // The kubelet rotated the token: the next call sends the new one.
    std::fs::write(&token, "token-two").unwrap();
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "ci", "--format", "json", "--no-cache"],
            &env,
        ),
    );
    let calls = web_identity_calls(&s);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].2, "token-two");
}

#[test]
fn a_missing_empty_or_special_token_file_names_the_file_and_the_profile() {
    let s = sandbox("webfile", "");
    let (config, token) = web_config(s.home(), &s.world);
    s.write_config(&config);
    let shown = token.display().to_string();
    let fails = |want: &str| {
        let started = Instant::now();
        let out = run(&s, &["export", "deploy"], &[]);
        assert!(started.elapsed() < Duration::from_secs(10), "hung");
        let err = stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains("profile 'ci'") && err.contains(&shown) && err.contains(want),
            "{err}"
        );
    };
    fails("does not exist");
    std::fs::write(&token, "  \n").unwrap();
    fails("is empty");
    std::fs::remove_file(&token).unwrap();
    let made = Command::new("mkfifo").arg(&token).status().unwrap();
    assert!(made.success());
    fails("not a regular file");
    assert!(web_identity_calls(&s).is_empty());
    assert!(assume_roles(&s).is_empty());
}

fn box_config(world: &World) -> String {
    format!(
        "[profile box]\nrole_arn = {}\ncredential_source = Ec2InstanceMetadata\n\n\
         [profile pod]\nrole_arn = {}\ncredential_source = EcsContainer\n",
        world.role_arns[1], world.role_arns[1]
    )
}

#[test]
fn an_instance_role_chain_uses_imdsv2_and_caches_each_hop() {
    let s = sandbox("imdschain", "");
    s.write_config(&box_config(&s.world));
    let imds = fake("imds_fake.py");
    serve_role(&imds, &s.world.role_arns[0], "");
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())];

    let caller = exported_caller(&s, &run(&s, &["export", "box", "--format", "json"], &env));
    assert!(
        caller.contains(&format!(
            "assumed-role/{}/",
            role_name(&s.world.role_arns[1])
        )),
        "{caller}"
    );
    let seen = imds.requests();
    let shape: Vec<(String, bool)> = seen
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                ),
                r["token"] == true,
            )
        })
        .collect();
    let role = role_name(&s.world.role_arns[0]);
    assert_eq!(
        shape,
        vec![
            ("PUT /latest/api/token".to_string(), false),
            (
                "GET /latest/meta-data/iam/security-credentials/".to_string(),
                true
            ),
            (
                format!("GET /latest/meta-data/iam/security-credentials/{role}"),
                true
            ),
        ]
    );
    // The hop signed with the instance role's keys is a real AssumeRole in moto.
    assert_eq!(
        assume_roles(&s)
            .iter()
            .filter(|a| **a == s.world.role_arns[1])
            .count(),
        1
    );

    // Cached: neither the metadata service nor STS is asked again.
    exported_caller(&s, &run(&s, &["export", "box", "--format", "json"], &env));
    assert_eq!(imds.requests().len(), 3);
    assert_eq!(
        assume_roles(&s)
            .iter()
            .filter(|a| **a == s.world.role_arns[1])
            .count(),
        1
    );
    // Another duration is another hop, assumed from the cached instance credentials.
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "box", "--format", "json", "--duration", "900"],
            &env,
        ),
    );
    assert_eq!(
        imds.requests().len(),
        3,
        "the instance credentials were cached"
    );
    assert_eq!(
        assume_roles(&s)
            .iter()
            .filter(|a| **a == s.world.role_arns[1])
            .count(),
        2
    );
}

/// An instance on an IPv6-only subnet: the profile names the metadata service by an IPv6
/// address (here the fake on `[::1]`, standing in for `[fd00:ec2::254]`) with the IPv6
/// endpoint mode. awsrole and botocore both reach it, with IMDSv2, and end at the role.
#[test]
fn an_ipv6_metadata_endpoint_from_the_config_serves_awsrole_and_botocore() {
    let s = sandbox("imdsipv6", "");
    let imds = LocalServer::start_ipv6(
        "imds_fake.py",
        &[&moto().url],
        "python3 with boto3, and IPv6 on loopback (::1)",
    );
    assert!(imds.url.starts_with("http://[::1]:"), "{}", imds.url);
    serve_role(&imds, &s.world.role_arns[0], "");
    s.write_config(&box_config(&s.world).replace(
        "credential_source = Ec2InstanceMetadata\n",
        &format!(
            "credential_source = Ec2InstanceMetadata\n\
             ec2_metadata_service_endpoint_mode = IPv6\n\
             ec2_metadata_service_endpoint = {}\n",
            imds.url
        ),
    ));
    let target = format!("assumed-role/{}/", role_name(&s.world.role_arns[1]));

    let caller = exported_caller(&s, &run(&s, &["export", "box", "--format", "json"], &[]));
    assert!(caller.contains(&target), "{caller}");
    let shape = |seen: &[serde_json::Value]| -> Vec<String> {
        seen.iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    let role = role_name(&s.world.role_arns[0]);
    let imdsv2 = vec![
        "PUT /latest/api/token".to_string(),
        "GET /latest/meta-data/iam/security-credentials/".to_string(),
        format!("GET /latest/meta-data/iam/security-credentials/{role}"),
    ];
    assert_eq!(shape(&imds.requests()), imdsv2);

    // botocore, with the same config, gets its credentials from the same service.
    let script = "import botocore.session;c=botocore.session.Session(profile='box').get_credentials().get_frozen_credentials();print(c.access_key);print(c.secret_key);print(c.token)";
    let out = Command::new("python3")
        .args(["-c", script])
        .env_clear()
        .envs(s.envs())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "botocore: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let keys = Keys {
        access_key_id: lines[0].to_string(),
        secret_access_key: lines[1].to_string(),
        session_token: Some(lines[2].to_string()),
    };
    assert!(caller_of(&s, &keys).contains(&target));
    assert_eq!(
        shape(&imds.requests()[3..]),
        imdsv2,
        "botocore asked the IPv6 endpoint the same way"
    );
}

#[test]
fn imdsv1_is_used_only_where_botocore_falls_back() {
    let s = sandbox("imdsv1", "");
    s.write_config(&box_config(&s.world));
    let imds = fake("imds_fake.py");
    // The token PUT answered 405 (IMDSv2 not offered): botocore goes on without a token.
    serve_role(
        &imds,
        &s.world.role_arns[0],
        r#","token_status":405,"v1":true"#,
    );
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())];
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "box", "--format", "json", "--no-cache"],
            &env,
        ),
    );
    let seen = imds.requests();
    assert_eq!(seen.len(), 3);
    assert!(seen[1..].iter().all(|r| r["token"] == false), "{seen:?}");

    // With IMDSv1 turned off, the failed PUT is the end of it.
    let out = run(
        &s,
        &["export", "box", "--no-cache"],
        &[env[0], ("AWS_EC2_METADATA_V1_DISABLED", "true")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("IMDSv1 is turned off"),
        "{}",
        stderr(&out)
    );
    assert_eq!(imds.requests().len(), 4);
}

#[test]
fn a_machine_without_a_metadata_service_fails_fast_and_a_disabled_one_is_never_asked() {
    let s = sandbox("imdsaway", "");
    s.write_config(&box_config(&s.world));
    // Nothing accepts connections there, as 169.254.169.254 off EC2.
    let hole = LocalServer::start("blackhole.py", &[], NEEDS);
    let started = Instant::now();
    let out = run(
        &s,
        &["export", "box"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", hole.url.as_str())],
    );
    let took = started.elapsed();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("profile 'box'")
            && err.contains("could not be reached")
            && err.contains("no connection within 1s"),
        "{err}"
    );
    // One connect timeout of 1 s, not botocore's second one for IMDSv1; the bound only
    // guards against a hang.
    assert!(took < Duration::from_secs(6), "{took:?}");

    let imds = fake("imds_fake.py");
    serve_role(&imds, &s.world.role_arns[0], "");
    let out = run(
        &s,
        &["export", "box"],
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert!(
        stderr(&out).contains("AWS_EC2_METADATA_DISABLED"),
        "{}",
        stderr(&out)
    );
    assert!(imds.requests().is_empty());
}

#[test]
fn instance_refusals_name_the_cause_and_expired_credentials_are_not_used() {
    let s = sandbox("imdsno", "");
    s.write_config(&box_config(&s.world));
    let imds = fake("imds_fake.py");
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())];
    let fails = |mode: &str, want: &str| {
        let more = format!(r#","error_doc":false,"no_role":false,"expired":false,"{mode}":true"#);
        serve_role(&imds, &s.world.role_arns[0], &more);
        let out = run(&s, &["export", "box", "--no-cache"], &env);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("profile 'box'") && err.contains(want), "{err}");
    };
    // EC2 could not assume the role (its trust policy): a 200 with Code and Message.
    fails("error_doc", "AssumeRoleUnauthorizedAccess");
    fails("no_role", "no instance profile is attached");
    // botocore extends expired instance credentials for a few minutes; awsrole would
    // cache them and assume roles with them, so it says the service is not renewing.
    fails("expired", "the service is not renewing them");
    // No hop was assumed (the fake's own AssumeRole of the instance role aside).
    assert!(!assume_roles(&s).contains(&s.world.role_arns[1]));
}

#[test]
fn a_container_chain_sends_the_rotating_token_file_and_caches_each_hop() {
    let s = sandbox("container", "");
    s.write_config(&box_config(&s.world));
    let container = fake("container_fake.py");
    serve_role(&container, &s.world.role_arns[0], r#","token":"first""#);
    let token = s.home().join("container-token");
    std::fs::write(&token, "first").unwrap();
    let uri = format!("{}/v1/credentials", container.url);
    let token_path = token.display().to_string();
    let env = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token_path.as_str(),
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "loses-to-the-file"),
    ];
    let caller = exported_caller(&s, &run(&s, &["export", "pod", "--format", "json"], &env));
    assert!(
        caller.contains(&format!(
            "assumed-role/{}/",
            role_name(&s.world.role_arns[1])
        )),
        "{caller}"
    );
    let seen = container.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["authorization"], "first");
    assert_eq!(seen[0]["accept"], "application/json");
    exported_caller(&s, &run(&s, &["export", "pod", "--format", "json"], &env));
    assert_eq!(container.requests().len(), 1, "cached");
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "pod", "--format", "json", "--duration", "900"],
            &env,
        ),
    );
    assert_eq!(
        container.requests().len(),
        1,
        "the task credentials were cached"
    );

    // EKS rotated the token: the file is read again on the next call.
    std::fs::write(&token, "second").unwrap();
    serve_role(&container, &s.world.role_arns[0], r#","token":"second""#);
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "pod", "--format", "json", "--no-cache"],
            &env,
        ),
    );
    assert_eq!(
        container.requests().last().unwrap()["authorization"],
        "second"
    );

    // Server errors are retried as botocore retries them (3 attempts).
    serve_role(
        &container,
        &s.world.role_arns[0],
        r#","token":"second","fail":2"#,
    );
    let before = container.requests().len();
    exported_caller(
        &s,
        &run(
            &s,
            &["export", "pod", "--format", "json", "--no-cache"],
            &env,
        ),
    );
    assert_eq!(container.requests().len(), before + 3);
}

#[test]
fn container_refusals_and_forbidden_addresses_are_told_without_retrying() {
    let s = sandbox("containerno", "");
    s.write_config(&box_config(&s.world));
    let container = fake("container_fake.py");
    serve_role(&container, &s.world.role_arns[0], r#","token":"right""#);
    let uri = format!("{}/v1/credentials", container.url);

    let out = run(
        &s,
        &["export", "pod"],
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong"),
        ],
    );
    let err = stderr(&out);
    assert!(
        err.contains("profile 'pod'") && err.contains("HTTP 403") && err.contains("not valid"),
        "{err}"
    );
    assert_eq!(
        container.requests().len(),
        1,
        "a refused token is not sent three times"
    );

    let out = run(
        &s,
        &["export", "pod"],
        &[(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://10.1.2.3/creds",
        )],
    );
    assert!(
        stderr(&out).contains("only a loopback address"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &s,
        &["export", "pod"],
        &[
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX: y"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        ],
    );
    assert!(stderr(&out).contains("line break"), "{}", stderr(&out));
    let out = run(&s, &["export", "pod"], &[]);
    assert!(
        stderr(&out).contains(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(container.requests().len(), 1);
}

#[test]
fn the_prompt_hook_never_calls_a_metadata_service() {
    let s = sandbox("metahook", "");
    s.write_config(&box_config(&s.world));
    let (imds, container) = (fake("imds_fake.py"), fake("container_fake.py"));
    serve_role(&imds, &s.world.role_arns[0], "");
    serve_role(&container, &s.world.role_arns[0], "");
    let uri = format!("{}/v1/credentials", container.url);
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
    ];
    for (profile, what) in [
        ("box", "instance metadata service"),
        ("pod", "container credentials endpoint"),
    ] {
        let dir = s.home().join(profile);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".awsrole"), format!("{profile}\n")).unwrap();
        assert!(run(&s, &["allow", dir.to_str().unwrap()], &[])
            .status
            .success());
        let mut hook = s.cmd(&["hook", "bash"]);
        hook.current_dir(&dir).envs(env);
        let out = hook.output().unwrap();
        assert!(
            !stdout(&out).contains("AWS_ACCESS_KEY_ID"),
            "{}",
            stdout(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(&format!("never calls the {what}"))
                && err.contains(&format!("awsrole use {profile}")),
            "{err}"
        );
    }
    assert!(imds.requests().is_empty());
    assert!(container.requests().is_empty());

    // Once `use` (here: export) cached it, a prompt switches without asking anyone.
    exported_caller(&s, &run(&s, &["export", "box", "--format", "json"], &env));
    let mut hook = s.cmd(&["hook", "bash"]);
    hook.current_dir(s.home().join("box")).envs(env);
    let out = hook.output().unwrap();
    assert!(
        stdout(&out).contains("AWS_ACCESS_KEY_ID"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(imds.requests().len(), 3);
}

#[test]
fn list_explain_and_status_name_the_roots_without_calling_them() {
    let s = sandbox("metalabels", "");
    let (web, token) = web_config(s.home(), &s.world);
    s.write_config(&format!("{web}\n{}", box_config(&s.world)));
    let (imds, container) = (fake("imds_fake.py"), fake("container_fake.py"));
    let uri = format!("{}/v1/credentials/secret-path", container.url);
    let env = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
    ];
    let list = stdout(&run(&s, &["list"], &env));
    let role0 = &s.world.role_arns[0];
    assert!(
        list.contains(&format!("deploy ← ci [web identity: {role0}]")),
        "{list}"
    );
    assert!(
        list.contains("box ← box [instance metadata]") && list.contains("pod ← pod [container]"),
        "{list}"
    );

    let explain = |p: &str| stdout(&run(&s, &["explain", p], &env));
    let text = explain("deploy");
    assert!(
        text.contains(&format!("AssumeRoleWithWebIdentity of {role0}"))
            && text.contains("does not exist"),
        "{text}"
    );
    std::fs::write(&token, "t").unwrap();
    assert!(explain("ci").contains("it holds a token"));
    let text = explain("box");
    assert!(
        text.contains(&format!("instance metadata service at {}", imds.url)),
        "{text}"
    );
    let text = explain("pod");
    let host = container.url.trim_start_matches("http://");
    assert!(
        text.contains(&format!("container credentials endpoint at {host}"))
            && !text.contains("secret-path"),
        "{text}"
    );

    let mut status = s.cmd(&["status"]);
    status.env("AWSROLE_PROFILE", "box").envs(env);
    let status = stdout(&status.output().unwrap());
    assert!(status.contains("[instance metadata]"), "{status}");
    assert!(imds.requests().is_empty() && container.requests().is_empty());
    assert!(web_identity_calls(&s).is_empty());
}
