//! SQLite's memory allocator, set for the whole process before its first connection opens.
//!
//! SQLite allocates through the C library's `malloc` by default. Flat out on the bench, the
//! group writer's SQLite thread spent about 14 % of its samples in glibc's allocator
//! (`_int_malloc`, `malloc_consolidate`, `_int_free`). [`use_mimalloc`] hands SQLite's
//! allocations to mimalloc, the allocator the `corridor` binary already gives Rust's
//! (src/main.rs). (SQLite's memory statistics, which would take a mutex on each allocation,
//! are off in the build: `.cargo/config.toml`.)

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc};
use libsqlite3_sys as ffi;
use std::os::raw::{c_int, c_void};

extern "C" {
    // Two more of mimalloc's C functions, linked in with the others.
    fn mi_usable_size(p: *const c_void) -> usize;
    fn mi_good_size(size: usize) -> usize;
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    mi_malloc(usize::try_from(n).unwrap_or(0))
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    mi_free(p)
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    mi_realloc(p, usize::try_from(n).unwrap_or(0))
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    c_int::try_from(mi_usable_size(p)).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    let n = usize::try_from(n).unwrap_or(0);
    // SQLite asks at most for about 2 GiB; a size mimalloc would round past it stays as it is.
    c_int::try_from(mi_good_size(n)).unwrap_or(n as c_int)
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Makes SQLite allocate through mimalloc. Must run before anything in the process opens a
/// SQLite connection; afterwards SQLite refuses it (`SQLITE_MISUSE`), and this returns why,
/// leaving SQLite as it was.
pub fn use_mimalloc() -> Result<(), String> {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: sqlite3_config is called before SQLite is initialised (else it answers
    // SQLITE_MISUSE and changes nothing); SQLite copies the methods before it returns.
    // The functions keep SQLite's contract: 8-byte aligned blocks (mimalloc's are 16-byte
    // aligned), xSize of a live block, xRoundup never below its argument.
    let code = unsafe {
        ffi::sqlite3_config(
            ffi::SQLITE_CONFIG_MALLOC,
            &methods as *const ffi::sqlite3_mem_methods,
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(format!(
            "SQLite refused its allocator (code {code}): a connection was opened before"
        ));
    }
    Ok(())
}
