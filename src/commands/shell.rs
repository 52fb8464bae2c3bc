//! `completions` and `man`: the shell completion script and the manual pages, both
//! generated from the command line's own definition, so they never drift from it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, Args)]
#[command(after_help = "Install, for example:\n  \
    bash: sagasync completions bash > ~/.local/share/bash-completion/completions/sagasync\n  \
    zsh:  sagasync completions zsh > ~/.zfunc/_sagasync (with fpath+=~/.zfunc before compinit)\n  \
    fish: sagasync completions fish > ~/.config/fish/completions/sagasync.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Read it with `sagasync man | man -l -`, or install the pages: \
    sagasync man --dir ~/.local/share/man/man1"
)]
pub struct ManArgs {
    /// Write a page per command (sagasync.1, sagasync-sync-products.1, ...) into this
    /// directory instead of printing sagasync.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script of `shell`.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "sagasync", &mut out);
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `sagasync.1`, or writes every command's page into `--dir`.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
            eprintln!("manual pages written to {}", dir.display());
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command).render(&mut out)?;
            write_stdout(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
