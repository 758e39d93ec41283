//! The certificate validity rule of SPEC §2, in Macao time.
//!
//! A certificate issued on Macao date D is current from its issue instant until 23:59:59 on
//! D + 90 days and expired from 00:00:00 on D + 91 days. Macao (Asia/Macau) is UTC+8 all year.

use time::{Duration, OffsetDateTime, Time, UtcOffset};

/// Macao's offset from UTC (no daylight saving).
pub const MACAO: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("valid offset"),
};

/// Days of validity after the issue date.
pub const VALIDITY_DAYS: i64 = 90;

/// The earliest instant a verification or an issue may be judged at (`--at`, `at`,
/// `--issued-at`): the Unix epoch; nothing in this system was signed before.
pub const EARLIEST_INSTANT: OffsetDateTime = time::macros::datetime!(1970-01-01 00:00 UTC);

/// The latest such instant: far past any certificate's life, and far enough from the end of
/// the calendar the date library supports (9999-12-31) that adding a validity period, a
/// list's ttl or a time zone never overflows.
pub const LATEST_INSTANT: OffsetDateTime = time::macros::datetime!(9000-01-01 00:00 UTC);

/// Refuses an instant outside [`EARLIEST_INSTANT`]..=[`LATEST_INSTANT`], saying what `what`
/// (the option or field) may hold.
pub fn check_instant(what: &str, at: OffsetDateTime) -> Result<OffsetDateTime, String> {
    if (EARLIEST_INSTANT..=LATEST_INSTANT).contains(&at) {
        Ok(at)
    } else {
        Err(format!(
            "{what} must lie between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"
        ))
    }
}

/// `at` in Macao time; an instant so near the end of the calendar that the offset cannot be
/// applied stays in UTC rather than panicking.
pub fn in_macao(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(MACAO).unwrap_or(at)
}

/// The last instant (whole second) at which a certificate issued at `issued_at` is current.
/// Saturates at the end of the calendar instead of overflowing.
pub fn valid_until(issued_at: OffsetDateTime) -> OffsetDateTime {
    let issue_date = in_macao(issued_at).date();
    let first_expired_day = issue_date.saturating_add(Duration::days(VALIDITY_DAYS + 1));
    first_expired_day
        .with_time(Time::MIDNIGHT)
        .assume_offset(MACAO)
        .saturating_sub(Duration::seconds(1))
}

/// Where an instant falls relative to a certificate's validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Currency {
    /// Before the issue instant.
    NotYetValid,
    /// Within the validity period.
    Current,
    /// After the last valid instant.
    Expired,
}

/// Classifies `at` against the validity period `[issued_at, valid_until]`.
pub fn currency(
    issued_at: OffsetDateTime,
    valid_until: OffsetDateTime,
    at: OffsetDateTime,
) -> Currency {
    if at < issued_at {
        Currency::NotYetValid
    } else if at > valid_until {
        Currency::Expired
    } else {
        Currency::Current
    }
}

/// Whole Macao calendar days left until the validity end, 0 on the last day, negative after.
pub fn days_remaining(valid_until: OffsetDateTime, at: OffsetDateTime) -> i64 {
    (in_macao(valid_until).date() - in_macao(at).date()).whole_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn validity_ends_at_the_end_of_macao_day_d_plus_90() {
        // 2026-03-01 23:30 UTC is 2026-03-02 07:30 in Macao: D = 2026-03-02.
        let issued = datetime!(2026-03-01 23:30 UTC);
        let end = valid_until(issued);
        assert_eq!(end, datetime!(2026-05-31 23:59:59 +8));
        assert_eq!(
            currency(issued, end, datetime!(2026-05-31 23:59:59 +8)),
            Currency::Current
        );
        assert_eq!(
            currency(issued, end, datetime!(2026-06-01 00:00:00 +8)),
            Currency::Expired
        );
        assert_eq!(
            currency(issued, end, issued - Duration::seconds(1)),
            Currency::NotYetValid
        );
        assert_eq!(days_remaining(end, datetime!(2026-05-31 08:00 +8)), 0);
    }
}
