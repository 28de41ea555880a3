//! Asking the user: secrets from stdin or a prompt without echo (never from an argument, which
//! would land in shell history and `ps`), and the confirmation before anything destructive.

use std::io::{BufRead, IsTerminal, Read, Write};

use crate::core::ops::Guard;
use crate::secret::Secret;

use super::exit::{CliError, CliResult};

/// Reads one value per secret field: from stdin, one line each, with `--secret-stdin`; else
/// from a no-echo prompt on the terminal. `fields` are (name, label).
pub fn secrets(fields: &[(&str, &str)], from_stdin: bool) -> CliResult<Vec<Secret>> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("Could not read standard input: {e}")))?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() != fields.len() {
            let labels: Vec<&str> = fields.iter().map(|(_, l)| *l).collect();
            return Err(CliError::usage(format!(
                "Expected {} on standard input, one per line ({}); got {} line(s)",
                fields.len(),
                labels.join(", "),
                lines.len()
            )));
        }
        return Ok(lines.into_iter().map(Secret::new).collect());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(
            "No terminal to ask for the secret on: give it on standard input with --secret-stdin",
        ));
    }
    fields
        .iter()
        .map(|(_, label)| {
            let value = rpassword::prompt_password(format!("{label} (not shown): "))
                .map_err(|e| CliError::usage(format!("Could not read the {label}: {e}")))?;
            let value = value.trim().to_owned();
            if value.is_empty() {
                return Err(CliError::usage(format!("No {label} was typed")));
            }
            Ok(Secret::new(value))
        })
        .collect()
}

/// A key or token given as `-`: read from stdin (the first non-empty line).
pub fn value_from_stdin(what: &str) -> CliResult<Secret> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("Could not read standard input: {e}")))?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(Secret::new)
        .ok_or_else(|| CliError::usage(format!("No {what} on standard input")))
}

/// Asks before a destructive action, as the window does: `question` names what is destroyed;
/// on a prod connection the user types the name. `--yes` skips it; without a terminal and
/// without `--yes` the action is refused.
pub fn confirm(guard: &Guard, question: &str, yes: bool) -> CliResult<()> {
    if yes || *guard == Guard::None {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::usage(format!(
            "{question} Not done: there is no terminal to confirm on. Add --yes to confirm."
        )));
    }
    let ask = |prompt: &str| -> CliResult<String> {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{prompt}");
        let _ = err.flush();
        let mut answer = String::new();
        stdin
            .lock()
            .read_line(&mut answer)
            .map_err(|e| CliError::usage(format!("Could not read the answer: {e}")))?;
        Ok(answer.trim().to_owned())
    };
    let agreed = match guard {
        Guard::TypeName(name) => {
            ask(&format!(
                "{question}\nThis is a prod connection. Type {name} to confirm: "
            ))? == *name
        }
        _ => matches!(
            ask(&format!("{question} [y/N] "))?.to_lowercase().as_str(),
            "y" | "yes"
        ),
    };
    if agreed {
        Ok(())
    } else {
        Err(CliError::usage("Cancelled: nothing was changed"))
    }
}
