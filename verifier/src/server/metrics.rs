//! Prometheus metrics in the text exposition format, kept by hand: a few counters, one
//! histogram and one gauge do not need a metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Answers by (route, status code).
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Completed verifications by (kind, verdict).
    verdicts: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Cumulative-at-render bucket counts (one per bound, then +Inf).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Metrics {
    /// Counts an answer. `route` is the matched route pattern (bounded cardinality).
    pub fn request(&self, route: &'static str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((route, status))
            .or_default() += 1;
    }

    /// Counts a completed verification and its latency.
    pub fn verification(&self, kind: &'static str, verdict: &'static str, took: Duration) {
        *self
            .verdicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((kind, verdict))
            .or_default() += 1;
        let seconds = took.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        if let Some(bucket) = self.buckets.get(slot) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition, with `in_flight` verifications running now.
    pub fn render(&self, in_flight: usize) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP ccr_verifier_http_requests_total HTTP requests answered, by route and status.\n\
             # TYPE ccr_verifier_http_requests_total counter\n",
        );
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "ccr_verifier_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP ccr_verifier_verifications_total Verifications completed, by kind (pdf, token) and verdict.\n\
             # TYPE ccr_verifier_verifications_total counter\n",
        );
        for ((kind, verdict), n) in self
            .verdicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "ccr_verifier_verifications_total{{kind=\"{kind}\",verdict=\"{verdict}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP ccr_verifier_verification_duration_seconds Time to verify, status fetch included.\n\
             # TYPE ccr_verifier_verification_duration_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "ccr_verifier_verification_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "ccr_verifier_verification_duration_seconds_sum {sum}\n\
             ccr_verifier_verification_duration_seconds_count {}",
            self.count.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ccr_verifier_verifications_in_flight Verifications in flight, upload included (bounded by --max-concurrent).\n\
             # TYPE ccr_verifier_verifications_in_flight gauge\n\
             ccr_verifier_verifications_in_flight {in_flight}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.verification("pdf", "VALID", Duration::from_micros(300));
        m.verification("pdf", "VALID", Duration::from_millis(3));
        m.verification("token", "REVOKED", Duration::from_secs(60));
        m.request("/api/v1/verify", 200);
        let text = m.render(2);
        assert!(text.contains("_bucket{le=\"0.0005\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"0.005\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("_count 3\n"), "{text}");
        assert!(
            text.contains("{kind=\"pdf\",verdict=\"VALID\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("{route=\"/api/v1/verify\",status=\"200\"} 1\n"));
        assert!(text.contains("ccr_verifier_verifications_in_flight 2\n"));
    }
}
