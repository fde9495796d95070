//! clap definitions; each subcommand is an `Args` struct in its command file whose
//! `run` works over one `App` (`app.rs`) and says how it ended (`Outcome`).

mod app;
mod console_cmd;
mod credentials_cmd;
mod keys_cmd;
mod login_cmd;
mod pick_cmd;
mod server_cmd;
mod shell_cmd;
mod sso_cmd;

pub(crate) use app::App;
pub use app::Outcome;

use clap::{Args, Parser, Subcommand};

use crate::error::Result;

#[derive(Parser, Debug)]
#[command(
    name = "awsrole",
    version = env!("AWSROLE_VERSION_LONG"),
    about = "Put AWS IAM role (and role-chain) credentials into your shell",
    after_help = "Shell integration: eval \"$(awsrole init bash)\" (or zsh), or: awsrole init fish | source"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Flags of every command that resolves credentials.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct ResolveFlags {
    /// The current code of the MFA device (else mfa_process, else asked on the terminal)
    #[arg(long, value_name = "CODE")]
    pub(crate) mfa_code: Option<String>,
    /// Neither read nor write the credential cache
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Session duration of the profile's own role: 15m, 1h, 3600 …
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub(crate) duration: Option<u32>,
    /// The region exported for this switch (instead of the profile's)
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// Confirm a profile marked `awsrole_confirm = true` without a terminal
    #[arg(long)]
    pub(crate) yes: bool,
    /// For a profile of long-term keys alone: hand out the keys themselves, not a
    /// GetSessionToken session
    #[arg(long)]
    pub(crate) no_session: bool,
}

pub(crate) fn parse_duration_arg(text: &str) -> std::result::Result<u32, String> {
    crate::sys::duration::parse_duration(text)
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Resolve the chain and print the credentials
    Export(credentials_cmd::ExportArgs),
    /// Run a command with the profile's credentials in its environment
    Exec(credentials_cmd::ExecArgs),
    /// Print the shell integration for an rc file
    Init(shell_cmd::InitArgs),
    /// Switch this shell to PROFILE (needs the shell integration); with no PROFILE, at a
    /// terminal, pick one from a list
    Use(shell_cmd::UseArgs),
    /// Get fresh credentials for PROFILE now, asking for an MFA code or a sign-in if
    /// needed, without switching anything: this shell (a directory's role stays the
    /// directory's), other shells and credential endpoints pick them up by themselves
    Refresh(shell_cmd::RefreshArgs),
    /// The daemon behind `use --server` (started by it)
    #[command(hide = true)]
    ServeShell(server_cmd::ServeShellArgs),
    /// Drop the active profile and restore the variables that were there before
    Unuse(shell_cmd::UnuseArgs),
    /// What the integration runs on every prompt and directory change
    Hook(shell_cmd::HookArgs),
    /// Trust a .awsrole file (default: the nearest at or above this directory)
    Allow(shell_cmd::AllowArgs),
    /// Stop trusting a .awsrole file
    Deny(shell_cmd::DenyArgs),
    /// One short line for a prompt: active profile and time left
    Prompt(shell_cmd::PromptArgs),
    /// Who am I: the active profile, account, assumed-role ARN, region, source and time
    /// left, from the config and the cache (no STS call)
    Status(shell_cmd::StatusArgs),
    /// Pick a profile from a list at the terminal and print its name
    Pick(pick_cmd::PickArgs),
    /// Print the man page (roff), from the same definitions as --help
    Man(pick_cmd::ManArgs),
    /// The profiles of the config, each with its chain
    List(credentials_cmd::ListArgs),
    /// The resolved chain hop by hop, without calling STS
    Explain(credentials_cmd::ExplainArgs),
    /// Show or drop cached temporary credentials
    Cache(keys_cmd::CacheArgs),
    /// Keep a profile's long-term access keys in the OS keyring
    Add(keys_cmd::AddArgs),
    /// Delete a profile's keys from the OS keyring, and the cached sessions
    Remove(keys_cmd::RemoveArgs),
    /// Print shell completions
    Completions(shell_cmd::CompletionsArgs),
    /// Where secrets go on this machine, and why: the cache and the store of
    /// long-term keys (`AWSROLE_KEYRING`)
    Doctor(keys_cmd::DoctorArgs),
    /// Replace a profile's access key with a new one, wherever it is stored (keyring,
    /// key file, password-store or the credentials file), and delete the old one
    Rotate(keys_cmd::RotateArgs),
    /// IAM Identity Center (AWS SSO): sign in or out, or generate its profiles (sync)
    Sso(sso_cmd::SsoArgs),
    /// Open the AWS console as the active role or PROFILE (federation sign-in)
    Console(console_cmd::ConsoleArgs),
    /// Sign in for local development as `aws login` does (PKCE in the browser), keep the
    /// session in the OS keyring and write `login_session` into PROFILE
    Login(login_cmd::LoginArgs),
    /// Sign out of the login session of PROFILE (default: every one of the config):
    /// drop it from the keyring, the AWS CLI's cache and awsrole's cache
    Logout(login_cmd::LogoutArgs),
}

