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

/// The last instant (whole second) at which a certificate issued at `issued_at` is current.
pub fn valid_until(issued_at: OffsetDateTime) -> OffsetDateTime {
    let issue_date = issued_at.to_offset(MACAO).date();
    let first_expired_day = issue_date + Duration::days(VALIDITY_DAYS + 1);
    first_expired_day
        .with_time(Time::MIDNIGHT)
        .assume_offset(MACAO)
        - Duration::seconds(1)
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
    (valid_until.to_offset(MACAO).date() - at.to_offset(MACAO).date()).whole_days()
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
