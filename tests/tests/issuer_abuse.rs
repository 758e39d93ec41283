//! Abuse of the issuer's API over HTTP (issue 9): floods of sign-in attempts that must not
//! keep the staff out, hostile supporting documents that must be refused with nothing
//! stored, and answers that must not leak what the caller may not know.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde_json::json;

use ccr_tests::api::{CLERK, IssuerService, LoopbackConnection, SECURITY};

/// Distinct department client ids sent in the flood.
const FLOOD: u32 = 200_000;
/// Requests per keep-alive connection, each connection from its own loopback address.
const PER_CONNECTION: u32 = 25;
/// Client threads.
const THREADS: u32 = 4;
/// Keys per limit table in the flooded service: low, so the flood overflows the tables and
/// the least-recently-used eviction runs (the default is 100 000).
const TRACKED_KEYS: usize = 1_000;

/// The flood's source address for connection `n` (127.1.0.0 onwards).
fn flood_source(n: u32) -> Ipv4Addr {
    let [_, _, high, low] = n.to_be_bytes();
    Ipv4Addr::new(127, 1, high, low)
}

#[test]
fn a_flood_of_department_client_ids_still_lets_the_staff_in() {
    let svc = IssuerService::start(
        None,
        &format!("[application]\nsign_in_tracked_keys = {TRACKED_KEYS}\n"),
        &[],
    );
    let security = svc.staff_token(SECURITY);
    let credentials = svc.api.post(
        "/api/v1/departments/DSAL/credentials",
        Some(&security),
        &json!({}),
    );
    credentials.expect(201);
    let secret = credentials.json()["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    let started = Instant::now();
    let connections = FLOOD / PER_CONNECTION;
    let port = svc.port;
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let (mut refused, mut limited) = (0u32, 0u32);
                for n in (t..connections).step_by(THREADS as usize) {
                    let mut connection = LoopbackConnection::open(flood_source(n), port);
                    for i in 0..PER_CONNECTION {
                        let reply = connection.post(
                            "/api/v1/auth/department/token",
                            &json!({
                                "client_id": format!("FLOOD{}", n * PER_CONNECTION + i),
                                "client_secret": "guess"
                            }),
                        );
                        match reply.status {
                            401 => refused += 1,
                            429 => limited += 1,
                            other => panic!("flood answer {other}: {}", reply.message()),
                        }
                    }
                }
                (refused, limited)
            })
        })
        .collect();
    let (mut refused, mut limited) = (0, 0);
    for worker in workers {
        let (r, l) = worker.join().expect("flood thread");
        refused += r;
        limited += l;
    }
    let elapsed = started.elapsed();
    eprintln!(
        "flood: {FLOOD} client ids from {connections} addresses in {elapsed:?} ({refused} × 401, {limited} × 429)"
    );
    assert_eq!(refused + limited, FLOOD);
    assert!(limited > 0, "the per-address limit never applied");

    // The staff sign in, from an address that flooded the department endpoint too.
    let mut local = LoopbackConnection::open(Ipv4Addr::LOCALHOST, port);
    for i in 0..PER_CONNECTION {
        let _ = local.post(
            "/api/v1/auth/department/token",
            &json!({ "client_id": format!("LOCAL{i}"), "client_secret": "guess" }),
        );
    }
    local
        .post("/api/v1/auth/staff/sign-in", &svc.staff_credentials(CLERK))
        .expect(200);
    // A real department signs in from an address of its own.
    LoopbackConnection::open(Ipv4Addr::new(127, 0, 0, 3), port)
        .post(
            "/api/v1/auth/department/token",
            &json!({ "client_id": "DSAL", "client_secret": secret }),
        )
        .expect(200);
    // The tables stayed bounded: the flood's first address was forgotten (evicted), so it
    // is answered again instead of being held at its limit.
    LoopbackConnection::open(flood_source(0), port)
        .post(
            "/api/v1/auth/department/token",
            &json!({ "client_id": "FLOOD0", "client_secret": "guess" }),
        )
        .expect(401);
    assert!(
        elapsed < Duration::from_secs(300),
        "the flood took {elapsed:?}"
    );
}
