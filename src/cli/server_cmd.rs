//! `exec --server`: resolve first (asking for an MFA code now, never later), serve the
//! credentials from a local endpoint that keeps them fresh, run the command against it,
//! forward signals, and exit with its status.

use std::time::Duration;

use super::credentials_cmd::resolve_with_margin;
use super::{App, Outcome, ResolveFlags};
use crate::chain::resolve::MfaPolicy;
use crate::error::{Error, Result};
use crate::serve::endpoint;

/// Variables every SDK ranks above the container provider: gone from the child.
const OUTRANKING: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
];

/// botocore reads the shared credentials file's `[default]` keys before the container
/// provider: the child gets an empty one, so every SDK uses the endpoint.
use crate::sys::settings::EMPTY_FILE;

// The arguments of `serve-shell`; its help text is the variant's in `Command`.
#[derive(clap::Args, Debug)]
pub struct ServeShellArgs {
    pub(crate) profile: String,
    #[arg(long)]
    pub(crate) shell_pid: u32,
    #[command(flatten)]
    pub(crate) flags: ResolveFlags,
}

impl ServeShellArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        serve_shell(app, &self.profile, self.shell_pid, &self.flags)?;
        Ok(Outcome::Done)
    }
}

/// `exec --server`: the command's exit status is the outcome.
pub(crate) fn exec_with_server(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
    program: &str,
    args: &[String],
) -> Result<Outcome> {
    let margin = endpoint_margin(app);
    let resolved = resolve_up_front(app, profile, flags, margin)?;
    let region = resolved.plan.region.clone();
    // On Unix a daemon serves, owned by this process: it outlives the command for as long
    // as anything the command left behind still holds the endpoint's token.
    #[cfg(unix)]
    let endpoint = {
        let daemon = start_daemon(profile, flags, std::process::id(), &resolved.credentials)?;
        endpoint::Endpoint {
            url: daemon.url,
            token: daemon.token,
        }
    };
    #[cfg(not(unix))]
    let endpoint = endpoint::start(
        resolved.credentials,
        margin,
        renewer(profile, flags, margin),
    )?;
    let mut child = std::process::Command::new(program);
    child.args(args);
    for name in OUTRANKING {
        child.env_remove(name);
    }
    child
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &endpoint.url)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &endpoint.token)
        .env("AWS_SHARED_CREDENTIALS_FILE", EMPTY_FILE)
        .env("AWSROLE_PROFILE", profile);
    if let Some(region) = region {
        child
            .env("AWS_REGION", &region)
            .env("AWS_DEFAULT_REGION", &region);
    }
    // The handlers go in before the spawn: a TERM or HUP landing in between is kept and
    // passed on once the command runs, instead of ending awsrole and orphaning it.
    catch_signals();
    let mut running = child
        .spawn()
        .map_err(|e| Error::io(format!("cannot run '{program}'"), e))?;
    forward_signals(running.id());
    let status = running
        .wait()
        .map_err(|e| Error::io(format!("lost '{program}'"), e))?;
    Ok(Outcome::Exit(exit_code(status, program)))
}

#[cfg(unix)]
fn exit_code(status: std::process::ExitStatus, program: &str) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => {
            super::notice(&format!("'{program}' ended by signal {signal}"));
            128 + signal
        }
        _ => 1,
    }
}

#[cfg(not(unix))]
fn exit_code(status: std::process::ExitStatus, _program: &str) -> i32 {
    status.code().unwrap_or(1)
}

