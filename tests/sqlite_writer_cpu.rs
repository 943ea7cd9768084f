//! The SQLite writer's thread and its connection's thread on one CPU
//! (`Store::connect_with`), in a process of its own: the test reads every thread of the
//! process from `/proc`.

mod common;

use corridor::store::{settlements, Store};
use std::collections::HashSet;

/// A thread of this process: its id, its name and the CPUs it may run on.
#[derive(Debug)]
struct Thread {
    tid: String,
    name: String,
    cpus: Vec<usize>,
}

/// `0-1,4`: 0, 1 and 4.
fn cpu_list(text: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        cpus.extend(first.parse::<usize>().unwrap()..=last.parse::<usize>().unwrap());
    }
    cpus
}

fn allowed(status: &str) -> Vec<usize> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("a Cpus_allowed_list line");
    cpu_list(line)
}

fn threads() -> Vec<Thread> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        // A thread that ended meanwhile has no files left: skipped.
        let (Ok(name), Ok(status)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("status")),
        ) else {
            continue;
        };
        out.push(Thread {
            tid: path.file_name().unwrap().to_string_lossy().into_owned(),
            name: name.trim().to_string(),
            cpus: allowed(&status),
        });
    }
    out
}

/// Opens a store in `dir`, writes one settlement through its writer and reads it back, and
/// returns the threads that appeared meanwhile.
async fn store_and_its_threads(
    dir: &std::path::Path,
    event: &str,
    pinned: bool,
) -> (Store, Vec<Thread>) {
    let before: HashSet<String> = threads().into_iter().map(|t| t.tid).collect();
    let url = format!("sqlite://{}", dir.join("corridor.db").display());
    let store = Store::connect_with(&url, 2, pinned).await.unwrap();
    let id = common::write_received(&store, common::settlement(event)).await;
    // A read too, so that a reader's connection is open.
    let mut conn = store.reader().acquire().await.unwrap();
    assert!(settlements::get(&mut conn, &id).await.unwrap().is_some());
    drop(conn);
    let new = threads()
        .into_iter()
        .filter(|t| !before.contains(&t.tid))
        .collect();
    (store, new)
}

#[test]
fn cpu_lists_read_as_the_kernel_writes_them() {
    assert_eq!(cpu_list("0-1"), vec![0, 1]);
    assert_eq!(cpu_list("3\n"), vec![3]);
    assert_eq!(cpu_list("0,2-4,7"), vec![0, 2, 3, 4, 7]);
}

#[tokio::test]
async fn a_pinned_sqlite_writer_shares_one_cpu_with_its_connection_only() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: CPU affinity is only set on Linux");
        return;
    }
    let all = allowed(&std::fs::read_to_string("/proc/self/status").unwrap());
    if all.len() < 2 {
        eprintln!("SKIPPED: this process may use one CPU only ({all:?}); nothing to pin");
        return;
    }
    let last = *all.last().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (store, new) = store_and_its_threads(dir.path(), "EV-PINNED-1", true).await;
    let writers: Vec<&Thread> = new.iter().filter(|t| t.name == "corridor-writer").collect();
    assert_eq!(writers.len(), 1, "one writer thread: {new:?}");
    assert_eq!(
        writers[0].cpus,
        vec![last],
        "the writer on the last CPU: {new:?}"
    );
    let connections: Vec<&Thread> = new
        .iter()
        .filter(|t| t.name.starts_with("sqlx-sqlite"))
        .collect();
    let (pinned, free): (Vec<&Thread>, Vec<&Thread>) =
        connections.iter().partition(|t| t.cpus == vec![last]);
    assert_eq!(
        pinned.len(),
        1,
        "the writer's connection only, on its CPU: {new:?}"
    );
    assert!(!free.is_empty(), "the readers' connections: {new:?}");
    assert!(
        free.iter().all(|t| t.cpus == all),
        "every other connection on every CPU: {new:?}"
    );
    // The writer goes on writing on the connection it opened anew.
    let id = common::write_received(&store, common::settlement("EV-PINNED-2")).await;
    let mut conn = store.reader().acquire().await.unwrap();
    assert!(settlements::get(&mut conn, &id).await.unwrap().is_some());
    drop(conn);
    store.close().await;

    // Off (`Store::connect`'s choice): the next store's threads keep every CPU.
    let dir = tempfile::tempdir().unwrap();
    let (store, new) = store_and_its_threads(dir.path(), "EV-FREE-1", false).await;
    let ours: Vec<&Thread> = new
        .iter()
        .filter(|t| t.name == "corridor-writer" || t.name.starts_with("sqlx-sqlite"))
        .collect();
    assert!(ours.iter().any(|t| t.name == "corridor-writer"), "{new:?}");
    assert!(
        ours.iter().all(|t| t.cpus == all),
        "nothing pinned: {new:?}"
    );
    store.close().await;
}
