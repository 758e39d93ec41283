//! Slow and numerous clients cannot hold either service (issue 9): a client that has not sent
//! a complete request header within the header deadline is disconnected, while other clients
//! are served; past the connection cap a connection gets 503 at once.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ccr_tests::api::IssuerService;
use ccr_tests::{Server, Workspace, bin_command, free_port, http_get, spawn_until_healthy};

/// The header deadline the services are started with in these tests (the default, set
/// explicitly so the test does not depend on it).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// `verifier serve` with the test's header deadline and `extra` arguments.
fn start_verifier(ws: &Workspace, extra: &[&str]) -> (Server, u16) {
    let trust = ws.export_trust();
    let port = free_port();
    let mut cmd = bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(&trust.root)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--header-read-timeout-ms")
        .arg(HEADER_TIMEOUT.as_millis().to_string())
        .args(extra);
    (spawn_until_healthy(cmd, port, "verifier serve"), port)
}

/// Opens `n` connections that stall: even ones send half a request header, odd ones nothing.
fn stalled_connections(port: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            if i % 2 == 0 {
                stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                    .expect("write half a header");
            }
            stream
        })
        .collect()
}

/// Whether the server has closed `stream` (end of stream or reset), waiting up to `wait`.
fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0_u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

/// 1,000 stalled connections are held open, normal requests are answered meanwhile, and every
/// stalled connection is closed once the header deadline has passed.
fn slow_clients_are_closed_while_others_are_served(port: u16) {
    let opened = Instant::now();
    let mut stalled = stalled_connections(port, 1000);
    eprintln!("1,000 stalled connections opened in {:?}", opened.elapsed());
    for _ in 0..20 {
        let (code, _) = http_get(port, "/healthz", "").expect("healthz answers");
        assert_eq!(code, 200);
    }
    // Still open after the normal requests were answered, before the deadline: the service
    // served them while holding the stalled ones (it did not simply refuse those).
    let served = opened.elapsed();
    assert!(
        served < HEADER_TIMEOUT - Duration::from_secs(1),
        "the normal requests took {served:?}, near the header deadline: the test shows nothing"
    );
    for stream in stalled.iter_mut().step_by(97) {
        assert!(
            !closed_by_server(stream, Duration::from_millis(10)),
            "a stalled connection was closed before the header deadline"
        );
    }
    std::thread::sleep(HEADER_TIMEOUT.saturating_sub(opened.elapsed()));
    let open: Vec<usize> = stalled
        .iter_mut()
        .enumerate()
        .filter_map(|(i, stream)| (!closed_by_server(stream, Duration::from_secs(3))).then_some(i))
        .collect();
    assert!(
        open.is_empty(),
        "{} of 1,000 stalled connections still open {:?} after they were opened (first: {:?})",
        open.len(),
        opened.elapsed(),
        &open[..open.len().min(10)]
    );
    let (code, _) = http_get(port, "/healthz", "").expect("healthz answers");
    assert_eq!(code, 200);
}

#[test]
fn verifier_closes_a_thousand_slow_header_connections_and_serves_others() {
    let ws = Workspace::new();
    let (_server, port) = start_verifier(&ws, &[]);
    slow_clients_are_closed_while_others_are_served(port);
}

#[test]
fn issuer_closes_a_thousand_slow_header_connections_and_serves_others() {
    let svc = IssuerService::start(
        None,
        &format!(
            "[server]\nheader_read_timeout_ms = {}\n",
            HEADER_TIMEOUT.as_millis()
        ),
        &[],
    );
    slow_clients_are_closed_while_others_are_served(svc.port);
}

#[test]
fn past_the_connection_cap_a_connection_gets_503_at_once_and_the_cap_frees_up() {
    let ws = Workspace::new();
    let (_server, port) = start_verifier(&ws, &["--max-connections", "40"]);
    let opened = Instant::now();
    let _stalled = stalled_connections(port, 40);
    // Connections count once accepted: on a busy machine the accept loop may need a moment
    // to take all 40, so ask until the cap shows (each answered request frees its place).
    let (code, head) = loop {
        let (code, head) = http_get(port, "/healthz", "").expect("an answer");
        if code == 503 || opened.elapsed() > HEADER_TIMEOUT / 2 {
            break (code, head);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, 503, "{head}");
    assert!(head.contains("Retry-After: 1"), "{head}");
    assert!(opened.elapsed() < HEADER_TIMEOUT, "the 503 came late");
    std::thread::sleep(
        (HEADER_TIMEOUT + Duration::from_millis(500)).saturating_sub(opened.elapsed()),
    );
    let (code, _) = http_get(port, "/healthz", "").expect("an answer");
    assert_eq!(
        code, 200,
        "the cap did not free up after the header deadline"
    );
}

#[test]
fn connection_limits_outside_their_ranges_stop_the_service_from_starting() {
    let ws = Workspace::new();
    let trust = ws.export_trust();
    let out = ccr_tests::run(
        bin_command("verifier")
            .arg("serve")
            .arg("--trust")
            .arg(&trust.root)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", free_port()))
            .args(["--max-connections", "0"]),
    );
    assert_eq!(out.code, Some(2), "{}", out.all_output());
    assert!(
        out.all_output().contains("connection cap"),
        "{}",
        out.all_output()
    );

    let ws = Workspace::new();
    let config = ws.home.join("issuer.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("\n[server]\nheader_read_timeout_ms = 50\n");
    std::fs::write(&config, text).expect("write config");
    let out = ws.issuer("serve", ["--listen", &format!("127.0.0.1:{}", free_port())]);
    assert_ne!(out.code, Some(0), "{}", out.all_output());
    assert!(
        out.all_output().contains("header read timeout"),
        "{}",
        out.all_output()
    );
}
