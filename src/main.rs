use awsrole::{cli, error, hook};
use clap::Parser;

fn main() {
    // The per-prompt path decides "nothing to do" before clap, config or the keyring.
    if let Some(code) = hook::fast_path() {
        std::process::exit(code);
    }
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => {}
        Err(error::Error::ChildExit(code)) => std::process::exit(code),
        Err(e) => {
            eprintln!("awsrole: error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
