//! Arbitrary input for the config parser, the chain planner and the `.awsrole` reader:
//! never a panic, and each case finishes (proptest runs a few thousand in seconds).

use std::path::Path;

use awsrole::chain::config::AwsConfig;
use awsrole::chain::plan::{plan, PlanInputs};
use proptest::prelude::*;

/// Text shaped like an AWS config: headers, keys, continuations, junk, chains.
fn config_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "\\[profile [a-c]{1,2}\\]",
        "\\[(default|sso-session x|[a-c]{1,2})\\]",
        "\\[ ?profile \"?[a-c ]{0,3}\"? ?\\]?",
        "source_profile = [a-c]{1,2}",
        "role_arn = arn:aws:iam::1:role/[A-C]",
        "credential_source = (Environment|Ec2InstanceMetadata|x)",
        "(aws_access_key_id|aws_secret_access_key) = [A-Z0-9]{0,4}",
        "(mfa_serial|duration_seconds|region|sso_session|credential_process) ?[=:] ?[a-z0-9]{0,4}",
        "[ \t]+[a-z_]{0,6} ?=? ?[a-z]{0,3}",
        "[#;].{0,10}",
        "\u{feff}?.{0,12}",
    ];
    proptest::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

fn plan_everything(config: &str, credentials: &str) {
    if let Ok(c) = AwsConfig::from_texts(config, credentials) {
        for name in c.profiles.keys() {
            let _ = plan(&c, name, &PlanInputs::default());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn config_shaped_text_parses_and_plans_without_panic(cfg in config_like(), creds in config_like()) {
        plan_everything(&cfg, &creds);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        plan_everything(&text, &text);
        let _ = awsrole::env::trust::parse_profile(&text, Path::new("/x/.awsrole"));
    }

    #[test]
    fn arbitrary_awsrole_files_are_read_or_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".awsrole");
        std::fs::write(&file, &bytes).unwrap();
        if let Ok(text) = awsrole::env::trust::read_checked(&file) {
            prop_assert!(text.len() <= 4096);
            if let Ok(name) = awsrole::env::trust::parse_profile(&text, &file) {
                prop_assert!(awsrole::env::trust::valid_profile_name(&name));
            }
        }
    }
}