#[cfg(unix)]
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// A signal that came before there was a child to pass it to.
#[cfg(unix)]
static PENDING: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn pass_on(signal: libc::c_int) {
    let child = CHILD.load(std::sync::atomic::Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, signal) };
    } else {
        PENDING.store(signal, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The terminal's Ctrl-C and Ctrl-\ reach the child by themselves (same process
/// group), so awsrole only outlives them; a TERM or HUP sent to awsrole is passed on.
/// Installed before the child starts; `forward_signals` then names it.
#[cfg(unix)]
fn catch_signals() {
    // SAFETY: installing handlers that only call kill or store, and ignoring the
    // terminal's.
    unsafe {
        for signal in [libc::SIGTERM, libc::SIGHUP] {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = pass_on as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
}

#[cfg(unix)]
fn forward_signals(child: u32) {
    CHILD.store(child as i32, std::sync::atomic::Ordering::SeqCst);
    let early = PENDING.swap(0, std::sync::atomic::Ordering::SeqCst);
    if early > 0 {
        // SAFETY: kill on the child just started.
        unsafe { libc::kill(child as i32, early) };
    }
}

#[cfg(not(unix))]
fn catch_signals() {}

#[cfg(not(unix))]
fn forward_signals(_child: u32) {}

pub use crate::sys::settings::SERVER_VAR;

/// `use --server`: the chain is resolved here (asking now, on the terminal); a daemon
/// started for this shell serves it, fed from the cache just filled, and exits with the
/// shell or on `unuse`. The shell gets the endpoint's variables instead of keys.
pub(crate) fn use_with_server(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
) -> Result<crate::env::render::EnvChange> {
    let margin = endpoint_margin(app);
    let resolved = resolve_up_front(app, profile, flags, margin)?;
    let shell_pid = app.settings().shell_pid().unwrap_or_else(parent_pid);
    let Daemon { pid, url, token } =
        start_daemon(profile, flags, shell_pid, &resolved.credentials)?;
    let mut change = crate::env::render::EnvChange::default();
    for name in OUTRANKING {
        change.unset.push(name.to_string());
    }
    for name in crate::env::render::ALWAYS_UNSET {
        change.unset.push(name.to_string());
    }
    change.unset.push("AWS_CREDENTIAL_EXPIRATION".into());
    let mut set = |k: &str, v: String| change.set.push((k.to_string(), v));
    set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url.clone());
    set("AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
    set("AWS_SHARED_CREDENTIALS_FILE", EMPTY_FILE.to_string());
    set("AWSROLE_PROFILE", profile.to_string());
    set(SERVER_VAR, format!("{pid};{url}"));
    if let Some(region) = resolved.plan.region.clone() {
        set("AWS_REGION", region.clone());
        set("AWS_DEFAULT_REGION", region);
    }
    Ok(change)
}

/// The first resolution of both modes: now, at the terminal (MFA code, confirmation),
/// never later from inside a request.
fn resolve_up_front(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
    margin: i64,
) -> Result<super::credentials_cmd::Resolved> {
    let interactive = MfaPolicy::Interactive {
        given: flags.mfa_code.clone(),
    };
    resolve_with_margin(
        app,
        profile,
        flags,
        interactive,
        Duration::from_secs(120),
        Some(margin),
    )
}

/// Fresh credentials for the endpoint, through the cache with its margin, never asking.
/// Each renewal is a run of its own (an `App` of its own: it runs on the endpoint's
/// thread, and reads the config as it is by then).
fn renewer(
    profile: &str,
    flags: &ResolveFlags,
    margin: i64,
) -> impl Fn() -> Result<crate::chain::credentials::Credentials> + Send + 'static {
    let (profile, flags) = (profile.to_string(), flags.clone());
    move || {
        resolve_with_margin(
            &App::new(),
            &profile,
            &flags,
            MfaPolicy::NeverAsk,
            Duration::from_secs(30),
            Some(margin),
        )
        .map(|r| r.credentials)
        .map_err(|e| match e {
            Error::Mfa(m) => Error::Mfa(format!(
                "{m}; run 'awsrole refresh {profile}' in any terminal"
            )),
            other => other,
        })
    }
}

fn endpoint_margin(app: &App) -> i64 {
    app.settings().refresh_margin_or(endpoint::DEFAULT_MARGIN)
}

#[cfg(unix)]
fn parent_pid() -> u32 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() as u32 }
}

#[cfg(not(unix))]
fn parent_pid() -> u32 {
    0
}

/// A daemon serving a profile (`serve-shell`), and where.
struct Daemon {
    pid: u32,
    url: String,
    token: String,
}

/// Starts the daemon for `owner` (a shell, or the awsrole running a command), handing it
/// the credentials just resolved through a pipe (never an argument or a variable), so it
/// needs neither the cache nor a person to start.
fn start_daemon(
    profile: &str,
    flags: &ResolveFlags,
    owner: u32,
    initial: &crate::chain::credentials::Credentials,
) -> Result<Daemon> {
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot find awsrole itself", e))?;
    let mut daemon = std::process::Command::new(exe);
    daemon
        .args(["serve-shell", profile, "--shell-pid", &owner.to_string()])
        .args(flags.duration.map(|d| format!("--duration={d}")))
        .args(flags.region.as_ref().map(|r| format!("--region={r}")))
        .args(flags.no_cache.then_some("--no-cache"))
        .args(flags.no_session.then_some("--no-session"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    // The daemon renews from the user's own files, not the empty one an earlier
    // `use --server` gave this shell; and it holds no earlier endpoint's token, which
    // would keep that endpoint alive (it serves while anything holds its token).
    match crate::sys::settings::get().user_credentials_file() {
        Some(file) => daemon.env("AWS_SHARED_CREDENTIALS_FILE", file),
        None => daemon.env_remove("AWS_SHARED_CREDENTIALS_FILE"),
    };
    for name in [
        SERVER_VAR,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ] {
        daemon.env_remove(name);
    }
    let mut child = daemon
        .spawn()
        .map_err(|e| Error::io("cannot start the credential endpoint", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        let doc = serde_json::to_string(initial).unwrap_or_default();
        let _ = std::io::Write::write_all(&mut stdin, format!("{doc}\n").as_bytes());
    }
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("piped")));
    let url = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let token = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    if !url.starts_with("http://127.0.0.1:") || token.is_empty() {
        let _ = child.kill();
        return Err(Error::System(
            "the credential endpoint did not start; see its message above".into(),
        ));
    }
    Ok(Daemon {
        pid: child.id(),
        url,
        token,
    })
}

/// The daemon behind `use --server` and (on Unix) `exec --server` (hidden
/// `serve-shell`): takes its first credentials on stdin, prints its URL and token on two
/// lines, then serves while its owner lives (until that shell's own `unuse`), and after
/// that for as long as any process still holds its token (a job the command left
/// running, a shell started from the shell), so the port is never given up while
/// someone may ask it, and no other local user can take it over.
fn serve_shell(app: &App, profile: &str, owner: u32, flags: &ResolveFlags) -> Result<()> {
    let margin = endpoint_margin(app);
    let renew = renewer(profile, flags, margin);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let initial = match serde_json::from_str(line.trim()) {
        Ok(credentials) => credentials,
        Err(_) => renew()?,
    };
    let endpoint = endpoint::start(initial, margin, renew)?;
    super::emit(&format!("{}\n{}\n", endpoint.url, endpoint.token))?;
    detach();
    catch_release();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let owned = !released() && shell_alive(owner);
        if !owned && !token_held(&endpoint.token) {
            return Ok(());
        }
    }
}

#[cfg(unix)]
static RELEASED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn release(_signal: libc::c_int) {
    RELEASED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// `unuse` sends TERM: the owner is done with the endpoint, but what it started may not
/// be.
#[cfg(unix)]
fn catch_release() {
    // SAFETY: a handler that only stores to an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = release as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

#[cfg(unix)]
fn released() -> bool {
    RELEASED.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg(not(unix))]
fn catch_release() {}

#[cfg(not(unix))]
fn released() -> bool {
    false
}

/// Whether any process this user can see still has the endpoint's token in its
/// environment (Linux: `/proc/PID/environ`; elsewhere, nothing is known and only the
/// owner counts).
#[cfg(target_os = "linux")]
fn token_held(token: &str) -> bool {
    let needle = format!("AWS_CONTAINER_AUTHORIZATION_TOKEN={token}");
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let Some(pid) = name.to_str() else {
            return false;
        };
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
            return false;
        }
        std::fs::read(entry.path().join("environ"))
            .map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
            .unwrap_or(false)
    })
}

