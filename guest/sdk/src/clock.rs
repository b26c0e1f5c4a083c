//! The wall clock, for a connector that judges dates (a credential's expiry). On wasm32 it is
//! the C library's `time`, over WASI `wasi:clocks/wall-clock`: `std::time::SystemTime::now`
//! would do the same but brings std's panicking error path (~15 KB) into the component.
//! Natively it is `SystemTime`.

/// Seconds since 1970-01-01 UTC; `None` when the clock reads before it.
#[cfg(target_arch = "wasm32")]
pub fn unix_seconds() -> Option<u64> {
    unsafe extern "C" {
        /// wasi-libc's `time_t time(time_t *)`; `time_t` is 64-bit on wasm32-wasi.
        fn time(out: *mut i64) -> i64;
    }
    // SAFETY: `time` accepts a null pointer (it then only returns the time) and has no
    // other precondition.
    let now = unsafe { time(core::ptr::null_mut()) };
    u64::try_from(now).ok()
}

/// Seconds since 1970-01-01 UTC; `None` when the clock reads before it.
#[cfg(not(target_arch = "wasm32"))]
pub fn unix_seconds() -> Option<u64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}
