//! The HTTP server itself, over raw loopback connections: keep-alive, a dropped response (B6)
//! closes the connection without a byte, bodies over the limit are refused unread, and dropping
//! the simulator closes its connections.

mod simulator_support;

use atlassian_simulator::{Fault, MAX_REQUEST_BODY, Route, Simulator};
use simulator_support::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A guard against a hang only; no test asserts on time.
const GUARD: Duration = Duration::from_secs(30);

async fn connect(sim: &Simulator) -> TcpStream {
    let addr = sim.base_url().trim_start_matches("http://").to_string();
    TcpStream::connect(addr).await.unwrap()
}

/// Reads one response with a `Content-Length` body; returns the head and the body.
async fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed inside a body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            assert!(buf.is_empty(), "unexpected bytes after the response");
            return (head, body);
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until the peer closes; returns what it sent before closing.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut rest))
        .await
        .expect("the server did not close the connection")
        .unwrap_or_default();
    rest
}

fn get(sim: &Simulator, path: &str) -> String {
    format!(
        "GET /scim/directory/{}{path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {}\r\n\r\n",
        sim.directory_id(),
        sim.tokens().scim_token
    )
}

/// One SCIM page of one user over `stream`, which stays open; returns the page.
async fn get_one_user(sim: &Simulator, stream: &mut TcpStream) -> serde_json::Value {
    stream
        .write_all(get(sim, "/Users?count=1").as_bytes())
        .await
        .unwrap();
    let (head, body) = read_response(stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn one_connection_serves_request_after_request() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let mut stream = connect(&sim).await;
    for _ in 0..3 {
        assert_eq!(get_one_user(&sim, &mut stream).await["itemsPerPage"], 1);
    }
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn b6_a_dropped_response_closes_the_connection_without_a_byte() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    sim.fault(Route::scim("/Users").method("GET"), Fault::DropResponse, 1);
    let mut stream = connect(&sim).await;
    stream
        .write_all(get(&sim, "/Users").as_bytes())
        .await
        .unwrap();
    assert!(read_to_close(&mut stream).await.is_empty());
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].fault.as_deref(), Some("dropped"));
    assert_eq!(log[0].status, 200);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_logged_without_it() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let big = vec![b' '; MAX_REQUEST_BODY + 1];
    let r = send_raw(
        "POST",
        &format!("{}/Users", sim.scim_url()),
        &scim_auth(&sim),
        Some(big),
    )
    .await;
    // The server may close the connection before the client has sent everything.
    if let Ok(r) = r {
        assert_scim_error(&r, 413, None);
    }
    let log = sim.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 413);
    assert!(log[0].body.is_empty());
    assert_eq!(sim.scim_user_count(), 5);
    // The server keeps serving.
    let r = scim(&sim, "GET", "/Users?count=1", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn dropping_the_simulator_closes_its_idle_connections() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let mut stream = connect(&sim).await;
    get_one_user(&sim, &mut stream).await;
    drop(sim);
    assert!(read_to_close(&mut stream).await.is_empty());
}
