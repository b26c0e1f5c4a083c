//! The `host-harness` binary run as a process, as a user would, shared by the CLI tests: one
//! compiled-component cache for all of them (inside the test target directory), and the
//! caller's own home directory (saved integrations, journals, the audit log).
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The compiled-component cache every CLI test shares.
const CACHE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-cache");

/// The binary with `args`, the shared cache, and `home` as its home directory (when given).
pub fn command(home: Option<&Path>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-harness"));
    command.args(args).env("XDG_CACHE_HOME", CACHE);
    if let Some(home) = home {
        command.env("HOST_HARNESS_HOME", home);
    }
    command
}

/// Runs the binary to its end.
pub fn run(home: Option<&Path>, args: &[&str]) -> Output {
    command(home, args).output().expect("host-harness runs")
}

/// Runs the binary to its end, feeding it `stdin` (or an empty, closed stdin).
pub fn run_with_stdin(home: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(home, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("host-harness runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes())
            .expect("stdin takes the input");
    }
    drop(pipe);
    child.wait_with_output().expect("host-harness ends")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output then standard error: everything the user saw.
pub fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// Runs the binary with a watchdog: a run that has not ended after a minute is killed and
/// fails the test. Only a failure detector for reads that would otherwise never end (a
/// `/dev/zero` read without a bound): a passing run ends long before it, however slow the
/// machine.
pub fn run_guarded(home: Option<&Path>, args: &[&str]) -> Output {
    let child = command(home, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("host-harness runs");
    let pid = child.id();
    let (done, ended) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done.send(());
        out
    });
    if ended
        .recv_timeout(std::time::Duration::from_secs(60))
        .is_err()
    {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        let _ = waiter.join();
        panic!("host-harness {args:?} did not end: an unbounded read?");
    }
    waiter
        .join()
        .expect("the waiter ends")
        .expect("host-harness ends")
}
