//! Plain regression tests for disagreements with botocore that the differential
//! runner (tests/conformance/run.py) found; each was a bug, now fixed.

mod common;

use common::*;

#[test]
fn a_section_header_with_inner_spaces_is_not_a_profile() {
    // configparser keeps `[ profile x ]` as " profile x ", which botocore ignores; a
    // role sourcing "x" then names a missing profile.
    let s = Sandbox::seed("spacedheader");
    s.write_config(&format!(
        "[ profile base ]\nregion = eu-west-1\n[profile r]\nrole_arn = {}\nsource_profile = base\n",
        s.world.role_arns[0]
    ));
    let out = s.run(&["export", "r"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the source_profile 'base' named by profile 'r' does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn half_a_key_pair_is_partial_credentials_not_missing_ones() {
    // botocore: PartialCredentialsError for a source profile with only one key.
    let s = Sandbox::seed("partialkeys");
    s.write_config(&format!(
        "[profile keys1]\naws_access_key_id = {}\n[profile r]\nrole_arn = {}\nsource_profile = keys1\n",
        s.world.access_key_id, s.world.role_arns[0]
    ));
    s.write_credentials("");
    let out = s.run(&["export", "r"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "profile 'keys1': partial credentials: aws_access_key_id without aws_secret_access_key"
        ),
        "{err}"
    );
}
