//! The `corridor` binary; see `corridor --help`.

use clap::Parser;

/// Rust's allocations go to mimalloc, and SQLite's too (`use_mimalloc` below). Against glibc's
/// malloc: about 20 % more settlements a second flat out and 10-15 % less CPU each (README,
/// round 12), and SQLite's on mimalloc 0-14 % more again, pair by pair (round 15).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages for this process: mimalloc commits its arenas eagerly where
    // the system overcommits, and with THP on ("always" is common) every 2 MiB region it
    // touches became resident (peak RSS 140-175 MB in the bench against 100-120 without).
    // SAFETY: prctl with PR_SET_THP_DISABLE takes no pointer.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
    // SQLite's allocations to mimalloc too, before anything opens a connection.
    if let Err(why) = corridor::store::sqlite_memory::use_mimalloc() {
        eprintln!("warning: {why}; SQLite keeps the system allocator");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the runtime starts")
        .block_on(run())
}

async fn run() -> std::process::ExitCode {
    let cli = corridor::cli::Cli::parse();
    match corridor::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
