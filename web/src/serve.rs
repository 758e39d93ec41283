//! The connection loop of both services, with its limits.
//!
//! `axum::serve` sets no deadline on reading a request's header and accepts connections
//! without bound: 1,100 clients that send half a header hold as many sockets (and tasks) for
//! ever. Here each connection is served by hyper's HTTP/1.1 server with a timer, so
//! [`ConnectionLimits::header_read_timeout`] closes a connection whose client has not sent a
//! complete header in time, counted from the moment the service waits for one (a new
//! connection, or a kept-alive one between requests). At most
//! [`ConnectionLimits::max_connections`] are open at once; one more is answered `503` with
//! `Retry-After` and closed at once, without a task or a buffer of its own, so the limit holds
//! however fast connections arrive.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service as _;

/// Limits on the connections a service holds open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a complete request header once the service waits for one;
    /// the connection is closed after it.
    pub header_read_timeout: Duration,
    /// Most connections open at once; past it a connection is answered 503 and closed.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// Default header deadline: generous for a phone on a poor network, short for an attacker.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default connection cap: well under the usual 20,000 descriptors of a process.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Accepted header deadlines.
    pub const HEADER_READ_TIMEOUT_RANGE: RangeInclusive<Duration> =
        Duration::from_millis(100)..=Duration::from_secs(300);
    /// Accepted connection caps.
    pub const MAX_CONNECTIONS_RANGE: RangeInclusive<usize> = 1..=65_536;

    /// Limits within the accepted ranges, or a message naming the one that is not.
    pub fn new(header_read_timeout: Duration, max_connections: usize) -> Result<Self, String> {
        if !Self::HEADER_READ_TIMEOUT_RANGE.contains(&header_read_timeout) {
            return Err(format!(
                "the header read timeout must be {} ms to {} s, not {} ms",
                Self::HEADER_READ_TIMEOUT_RANGE.start().as_millis(),
                Self::HEADER_READ_TIMEOUT_RANGE.end().as_secs(),
                header_read_timeout.as_millis()
            ));
        }
        if !Self::MAX_CONNECTIONS_RANGE.contains(&max_connections) {
            return Err(format!(
                "the connection cap must be {} to {}, not {max_connections}",
                Self::MAX_CONNECTIONS_RANGE.start(),
                Self::MAX_CONNECTIONS_RANGE.end()
            ));
        }
        Ok(Self {
            header_read_timeout,
            max_connections,
        })
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Largest request header (hyper's read buffer): 64 KiB per connection, 431 beyond.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Refused connections lingering at once to read their request (see [`refuse`]).
const MAX_REFUSALS: usize = 256;

/// How long a refused connection lingers.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// How long open connections may finish their requests once shutdown is asked.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The answer to a connection past the cap: written with one non-blocking write into the new
/// socket's empty send buffer.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Connection: close\r\n\
Retry-After: 1\r\n\
X-Content-Type-Options: nosniff\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 54\r\n\
\r\n\
Too many open connections; please retry in a moment.\r\n";

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets open
/// connections finish for up to ten seconds. Handlers see the client's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEADER_BYTES);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or memory: wait instead of spinning; a failed
                    // handshake of one client concerns only that client.
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            refuse(stream, &refusals);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A timed-out header, a reset or a malformed request ends only this connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIME, graceful.shutdown()).await;
    Ok(())
}

/// Answers a connection past the cap with 503. Closing a socket whose client's request is
/// still unread makes the kernel send a reset, which can destroy the answer before the client
/// reads it; so the request is read (up to 8 KiB, for at most [`REFUSAL_LINGER`]) after the
/// answer is written. At most [`MAX_REFUSALS`] linger at once; past that, the answer is
/// written and the socket dropped.
fn refuse(stream: tokio::net::TcpStream, refusals: &Arc<Semaphore>) {
    let _ = stream.try_write(OVER_CAPACITY);
    let Ok(permit) = Arc::clone(refusals).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            let mut buf = [0_u8; 1024];
            let mut read = 0;
            while read < 8 * 1024 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
        })
        .await;
        drop(permit);
    });
}

/// Errors of `accept` that concern one client's connection, not the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_their_ranges_are_refused_with_the_range() {
        assert!(ConnectionLimits::new(Duration::from_millis(99), 10).is_err());
        assert!(ConnectionLimits::new(Duration::from_secs(301), 10).is_err());
        assert!(ConnectionLimits::new(Duration::from_secs(1), 0).is_err());
        let e = ConnectionLimits::new(Duration::from_secs(1), 65_537)
            .expect_err("65,537 connections are over the cap");
        assert!(e.contains("1 to 65536"), "{e}");
        assert_eq!(
            ConnectionLimits::new(Duration::from_secs(10), 1024),
            Ok(ConnectionLimits::default())
        );
    }

    #[test]
    fn the_over_capacity_answer_declares_its_length() {
        let text = std::str::from_utf8(OVER_CAPACITY).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{text}"
        );
    }
}