#[cfg(not(target_os = "linux"))]
fn token_held(_token: &str) -> bool {
    false
}

/// Its own session, and stdout closed: the shell's `$(…)` does not wait for it.
#[cfg(unix)]
fn detach() {
    // SAFETY: setsid and dup2 on this process's own descriptors.
    unsafe {
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::close(null);
        }
    }
}

#[cfg(not(unix))]
fn detach() {}

#[cfg(unix)]
fn shell_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = pid > 1 && unsafe { libc::kill(pid as i32, 0) } == 0;
    // A shell that exited but was not reaped yet (a zombie) is gone too.
    #[cfg(target_os = "linux")]
    if exists {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            return !matches!(state, Some("Z") | Some("X"));
        }
    }
    exists
}

#[cfg(not(unix))]
fn shell_alive(_pid: u32) -> bool {
    true
}

/// Stops the daemon named in `AWSROLE_SERVER`, if it really is one of ours and serves
/// this very shell: a forged variable must not make awsrole kill another process, and a
/// child shell (which inherits the variable) must not stop its parent's endpoint.
pub(crate) fn stop_server(value: &str) {
    let Some(pid) = value.split(';').next().and_then(|p| p.parse::<i32>().ok()) else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        let this_shell = crate::sys::settings::get()
            .shell_pid()
            .unwrap_or_else(parent_pid)
            .to_string();
        let ours = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| serves_shell(&c, &this_shell))
            .unwrap_or(false);
        if ours {
            // SAFETY: a TERM to a process checked above to be our daemon.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
}

/// Whether a process command line (NUL-separated) is awsrole's `serve-shell` for the
/// shell with pid `shell`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn serves_shell(cmdline: &[u8], shell: &str) -> bool {
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.first().is_some_and(|a| a.ends_with(b"awsrole"))
        && args.get(1) == Some(&&b"serve-shell"[..])
        && args
            .windows(2)
            .any(|w| w[0] == b"--shell-pid" && w[1] == shell.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_daemon_of_this_shell_is_stopped() {
        let line = b"/usr/bin/awsrole\0serve-shell\0dev\0--shell-pid\0{}\0";
        let daemon = |pid: &str| {
            String::from_utf8_lossy(line)
                .replace("{}", pid)
                .into_bytes()
        };
        assert!(serves_shell(&daemon("4242"), "4242"));
        assert!(!serves_shell(&daemon("4242"), "4243"), "a child shell");
        assert!(!serves_shell(
            b"/bin/sleep\0serve-shell\0--shell-pid\x004242",
            "4242"
        ));
        assert!(!serves_shell(b"", "4242"));
    }
}