/// Runs the command over one `App`: the config, the backend and the cache are each
/// built at most once, when the command first asks.
pub fn run(cli: Cli) -> Result<Outcome> {
    let app = App::new();
    match cli.command {
        Command::Export(args) => args.run(&app),
        Command::Exec(args) => args.run(&app),
        Command::Init(args) => args.run(&app),
        Command::Use(args) => args.run(&app),
        Command::Refresh(args) => args.run(&app),
        Command::ServeShell(args) => args.run(&app),
        Command::Unuse(args) => args.run(&app),
        Command::Hook(args) => args.run(&app),
        Command::Allow(args) => args.run(&app),
        Command::Deny(args) => args.run(&app),
        Command::Prompt(args) => args.run(&app),
        Command::Status(args) => args.run(&app),
        Command::Pick(args) => args.run(&app),
        Command::Man(args) => args.run(&app),
        Command::List(args) => args.run(&app),
        Command::Explain(args) => args.run(&app),
        Command::Cache(args) => args.run(&app),
        Command::Add(args) => args.run(&app),
        Command::Remove(args) => args.run(&app),
        Command::Completions(args) => args.run(&app),
        Command::Doctor(args) => args.run(&app),
        Command::Rotate(args) => args.run(&app),
        Command::Sso(args) => args.run(&app),
        Command::Console(args) => args.run(&app),
        Command::Login(args) => args.run(&app),
        Command::Logout(args) => args.run(&app),
    }
}

/// Stdout carries only what callers eval or parse; a closed pipe is a quiet exit.
pub use crate::sys::output::{emit, emit_shown, notice};

/// `text` padded with spaces to `width` characters; never a formatting width, which
/// panics past 65,535 (a hostile profile name).
pub(crate) fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    let mut out = String::with_capacity(text.len() + width.saturating_sub(len));
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
    out
}

/// clap's usage errors in awsrole's own style (`awsrole: error: …`, exit 2); help and
/// version go out as clap prints them.
pub fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        _ => {
            let text = e.render().to_string();
            let mut lines = text.trim_end().lines();
            let first = lines.next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let mut out = format!("awsrole: error: {first}\n");
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
            crate::sys::output::raw(&crate::sys::protect::shown(&out));
            std::process::exit(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::shell::Shell;

    #[test]
    fn completions_are_clap_s_plus_profile_names() {
        use clap::CommandFactory;
        let of = |shell: Shell| shell.syntax().completions(&mut Cli::command());
        let bash = of(Shell::Bash);
        assert!(bash.contains("_awsrole()") && bash.contains("__awsrole_complete()"));
        let zsh = of(Shell::Zsh);
        // clap's zsh script without compinit loaded says nothing instead of an error.
        assert!(zsh.contains("#compdef awsrole") && zsh.contains("__awsrole_complete()"));
        assert!(zsh.contains("    (( $+functions[compdef] )) && compdef _awsrole awsrole\n"));
        assert!(!zsh.contains("\n    compdef _awsrole awsrole\n"), "{zsh}");
        let fish = of(Shell::Fish);
        assert!(fish.contains("complete -c awsrole") && fish.contains("awsrole list --names"));
        // nushell's externs and completers are in its init script.
        assert_eq!(of(Shell::Nu), "");
    }
}
