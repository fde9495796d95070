use awsrole::env::hook;
use awsrole::sys::{output, protect};
use awsrole::{cli, error};
use clap::Parser;

fn main() {
    protect::no_core_dumps();
    // The diff of earlier values leaves the environment before anything can inherit it.
    awsrole::sys::settings::get();
    // The per-prompt path decides "nothing to do" before clap, config or the keyring.
    if let Some(text) = hook::fast_path() {
        let code = match cli::emit(&text) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        std::process::exit(code);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => cli::usage_error(e),
    };
    match cli::run(cli) {
        Ok(cli::Outcome::Done) => {}
        // A status of the command's own (`exec`'s child's): control flow, not an error.
        Ok(outcome @ cli::Outcome::Exit(_)) => std::process::exit(outcome.code()),
        // Leaving a picker or saying no is no error: said plainly, as Ctrl-C at a prompt is.
        Err(e @ error::Error::Cancelled) => {
            output::line(&format!("awsrole: {e}"));
            std::process::exit(e.exit_code());
        }
        Err(e) => {
            output::line(&format!("awsrole: error: {e}"));
            std::process::exit(e.exit_code());
        }
    }
}
