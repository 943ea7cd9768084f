//! SQLite's allocator in the `corridor` binary (src/store/sqlite_memory.rs), in a process of
//! its own: it can only be set before the first SQLite connection of a process opens.

mod common;

use corridor::store::{settlements, sqlite_memory, Store};
use std::os::raw::c_void;

extern "C" {
    // mimalloc's, linked in by the `mimalloc` crate.
    fn mi_is_in_heap_region(p: *const c_void) -> bool;
}

/// Whether SQLite's next allocation comes from mimalloc's heap.
fn sqlite_allocates_from_mimalloc() -> bool {
    // SAFETY: a block SQLite allocates is freed by SQLite, once.
    unsafe {
        let block = libsqlite3_sys::sqlite3_malloc(4096);
        assert!(!block.is_null(), "SQLite could not allocate 4 KiB");
        let ours = mi_is_in_heap_region(block);
        libsqlite3_sys::sqlite3_free(block);
        ours
    }
}

#[tokio::test]
async fn sqlite_allocates_from_mimalloc_once_set_before_its_first_connection() {
    sqlite_memory::use_mimalloc().expect("nothing has opened SQLite in this process yet");
    assert!(
        sqlite_allocates_from_mimalloc(),
        "SQLite's allocations do not come from mimalloc"
    );

    // A store works on it: a settlement written through the group writer and read back.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("corridor.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    let settlement = common::settlement("EV-MIMALLOC-1");
    let id = common::write_received(&store, settlement.clone()).await;
    let mut conn = store.reader().acquire().await.unwrap();
    let read = settlements::get(&mut conn, &id).await.unwrap();
    assert_eq!(read.map(|r| r.settlement), Some(settlement));
    drop(conn);
    store.close().await;

    // Too late now, and said so; SQLite goes on as it was.
    let again = sqlite_memory::use_mimalloc().unwrap_err();
    assert!(again.contains("opened before"), "{again}");
    assert!(sqlite_allocates_from_mimalloc());
}
