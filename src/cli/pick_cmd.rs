//! The interactive profile picker (`use` with no profile, `pick`), the confirmation
//! for guarded profiles (`awsrole_confirm = true`), and the man page.

use std::io::IsTerminal;

use super::credentials_cmd::{chain_line, listing_inputs, name_width};
use super::{emit, pad, App, Outcome};
use crate::chain::cache::key::chain_keys;
use crate::chain::cache::{Backend, Cache};
use crate::chain::plan::{plan, ChainPlan};
use crate::chain::root;
use crate::error::{Error, Result};

// The arguments of each command; their help texts are the variants' in `Command`.

#[derive(clap::Args, Debug)]
pub struct PickArgs {}

#[derive(clap::Args, Debug)]
pub struct ManArgs {}

impl PickArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        pick(app)?;
        Ok(Outcome::Done)
    }
}

impl ManArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        man()?;
        Ok(Outcome::Done)
    }
}

/// Whether a person is there to pick or confirm: a terminal to draw on and read from.
pub(crate) fn at_terminal() -> bool {
    std::io::stderr().is_terminal()
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(if cfg!(windows) { "CONIN$" } else { "/dev/tty" })
            .is_ok()
}

/// One row of the picker: name, chain, account, region, what it needs, cached or not.
fn row(name: &str, plan: &ChainPlan, cache: &Cache, backend: Backend, width: usize) -> String {
    let (_, hops) = chain_keys(plan, &root::identity(&plan.root));
    let now = chrono::Utc::now();
    let cached = hops.last().is_some_and(|k| cache.get(k, now).is_some());
    let mut needs = Vec::new();
    if plan.needs_mfa() {
        needs.push("mfa");
    }
    if plan.confirm {
        needs.push("confirm");
    }
    if cached {
        needs.push("cached");
    }
    columns(
        &pad(name, width),
        plan.account().unwrap_or("-"),
        plan.region.as_deref().unwrap_or("-"),
        &needs.join(","),
        &chain_line(plan, backend),
    )
}

/// The picker's column layout, shared by its rows and its header.
fn columns(name: &str, account: &str, region: &str, needs: &str, chain: &str) -> String {
    format!("{name}  {account:12}  {region:14}  {needs:18}  {chain}")
}

/// The fuzzy list, on the terminal, under `question`; `Ok(None)` when the person left
/// with Esc or Ctrl-C.
pub(crate) fn choose(app: &App, question: &str) -> Result<Option<String>> {
    let config = app.config()?;
    let inputs = listing_inputs();
    let backend = app.backend()?;
    let cache = app.listing_cache()?;
    let width = name_width(config, 40);
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for name in config.profiles.keys() {
        let text = match plan(config, name, &inputs) {
            Ok(p) => row(name, &p, cache, backend, width),
            Err(_) => format!(
                "{}  (cannot be used: see awsrole explain {name})",
                pad(name, width)
            ),
        };
        names.push(name.clone());
        rows.push(crate::sys::protect::shown(&text));
    }
    if rows.is_empty() {
        return Err(Error::Usage(format!(
            "there are no profiles in {}",
            config.config_file.display()
        )));
    }
    let term = dialoguer::console::Term::stderr();
    let _interrupt = crate::sys::tty::InterruptGuard::new();
    let header = columns(
        &pad("PROFILE", width),
        "ACCOUNT",
        "REGION",
        "NEEDS",
        "CHAIN",
    );
    let chosen = dialoguer::FuzzySelect::new()
        .with_prompt(format!(
            "{question} (type to filter, Enter to choose, Esc to leave)\n  {header}"
        ))
        .items(&rows)
        .default(0)
        .interact_on_opt(&term);
    // Whatever happened, the cursor is shown again.
    let _ = term.show_cursor();
    match chosen {
        Ok(Some(i)) => Ok(Some(names[i].clone())),
        Ok(None) => Ok(None),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(Error::io("the picker failed", e)),
    }
}

/// `awsrole pick`: the chosen name on stdout, for `awsrole exec "$(awsrole pick)" -- …`.
fn pick(app: &App) -> Result<()> {
    if !at_terminal() {
        return Err(Error::Usage(
            "'awsrole pick' needs a terminal to show the list on".into(),
        ));
    }
    match choose(app, "Pick a profile")? {
        Some(name) => emit(&format!("{name}\n")),
        None => Err(Error::Cancelled),
    }
}

/// For a profile guarded by `awsrole_confirm` (its own, or that of a profile it is
/// reached through): `--yes`, or a yes at the terminal to `action` ("Switch to",
/// "Trust this directory with", …) the profile.
pub(crate) fn confirm(plan: &ChainPlan, yes: bool, action: &str) -> Result<()> {
    let Some(guard) = plan.guarded_by.as_deref() else {
        return Ok(());
    };
    if yes {
        return Ok(());
    }
    let account = plan.account().unwrap_or("unknown");
    let through = if guard == plan.target {
        String::new()
    } else {
        format!(", reached through '{guard}'")
    };
    let refused = || {
        Error::Usage(format!(
            "profile '{}' is guarded by awsrole_confirm (account {account}{through}); confirm at a terminal, or pass --yes",
            plan.target
        ))
    };
    if !at_terminal() {
        return Err(refused());
    }
    let question = format!(
        "{action} {} (account {account}{through})? [y/N] ",
        plan.target
    );
    match crate::sys::tty::ask(&question, false) {
        Ok(answer) if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") => Ok(()),
        Ok(_) => Err(Error::Cancelled),
        Err(_) => Err(refused()),
    }
}

/// `awsrole man`: roff, from the same clap definitions as `--help`.
fn man() -> Result<()> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut out)
        .map_err(|e| Error::io("cannot render the man page", e))?;
    for sub in super::Cli::command().get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let sub = sub.clone().name(format!("awsrole-{}", sub.get_name()));
        clap_mangen::Man::new(sub)
            .render(&mut out)
            .map_err(|e| Error::io("cannot render the man page", e))?;
    }
    emit(&String::from_utf8_lossy(&out))
}
