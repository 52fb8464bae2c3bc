//! Ctrl-C and SIGTERM during a sync: the run stops cleanly, and the command's exit
//! code says which signal stopped it.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::sync::Interrupt;

/// Exit code of an interrupted command: 130 after Ctrl-C (SIGINT), 143 after SIGTERM
/// (what systemd, `docker stop` and `timeout` send), as shells report them.
static INTERRUPT_EXIT: AtomicU8 = AtomicU8::new(130);

/// The exit code of a run that was interrupted (see [`interrupt_on_signals`]).
pub fn interrupted_exit_code() -> ExitCode {
    ExitCode::from(INTERRUPT_EXIT.load(Ordering::Relaxed))
}

/// Ctrl-C or SIGTERM sets the interrupt: the sync finishes its current item, commits
/// what it applied, releases its lock and stops.
pub fn interrupt_on_signals() -> Interrupt {
    let interrupt = Interrupt::new();
    let flag = interrupt.clone();
    tokio::spawn(async move {
        let code = wait_for_signal().await;
        INTERRUPT_EXIT.store(code, Ordering::Relaxed);
        let name = if code == 143 {
            "terminated"
        } else {
            "interrupted"
        };
        eprintln!("{name}: finishing the current item, then stopping (again to stop at once)");
        flag.trigger();
        // A second signal stops the process where it stands: committed work is kept,
        // the run's lock is taken over once it goes stale.
        let code = wait_for_signal().await;
        eprintln!("stopped");
        std::process::exit(i32::from(code));
    });
    interrupt
}

/// Waits for Ctrl-C or SIGTERM; the exit code that signal calls for.
async fn wait_for_signal() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => 130,
                _ = term.recv() => 143,
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => 130,
        // No signal can be listened to: never interrupt.
        Err(_) => std::future::pending().await,
    }
}
