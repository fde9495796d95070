//! clap definitions; each subcommand is a thin function over the rooms below.

mod console_cmd;
mod credentials_cmd;
mod keys_cmd;
mod login_cmd;
mod pick_cmd;
mod server_cmd;
mod shell_cmd;
pub mod sso_cmd;

use clap::{Args, Parser, Subcommand};

use crate::env::render::Format;
use crate::env::shell::Shell;
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
pub struct ResolveFlags {
    /// The current code of the MFA device (else mfa_process, else asked on the terminal)
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
    /// Neither read nor write the credential cache
    #[arg(long)]
    pub no_cache: bool,
    /// Session duration of the profile's own role: 15m, 1h, 3600 …
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub duration: Option<u32>,
    /// The region exported for this switch (instead of the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Confirm a profile marked `awsrole_confirm = true` without a terminal
    #[arg(long)]
    pub yes: bool,
    /// For a profile of long-term keys alone: hand out the keys themselves, not a
    /// GetSessionToken session
    #[arg(long)]
    pub no_session: bool,
}

fn parse_duration_arg(text: &str) -> std::result::Result<u32, String> {
    crate::sys::duration::parse_duration(text)
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Resolve the chain and print the credentials
    Export {
        /// A profile of ~/.aws/config (see 'awsrole list')
        profile: String,
        #[arg(long, value_enum, default_value = "sh")]
        format: Format,
        #[command(flatten)]
        flags: ResolveFlags,
    },
    /// Run a command with the profile's credentials in its environment
    Exec {
        /// A profile of ~/.aws/config (see 'awsrole list')
        profile: String,
        /// Serve the credentials from a local endpoint that keeps them fresh, instead of
        /// putting keys in the command's environment (for jobs longer than a session)
        #[arg(long)]
        server: bool,
        #[command(flatten)]
        flags: ResolveFlags,
        /// The command and its arguments (after `--` when they could be taken for
        /// awsrole's own flags); none: a subshell ($SHELL)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Print the shell integration for an rc file
    Init { shell: Shell },
    /// Switch this shell to PROFILE (needs the shell integration); with no PROFILE, at a
    /// terminal, pick one from a list
    Use {
        /// A profile of ~/.aws/config (see 'awsrole list'); none: pick from a list
        profile: Option<String>,
        #[command(flatten)]
        flags: ResolveFlags,
        /// Serve the credentials to this shell from a local endpoint that keeps them
        /// fresh, instead of putting keys in it
        #[arg(long)]
        server: bool,
        /// Set by the shell function: print code for this shell
        #[arg(long, hide = true)]
        shell: Option<Shell>,
    },
    /// Get fresh credentials for PROFILE now, asking for an MFA code or a sign-in if
    /// needed, without switching anything: this shell (a directory's role stays the
    /// directory's), other shells and credential endpoints pick them up by themselves
    Refresh {
        /// A profile of ~/.aws/config (default: the one this shell uses, or the nearest
        /// allowed .awsrole's)
        profile: Option<String>,
        /// The current code of the MFA device (else mfa_process, else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// The daemon behind `use --server` (started by it)
    #[command(hide = true)]
    ServeShell {
        profile: String,
        #[arg(long)]
        shell_pid: u32,
        #[command(flatten)]
        flags: ResolveFlags,
    },
    /// Drop the active profile and restore the variables that were there before
    Unuse {
        #[arg(long, hide = true)]
        shell: Option<Shell>,
    },
    /// What the integration runs on every prompt and directory change
    Hook { shell: Shell },
    /// Trust a .awsrole file (default: the nearest at or above this directory)
    Allow {
        /// The .awsrole file or its directory (default: the nearest one)
        path: Option<std::path::PathBuf>,
        /// Confirm a profile marked `awsrole_confirm = true` without a terminal
        #[arg(long)]
        yes: bool,
    },
    /// Stop trusting a .awsrole file
    Deny {
        /// The .awsrole file or its directory (default: the nearest one)
        path: Option<std::path::PathBuf>,
    },
    /// One short line for a prompt: active profile and time left
    Prompt,
    /// Who am I: the active profile, account, assumed-role ARN, region, source and time
    /// left, from the config and the cache (no STS call)
    Status {
        /// Also make one GetCallerIdentity to check that the keys still work
        #[arg(long)]
        verify: bool,
    },
    /// Pick a profile from a list at the terminal and print its name
    Pick,
    /// Print the man page (roff), from the same definitions as --help
    Man,
    /// The profiles of the config, each with its chain
    List {
        /// Only the names, one per line
        #[arg(long)]
        names: bool,
        /// Only the profiles whose chain starts at IAM Identity Center
        #[arg(long)]
        sso: bool,
    },
    /// The resolved chain hop by hop, without calling STS
    Explain {
        /// A profile of ~/.aws/config (see 'awsrole list')
        profile: String,
        /// Explain it as with --duration DURATION
        #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
        duration: Option<u32>,
    },
    /// Show or drop cached temporary credentials
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Keep a profile's long-term access keys in the OS keyring
    Add {
        /// The profile whose keys these are (it needs a section in the config)
        profile: String,
        /// Store without checking the keys with STS (offline)
        #[arg(long)]
        no_verify: bool,
    },
    /// Delete a profile's keys from the OS keyring, and the cached sessions
    Remove {
        /// The profile whose keys to delete
        profile: String,
    },
    /// Print shell completions
    Completions { shell: Shell },
    /// Where secrets go on this machine, and why: the cache and the store of
    /// long-term keys (`AWSROLE_KEYRING`)
    Doctor,
    /// Replace a profile's access key with a new one, wherever it is stored (keyring,
    /// key file, password-store or the credentials file), and delete the old one
    Rotate {
        /// The profile whose keys to rotate (a role profile: the keys its chain starts
        /// from)
        profile: String,
    },
    /// IAM Identity Center (AWS SSO): sign in or out, or generate its profiles (sync)
    Sso {
        #[command(subcommand)]
        action: SsoAction,
    },
    /// Open the AWS console as the active role or PROFILE (federation sign-in)
    Console(console_cmd::ConsoleArgs),
    /// Sign in for local development as `aws login` does (PKCE in the browser), keep the
    /// session in the OS keyring and write `login_session` into PROFILE
    Login {
        /// The profile to sign in for (created when missing)
        profile: String,
        /// Sign in on another device: print the address, then read the code it shows
        #[arg(long)]
        remote: bool,
        /// Also write the session to the AWS CLI's cache (~/.aws/login/cache), so the
        /// AWS CLI and SDKs use it too
        #[arg(long)]
        share_with_aws_cli: bool,
        /// Replace another login_session of the profile without asking
        #[arg(long)]
        yes: bool,
        /// The region of the sign-in service, written into the profile when it has
        /// none (default: the profile's, AWS_REGION, [default]'s)
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
    },
    /// Sign out of the login session of PROFILE (default: every one of the config):
    /// drop it from the keyring, the AWS CLI's cache and awsrole's cache
    Logout {
        /// A profile whose chain starts at a login_session
        profile: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SsoAction {
    /// Sign in (in the browser with PKCE, or with a device code) and keep the token in
    /// the OS keyring
    Login {
        /// A profile whose chain starts at an IAM Identity Center role (default: the
        /// active profile's sign-in, else the config's only one)
        #[arg(conflicts_with = "sso_session")]
        profile: Option<String>,
        /// The [sso-session NAME] to sign in to
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// The device-code flow (a code to confirm in any browser) instead of PKCE
        #[arg(long)]
        use_device_code: bool,
        /// Do not open a browser: print the address (and code) on stderr
        #[arg(long)]
        no_browser: bool,
    },
    /// Write one profile per account and role you have in IAM Identity Center into a
    /// marked block of the config (one block per [sso-session]); run it again any time
    Sync {
        /// The [sso-session NAME] to list (default: the config's only one)
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// Print what would change (a diff) and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Profile names: {account_name}, {account_id}, {role_name}, {sso_session} and
        /// text (default: the last sync's, else {account_name}/{role_name})
        #[arg(long, value_name = "TEMPLATE")]
        name_template: Option<String>,
        /// Keep the profiles of accounts and roles the portal no longer lists
        #[arg(long)]
        keep_removed: bool,
        /// The `region` of the generated profiles (default: the last sync's --region,
        /// else the session's sso_region)
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
    },
    /// Sign out at the portal; drop the token and every credential cached from it
    /// (default: every sign-in of the config)
    Logout {
        /// A profile whose chain starts at an IAM Identity Center role
        #[arg(conflicts_with = "sso_session")]
        profile: Option<String>,
        /// The [sso-session NAME] to sign out of
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// What is cached: profile, role, expiry, time left (never a secret)
    List,
    /// Drop all of awsrole's cached credentials, or those of PROFILE's own hop
    Clear { profile: Option<String> },
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Export {
            profile,
            format,
            flags,
        } => credentials_cmd::export(&profile, format, &flags),
        Command::Exec {
            profile,
            server,
            flags,
            command,
        } => {
            crate::chain::root::sso::allow_login_here();
            credentials_cmd::exec(&profile, &flags, &command, server)
        }
        Command::Sso { action } => match action {
            SsoAction::Login {
                profile,
                sso_session,
                use_device_code,
                no_browser,
            } => sso_cmd::login_cmd(
                profile.as_deref(),
                sso_session.as_deref(),
                crate::chain::root::sso::login::Options {
                    device_code: use_device_code,
                    no_browser,
                },
            ),
            SsoAction::Logout {
                profile,
                sso_session,
            } => sso_cmd::logout_cmd(profile.as_deref(), sso_session.as_deref()),
            SsoAction::Sync {
                sso_session,
                dry_run,
                name_template,
                keep_removed,
                region,
            } => {
                // Typed by a person: at a terminal, a missing sign-in starts one.
                crate::chain::root::sso::allow_login_here();
                sso_cmd::sync_cmd(
                    sso_session.as_deref(),
                    crate::chain::root::sso::sync::Options {
                        dry_run,
                        template: name_template,
                        keep_removed,
                        region,
                    },
                )
            }
        },
        Command::List { names, sso } => credentials_cmd::list(names, sso),
        Command::Explain { profile, duration } => credentials_cmd::explain(&profile, duration),
        Command::Cache { action } => keys_cmd::cache(action),
        Command::Add { profile, no_verify } => keys_cmd::add(&profile, no_verify),
        Command::Remove { profile } => keys_cmd::remove(&profile),
        Command::Init { shell } => shell_cmd::init(shell),
        Command::Use {
            profile,
            flags,
            server,
            shell,
        } => {
            crate::chain::root::sso::allow_login_here();
            shell_cmd::use_profile(profile.as_deref(), &flags, server, shell)
        }
        Command::ServeShell {
            profile,
            shell_pid,
            flags,
        } => server_cmd::serve_shell(&profile, shell_pid, &flags),
        Command::Refresh { profile, mfa_code } => {
            crate::chain::root::sso::allow_login_here();
            shell_cmd::refresh(profile.as_deref(), mfa_code)
        }
        Command::Unuse { shell } => shell_cmd::unuse(shell),
        Command::Hook { shell } => shell_cmd::hook(shell),
        Command::Allow { path, yes } => shell_cmd::allow(path, yes),
        Command::Deny { path } => shell_cmd::deny(path),
        Command::Prompt => shell_cmd::prompt(),
        Command::Status { verify } => shell_cmd::status(verify),
        Command::Pick => pick_cmd::pick(),
        Command::Man => pick_cmd::man(),
        Command::Completions { shell } => shell_cmd::completions(shell),
        Command::Doctor => keys_cmd::doctor(),
        Command::Rotate { profile } => keys_cmd::rotate(&profile),
        Command::Console(args) => {
            crate::chain::root::sso::allow_login_here();
            console_cmd::console(args)
        }
        Command::Login {
            profile,
            remote,
            share_with_aws_cli,
            yes,
            region,
        } => login_cmd::login_cmd(
            &profile,
            crate::chain::root::login::flow::Options {
                remote,
                share_with_aws_cli,
            },
            yes,
            region.as_deref(),
        ),
        Command::Logout { profile } => login_cmd::logout_cmd(profile.as_deref()),
    }
}

/// Stdout carries only what callers eval or parse; a closed pipe is a quiet exit.
pub use crate::sys::output::{emit, emit_shown, notice};

/// `text` padded with spaces to `width` characters; never a formatting width, which
/// panics past 65,535 (a hostile profile name).
pub fn pad(text: &str, width: usize) -> String {
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
