//! Reading from the person at the terminal, or from a pipe.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};

use crate::secret::Secret;

/// Reads a secret: the first line of stdin when it is piped, else a hidden prompt on
/// the terminal. Never from an argument (it would show in `ps` and shell history).
pub fn read_secret(prompt: &str) -> anyhow::Result<Secret> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("cannot read from the terminal")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read standard input")?;
        line
    };
    let value = value.trim();
    if value.is_empty() {
        bail!("nothing was entered: pipe the value on standard input, or type it at the prompt");
    }
    Ok(Secret::new(value))
}

/// Asks a yes/no question on the terminal; `None` when there is no terminal to ask.
pub fn confirm(question: &str) -> anyhow::Result<Option<bool>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(Some(matches!(
        answer.trim(),
        "y" | "Y" | "yes" | "YES" | "Yes"
    )))
}
