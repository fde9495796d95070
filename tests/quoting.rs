//! Every value printed for a shell is quoted for that shell: arbitrary strings
//! round-trip through real bash, zsh and fish.
// Real shells, pseudo-terminals and the Linux keyrings: Unix only.
#![cfg(unix)]

use std::process::Command;

use awsrole::env::shell::{fish_quote, sh_quote};
use proptest::prelude::*;

fn printed_by(shell: &str, quoted: &str) -> Vec<u8> {
    let script = format!("printf '%s' {quoted}");
    let mut cmd = Command::new(shell);
    if shell == "fish" {
        cmd.arg("--no-config");
    }
    let out = cmd.arg("-c").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{shell} failed on {script:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Strings with what breaks naive quoting: quotes, backslashes, `$`, newlines, spaces,
/// globs, fish's specials and non-ASCII; never NUL, which no environment can hold.
fn awkward() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('\''),
            Just('"'),
            Just('\\'),
            Just('$'),
            Just('\n'),
            Just(' '),
            Just('*'),
            Just('{'),
            Just('}'),
            Just('('),
            Just(')'),
            Just(';'),
            Just('&'),
            Just('|'),
            Just('`'),
            Just('~'),
            Just('#'),
            Just('!'),
            Just('%'),
            Just('\t'),
            Just('é'),
            Just('😀'),
            proptest::char::range('a', 'z'),
            proptest::char::range('\u{1}', '\u{7f}'),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sh_quoting_round_trips_through_bash_and_zsh(value in awkward()) {
        let quoted = sh_quote(&value);
        prop_assert_eq!(printed_by("bash", &quoted), value.as_bytes());
        prop_assert_eq!(printed_by("zsh", &quoted), value.as_bytes());
    }

    #[test]
    fn fish_quoting_round_trips_through_fish(value in awkward()) {
        prop_assert_eq!(printed_by("fish", &fish_quote(&value)), value.as_bytes());
    }
}

#[test]
fn values_that_broke_quoting_once_stay_fixed() {
    // Found by the property test: shell-words left a lone `}` bare; zsh rejects it.
    for value in ["}", "{", "^", "~", "a{b}"] {
        let quoted = sh_quote(value);
        assert_eq!(printed_by("zsh", &quoted), value.as_bytes());
        assert_eq!(printed_by("bash", &quoted), value.as_bytes());
    }
}

#[test]
fn posix_quoting_is_wrong_for_fish_which_is_why_fish_has_its_own() {
    let value = "a\\'b";
    assert_ne!(printed_by("fish", &sh_quote(value)), value.as_bytes());
    assert_eq!(printed_by("fish", &fish_quote(value)), value.as_bytes());
}
