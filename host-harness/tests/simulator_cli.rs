//! `host-harness simulate` through the built binary.

// The simulator crate's own test helpers (loopback HTTP only).
#[path = "../simulator/tests/simulator_support/mod.rs"]
mod simulator_support;

use simulator_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_host-harness"))
            .arg("simulate")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

fn wait_for(path: &std::path::Path) -> toml::Table {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return toml::from_str(&text).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no config at {}", path.display());
}

#[tokio::test]
async fn simulate_writes_a_working_config_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("sim.toml");
    let mut server = spawn(&["--port", "0", "--write-config", cfg_path.to_str().unwrap()]);
    let cfg = wait_for(&cfg_path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the config holds secrets");
    }
    let keys: Vec<&str> = cfg.keys().map(String::as_str).collect();
    for k in [
        "instance_name",
        "scim_url",
        "scim_organization_id",
        "atlassian_api_url",
        "site_url",
        "bitbucket_api_url",
        "bitbucket_workspace",
        "product_user",
        "secrets",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    // Host policy is the operator's: the tenant's file carries none.
    assert!(!keys.contains(&"host"), "{keys:?}");
    let scim_url = cfg["scim_url"].as_str().unwrap();
    let base = cfg["atlassian_api_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"));
    let token = cfg["secrets"]["scim_token"].as_str().unwrap().to_string();
    let r = send(
        "GET",
        &format!("{scim_url}/Users"),
        &Auth::Bearer(token),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["totalResults"], 5, "the demo organization");
    let org = cfg["scim_organization_id"].as_str().unwrap();
    let key = cfg["secrets"]["admin_api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = send(
        "POST",
        &format!("{base}/admin/v2/orgs/{org}/directories/-/groups/search"),
        &Auth::Bearer(key),
        Some(serde_json::json!({})),
    )
    .await;
    let v = r.json();
    let synced = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["externalSynced"] == true)
        .count();
    assert_eq!((v["data"].as_array().unwrap().len(), synced), (5, 2));
    let basic = Auth::Basic(
        cfg["product_user"].as_str().unwrap().into(),
        cfg["secrets"]["product_token"].as_str().unwrap().into(),
    );
    let ws = cfg["bitbucket_workspace"].as_str().unwrap();
    assert_eq!(
        send(
            "GET",
            &format!("{base}/2.0/repositories/{ws}"),
            &basic,
            None
        )
        .await
        .status,
        200
    );

    #[cfg(unix)]
    {
        let pid = server.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = server.0.wait().unwrap();
        assert!(status.success(), "{status:?}");
        let mut out = String::new();
        std::io::Read::read_to_string(server.0.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert!(out.contains("Config written to"), "{out}");
        assert!(out.contains("ada@example.com"), "lists the users: {out}");
        assert!(out.contains("synced from identity provider") && out.contains("admin-managed"));
        assert!(out.contains("Stopped after"));
        assert!(
            !out.contains(cfg["secrets"]["scim_token"].as_str().unwrap()),
            "no secret printed when written to a file"
        );
    }
}

#[tokio::test]
async fn simulate_prints_the_config_without_write_config_and_honours_seed_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        "directory_id = \"dir-cli\"\n[[users]]\nemail = \"solo@example.com\"\n",
    )
    .unwrap();
    // Pick a free port, release it, and ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = spawn(&[
        "--port",
        &port.to_string(),
        "--seed",
        seed.to_str().unwrap(),
    ]);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut out = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        out.push_str(&line);
        out.push('\n');
        if line.starts_with("Serving until") {
            break;
        }
    }
    assert!(out.contains(&format!("http://127.0.0.1:{port}")), "{out}");
    assert!(out.contains("solo@example.com"));
    let start = out.find("instance_name").unwrap();
    let end = out.find("Serving until").unwrap();
    let cfg: toml::Table = toml::from_str(&out[start..end]).unwrap();
    assert_eq!(
        cfg["scim_url"].as_str().unwrap(),
        format!("http://127.0.0.1:{port}/scim/directory/dir-cli")
    );
    let token = cfg["secrets"]["scim_token"].as_str().unwrap().to_string();
    let r = send(
        "GET",
        &format!("{}/Users", cfg["scim_url"].as_str().unwrap()),
        &Auth::Bearer(token),
        None,
    )
    .await;
    assert_eq!(r.json()["totalResults"], 1);
}

#[test]
fn simulate_fails_cleanly_on_a_bad_seed() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("bad.toml");
    std::fs::write(
        &seed,
        "[[groups]]\nname = \"g\"\nmembers = [\"ghost@example.com\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_host-harness"))
        .args(["simulate", "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ghost@example.com"), "{err}");
}

/// Issue 13 item 7: `--write-config` never writes through a file or symlink planted where
/// its temporary file used to be (`F.tmp-simulate`), and the config is owner-only.
#[cfg(unix)]
#[tokio::test]
async fn write_config_ignores_a_planted_temporary_file_or_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("sim.toml");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("sim.tmp-simulate")).unwrap();
    let planted = dir.path().join("sim.toml.tmp-simulate");
    std::fs::write(&planted, "").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _server = spawn(&["--port", "0", "--write-config", cfg_path.to_str().unwrap()]);
    let cfg = wait_for(&cfg_path);
    assert!(cfg.contains_key("secrets"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "");
    let mode = std::fs::metadata(&cfg_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the config holds secrets");
}
