//! For unit tests of what reads this process's own environment or arguments (the hook's
//! fast path, `AWSROLE_CACHE_NAMESPACE`, `AWS_REGION`…): the test binary runs one of its
//! own tests again in a child process, with only the variables and arguments that test
//! gives it. Setting them in this process instead would race the tests running beside
//! it, and a stray `AWSROLE_*` of the developer's shell would change the answer.

use std::process::Command;

/// Names, in the child, the test that is to play the child's part.
const VAR: &str = "AWSROLE_UNIT_TEST_CHILD";
/// What the child's answer follows on its line of output.
const MARK: &str = "child=>";

/// Whether this process is the child run for `test` (its full name,
/// `module::tests::name`); the test then does its part, calls `answer` and returns.
pub fn is_child(test: &str) -> bool {
    std::env::var(VAR).is_ok_and(|v| v == test)
}

/// In the child: hands one line to the parent.
pub fn answer(line: &str) {
    println!("{MARK}{line}");
}

/// Runs `test` in a child whose environment is `vars` and little else; returns its
/// answer and what it wrote to stderr. The child's command line is `TEST --exact`, or
/// `args` when given: the hook's fast path reads its own arguments, which libtest then
/// takes as filters, so `test`'s name must contain one of them (the other tests they
/// select run in that child too, in the same bare environment).
pub fn run(test: &str, args: &[&str], vars: &[(&str, &str)]) -> (String, String) {
    let exact = [test, "--exact"];
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"));
    child.env_clear();
    // What the system itself needs (Windows will not start much without SystemRoot)
    // and where temporary files go; awsrole reads none of these.
    for name in ["SystemRoot", "TEMP", "TMP", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            child.env(name, value);
        }
    }
    let out = child
        .args(if args.is_empty() { &exact[..] } else { args })
        .env(VAR, test)
        // Not as arguments: the fast path would see them.
        .env("RUST_TEST_NOCAPTURE", "1")
        .env("RUST_TEST_THREADS", "1")
        .envs(vars.iter().copied())
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{test} failed in the child:\n{stdout}\n{stderr}"
    );
    let answer = stdout
        .lines()
        .find_map(|line| line.split_once(MARK))
        .map(|(_, answer)| answer.to_string())
        .unwrap_or_else(|| panic!("{test} gave no answer in the child:\n{stdout}\n{stderr}"));
    (answer, stderr)
}
