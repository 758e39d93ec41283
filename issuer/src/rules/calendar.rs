//! The bureau's working-day calendar, in Macao time: the processing pledge (standard 5, express
//! 2 working days, counted from the day after all documents were received), the same-day
//! collection timetable for electronic applications, and the Smart Locker collection deadline.
//!
//! Working days exclude Saturdays, Sundays and the configured Macao public holidays. The calendar
//! refuses to compute in a year it has no holiday data for, so a missing year is an error rather
//! than a silently wrong due date.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::macros::{date, time};
use time::{Date, Duration, Month, OffsetDateTime, Time, Weekday};

/// Macao's offset from UTC; every date and time of day here is a Macao one.
pub use ccr_pki::validity::MACAO;

/// Site code: Identification Services Bureau counter, China Plaza.
pub const DSI_HQ: &str = "DSI_HQ";
/// Site code: Macao Government Services Centre, Areia Preta.
pub const CSG_AREIA_PRETA: &str = "CSG_AREIA_PRETA";
/// Site code: Government Services Centre in the Islands.
pub const CSG_ISLANDS: &str = "CSG_ISLANDS";
/// Site code: Government Smart Locker ("Smart Collect").
pub const SMART_LOCKER: &str = "SMART_LOCKER";

/// Document type of the Macao resident identity card, the only one that allows same-day collection.
pub const RESIDENT_ID_CARD: &str = "BIR";
/// Minimum age on the application date for same-day collection.
pub const SAME_DAY_MIN_AGE: i32 = 16;
/// How long a certificate waits in the Smart Locker before it goes back to the DSI_HQ counter.
pub const LOCKER_HOLD: Duration = Duration::days(3);

/// Largest working-day count accepted anywhere in the configuration, to catch typos.
const MAX_WORKING_DAYS: u32 = 60;
const LAST_MINUTE: Time = time!(23:59);

/// Why a calendar computation failed.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The date falls in a year without configured holidays; computing would ignore them.
    #[error(
        "no Macao public holiday data for {year}: add the year's holidays to [calendar] holidays"
    )]
    NoHolidayData {
        /// The year lacking holiday data.
        year: i32,
    },
    /// The `[calendar]` configuration is inconsistent.
    #[error("invalid [calendar] configuration: {0}")]
    Config(String),
    /// No timetable is configured for this collection site code.
    #[error("unknown collection site `{site}` (not in [calendar] collection)")]
    UnknownSite {
        /// The code asked for.
        site: String,
    },
    /// The computation ran past the dates `time` can represent.
    #[error("date out of range")]
    OutOfRange,
}

/// One Macao public holiday (or compensatory rest day) on which the bureau is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The Macao date, `"YYYY-MM-DD"` in TOML (a bare TOML date is accepted too).
    #[serde(with = "date_text")]
    pub date: Date,
    /// English name, shown to staff.
    pub name: String,
}

/// One row of the same-day collection timetable for one site: applications made (Macao time)
/// from `applied_from` to `applied_until`, both inclusive to the minute, can be collected from
/// `collect_at` on the `working_days_later`th working day after the application day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSlot {
    /// Collection site code, e.g. `DSI_HQ`.
    pub site: String,
    /// First minute of the application window, `"HH:MM"`.
    #[serde(with = "time_text")]
    pub applied_from: Time,
    /// Last minute of the application window, `"HH:MM"` (10:15 covers 10:15:59).
    #[serde(with = "time_text")]
    pub applied_until: Time,
    /// 0 for the same day, else the number of working days after the application day.
    #[serde(default)]
    pub working_days_later: u32,
    /// Time of day from which the certificate can be collected, `"HH:MM"`.
    #[serde(with = "time_text")]
    pub collect_at: Time,
}

/// The `[calendar]` section of `issuer.toml`. Every field has a default, so configurations
/// written before the section existed still parse; a `holidays` or `collection` list given in
/// the file replaces the default list whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// Pledge for the standard service, in working days.
    pub standard_working_days: u32,
    /// Pledge for the express service, in working days.
    pub express_working_days: u32,
    /// Days the bureau is closed besides weekends; also defines which years are covered.
    pub holidays: Vec<Holiday>,
    /// The same-day collection timetable, one entry per site and application window.
    pub collection: Vec<CollectionSlot>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            standard_working_days: 5,
            express_working_days: 2,
            holidays: default_holidays(),
            collection: default_collection(),
        }
    }
}

// Macao public holidays for the public administration: the holidays of the Chief Executive's
// dispatch plus the compensatory rest days given when one falls on a Saturday or Sunday (first
// working day after). Half-day closures (afternoons of Lunar New Year's Eve and New Year's Eve)
// are not listed: the bureau works that morning, so the day still counts.
// MUST be checked against the official dispatch published in the Boletim Oficial before
// production; lunar dates and compensatory days are computed, not copied from it.
const MACAO_HOLIDAYS: &[(Date, &str)] = &[
    (date!(2026 - 01 - 01), "New Year's Day"),
    (date!(2026 - 02 - 17), "Lunar New Year's Day"),
    (date!(2026 - 02 - 18), "Second day of Lunar New Year"),
    (date!(2026 - 02 - 19), "Third day of Lunar New Year"),
    (date!(2026 - 04 - 03), "Good Friday"),
    (date!(2026 - 04 - 04), "The Day before Easter"),
    (date!(2026 - 04 - 05), "Ching Ming Festival"),
    (
        date!(2026 - 04 - 06),
        "Compensatory rest day (The Day before Easter)",
    ),
    (
        date!(2026 - 04 - 07),
        "Compensatory rest day (Ching Ming Festival)",
    ),
    (date!(2026 - 05 - 01), "Labour Day"),
    (date!(2026 - 05 - 24), "Buddha's Birthday"),
    (
        date!(2026 - 05 - 25),
        "Compensatory rest day (Buddha's Birthday)",
    ),
    (
        date!(2026 - 06 - 19),
        "Tuen Ng Festival (Dragon Boat Festival)",
    ),
    (
        date!(2026 - 09 - 26),
        "The Day following Mid-Autumn Festival",
    ),
    (
        date!(2026 - 09 - 28),
        "Compensatory rest day (The Day following Mid-Autumn Festival)",
    ),
    (
        date!(2026 - 10 - 01),
        "National Day of the People's Republic of China",
    ),
    (
        date!(2026 - 10 - 02),
        "The day following National Day of the People's Republic of China",
    ),
    (date!(2026 - 10 - 18), "Chung Yeung Festival"),
    (
        date!(2026 - 10 - 19),
        "Compensatory rest day (Chung Yeung Festival)",
    ),
    (date!(2026 - 11 - 02), "All Souls' Day"),
    (date!(2026 - 12 - 08), "Feast of the Immaculate Conception"),
    (date!(2026 - 12 - 20), "Macao S.A.R. Establishment Day"),
    (
        date!(2026 - 12 - 21),
        "Compensatory rest day (Macao S.A.R. Establishment Day)",
    ),
    (date!(2026 - 12 - 22), "Winter Solstice"),
    (date!(2026 - 12 - 24), "Christmas Eve"),
    (date!(2026 - 12 - 25), "Christmas Day"),
    (date!(2027 - 01 - 01), "New Year's Day"),
    (date!(2027 - 02 - 06), "Lunar New Year's Day"),
    (date!(2027 - 02 - 07), "Second day of Lunar New Year"),
    (date!(2027 - 02 - 08), "Third day of Lunar New Year"),
    (
        date!(2027 - 02 - 09),
        "Compensatory rest day (Lunar New Year's Day)",
    ),
    (
        date!(2027 - 02 - 10),
        "Compensatory rest day (Second day of Lunar New Year)",
    ),
    (date!(2027 - 03 - 26), "Good Friday"),
    (date!(2027 - 03 - 27), "The Day before Easter"),
    (
        date!(2027 - 03 - 29),
        "Compensatory rest day (The Day before Easter)",
    ),
    (date!(2027 - 04 - 05), "Ching Ming Festival"),
    (date!(2027 - 05 - 01), "Labour Day"),
    (date!(2027 - 05 - 03), "Compensatory rest day (Labour Day)"),
    (date!(2027 - 05 - 13), "Buddha's Birthday"),
    (
        date!(2027 - 06 - 09),
        "Tuen Ng Festival (Dragon Boat Festival)",
    ),
    (
        date!(2027 - 09 - 16),
        "The Day following Mid-Autumn Festival",
    ),
    (
        date!(2027 - 10 - 01),
        "National Day of the People's Republic of China",
    ),
    (
        date!(2027 - 10 - 02),
        "The day following National Day of the People's Republic of China",
    ),
    (
        date!(2027 - 10 - 04),
        "Compensatory rest day (The day following National Day)",
    ),
    (date!(2027 - 10 - 08), "Chung Yeung Festival"),
    (date!(2027 - 11 - 02), "All Souls' Day"),
    (date!(2027 - 12 - 08), "Feast of the Immaculate Conception"),
    (date!(2027 - 12 - 20), "Macao S.A.R. Establishment Day"),
    (date!(2027 - 12 - 22), "Winter Solstice"),
    (date!(2027 - 12 - 24), "Christmas Eve"),
    (date!(2027 - 12 - 25), "Christmas Day"),
    (
        date!(2027 - 12 - 27),
        "Compensatory rest day (Christmas Day)",
    ),
];

/// The default holiday list: Macao public holidays and compensatory rest days of 2026 and 2027.
pub fn default_holidays() -> Vec<Holiday> {
    MACAO_HOLIDAYS
        .iter()
        .map(|&(date, name)| Holiday {
            date,
            name: name.to_owned(),
        })
        .collect()
}

// The bureau's published same-day collection timetable (seed 001) as we read it; it is
// configuration (`[[calendar.collection]]`), these are only the defaults. The seed's table has
// merged cells; flattened, its rows read `09:00~10:15 | 13:30 | 13:30 | 2 working days`,
// `10:16~13:00 | 17:00 | 17:45`, `13:00~14:30 | 13:30 on the following working day`,
// `14:30~16:00 | 17:45`, `After 16:00 | 13:30 on the following working day`. The only layouts
// that fill every column give (application time → collection):
//   application    DSI_HQ          CSG_AREIA_PRETA       CSG_ISLANDS           SMART_LOCKER
//   09:00–10:15    13:30 same day  13:30 same day        13:30 same day        09:00, 2nd working day
//   10:16–13:00    17:00 same day  17:45 same day        17:45 same day        09:00, 2nd working day
//   13:01–14:30    17:00 same day  13:30 next work. day  13:30 next work. day  09:00, 2nd working day
//   14:31–16:00    17:45 same day  13:30 next work. day  13:30 next work. day  09:00, 2nd working day
//   16:01–23:59    13:30 next working day at all counters                      09:00, 2nd working day
// (the first row's two "13:30" cells cover three counters, so all three are 13:30; the two
// Government Services Centres share every cell, as the second row's "17:45" shows). One other
// layout fits the flattened text: Areia Preta with headquarters (17:00, 17:00, 17:45 in rows
// 2–4) instead of with the Islands; if the bureau confirms that one, change the configuration.
// Applications before the first window open at its start; on non-working days, at the start
// of the next working day.
const WINDOWS: [(Time, Time); 5] = [
    (time!(09:00), time!(10:15)),
    (time!(10:16), time!(13:00)),
    (time!(13:01), time!(14:30)),
    (time!(14:31), time!(16:00)),
    (time!(16:01), LAST_MINUTE),
];
const SAME: u32 = 0;
const NEXT: u32 = 1;
const DEFAULT_TIMETABLE: [(&str, [(u32, Time); 5]); 4] = [
    (
        DSI_HQ,
        [
            (SAME, time!(13:30)),
            (SAME, time!(17:00)),
            (SAME, time!(17:00)),
            (SAME, time!(17:45)),
            (NEXT, time!(13:30)),
        ],
    ),
    (
        CSG_AREIA_PRETA,
        [
            (SAME, time!(13:30)),
            (SAME, time!(17:45)),
            (NEXT, time!(13:30)),
            (NEXT, time!(13:30)),
            (NEXT, time!(13:30)),
        ],
    ),
    (
        CSG_ISLANDS,
        [
            (SAME, time!(13:30)),
            (SAME, time!(17:45)),
            (NEXT, time!(13:30)),
            (NEXT, time!(13:30)),
            (NEXT, time!(13:30)),
        ],
    ),
    (SMART_LOCKER, [(2, time!(09:00)); 5]),
];

/// The default same-day collection timetable (see the table in the source).
pub fn default_collection() -> Vec<CollectionSlot> {
    DEFAULT_TIMETABLE
        .iter()
        .flat_map(|(site, rows)| {
            WINDOWS
                .iter()
                .zip(rows)
                .map(|(&(from, until), &(later, at))| CollectionSlot {
                    site: (*site).to_owned(),
                    applied_from: from,
                    applied_until: until,
                    working_days_later: later,
                    collect_at: at,
                })
        })
        .collect()
}

/// What decides whether an electronic application qualifies for same-day collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SameDayEligibility {
    /// Made through the electronic service (paper applications never qualify).
    pub electronic_application: bool,
    /// Identity document type; only a valid `BIR` qualifies (validity is checked by the caller).
    pub document_type: String,
    /// Applicant's date of birth, to check the minimum age on the application date.
    pub date_of_birth: Date,
    /// Never applied before: first applications need the counter.
    pub first_time_applicant: bool,
    /// A copy is to be transferred to a department.
    pub transfer_requested: bool,
    /// Staff flagged the identity for further verification.
    pub needs_further_identity_verification: bool,
}

/// The first reason an application does not qualify for same-day collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ineligibility {
    /// Not an electronic application.
    PaperApplication,
    /// Identity document is not a Macao resident identity card.
    NotResidentIdentityCard,
    /// Under 16 on the application date.
    UnderAge,
    /// First-time applicant.
    FirstTimeApplicant,
    /// A transfer to a department was requested.
    TransferRequested,
    /// Identity needs further verification.
    FurtherIdentityVerification,
}

impl fmt::Display for Ineligibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PaperApplication => "only electronic applications qualify",
            Self::NotResidentIdentityCard => "a valid Macao resident identity card (BIR) is needed",
            Self::UnderAge => "the applicant must be aged 16 or over",
            Self::FirstTimeApplicant => "first-time applicants do not qualify",
            Self::TransferRequested => {
                "applications with a transfer to a department do not qualify"
            }
            Self::FurtherIdentityVerification => "the identity needs further verification",
        })
    }
}

impl SameDayEligibility {
    /// `None` when same-day collection is allowed for an application on the Macao date
    /// `application_date`, else the first failed condition (to tell the applicant why).
    pub fn ineligibility(&self, application_date: Date) -> Option<Ineligibility> {
        if !self.electronic_application {
            Some(Ineligibility::PaperApplication)
        } else if self.document_type != RESIDENT_ID_CARD {
            Some(Ineligibility::NotResidentIdentityCard)
        } else if !is_of_age(self.date_of_birth, application_date) {
            Some(Ineligibility::UnderAge)
        } else if self.first_time_applicant {
            Some(Ineligibility::FirstTimeApplicant)
        } else if self.transfer_requested {
            Some(Ineligibility::TransferRequested)
        } else if self.needs_further_identity_verification {
            Some(Ineligibility::FurtherIdentityVerification)
        } else {
            None
        }
    }
}

/// Aged `SAME_DAY_MIN_AGE` or over on `on`: from the birthday itself; someone born on 29
/// February has it on 28 February in common years (the month's last day, as civil law counts).
fn is_of_age(date_of_birth: Date, on: Date) -> bool {
    let year = date_of_birth.year() + SAME_DAY_MIN_AGE;
    date_of_birth
        .replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .is_ok_and(|birthday| on >= birthday)
}

/// When a certificate left in the Smart Locker goes back to the DSI_HQ counter: three days
/// (72 hours) after the collection notice, in Macao time.
pub fn locker_deadline(notice: OffsetDateTime) -> OffsetDateTime {
    (notice + LOCKER_HOLD).to_offset(MACAO)
}

/// The validated calendar. Built once from the configuration and shared.
#[derive(Clone, Debug)]
pub struct Calendar {
    standard_working_days: u32,
    express_working_days: u32,
    holidays: BTreeMap<Date, String>,
    years: BTreeSet<i32>,
    /// Per site, its slots sorted and contiguous from the opening time to 23:59.
    sites: BTreeMap<String, Vec<CollectionSlot>>,
}

impl Calendar {
    /// Checks the configuration: pledges of 1 to 60 working days (express no longer than
    /// standard), named holidays without duplicate dates, and per site a timetable whose windows
    /// run without gap or overlap from the opening minute to 23:59, same-day collection after
    /// the window ends.
    pub fn new(config: &CalendarConfig) -> Result<Self, CalendarError> {
        let err = |message: String| Err(CalendarError::Config(message));
        for (field, days) in [
            ("standard_working_days", config.standard_working_days),
            ("express_working_days", config.express_working_days),
        ] {
            if !(1..=MAX_WORKING_DAYS).contains(&days) {
                return err(format!(
                    "{field} must be between 1 and {MAX_WORKING_DAYS}, not {days}"
                ));
            }
        }
        if config.express_working_days > config.standard_working_days {
            return err("express_working_days exceeds standard_working_days".into());
        }

        if config.holidays.is_empty() {
            return err("no holidays: every date would lack holiday data".into());
        }
        let mut holidays = BTreeMap::new();
        for holiday in &config.holidays {
            if holiday.name.trim().is_empty() {
                return err(format!("holiday {} has no name", holiday.date));
            }
            if holidays
                .insert(holiday.date, holiday.name.clone())
                .is_some()
            {
                return err(format!("duplicate holiday date {}", holiday.date));
            }
        }
        let years = holidays.keys().map(|date| date.year()).collect();

        if config.collection.is_empty() {
            return err("the collection timetable is empty".into());
        }
        let mut sites: BTreeMap<String, Vec<CollectionSlot>> = BTreeMap::new();
        for slot in &config.collection {
            sites
                .entry(slot.site.clone())
                .or_default()
                .push(slot.clone());
        }
        for (site, slots) in &mut sites {
            slots.sort_by_key(|slot| slot.applied_from);
            check_timetable(site, slots).map_err(CalendarError::Config)?;
        }

        Ok(Self {
            standard_working_days: config.standard_working_days,
            express_working_days: config.express_working_days,
            holidays,
            years,
            sites,
        })
    }

    /// The pledge in working days for the service chosen.
    pub fn pledge_working_days(&self, express: bool) -> u32 {
        if express {
            self.express_working_days
        } else {
            self.standard_working_days
        }
    }

    /// The configured holiday's name on `date`, if any (for "closed for …" notices).
    pub fn holiday(&self, date: Date) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// Years with holiday data: the only years the calendar computes in.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Site codes of the collection timetable.
    pub fn sites(&self) -> impl Iterator<Item = &str> {
        self.sites.keys().map(String::as_str)
    }

    /// Whether the bureau works on `date` (not a weekend, not a holiday); an error in a year
    /// without holiday data.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        if !self.years.contains(&date.year()) {
            return Err(CalendarError::NoHolidayData { year: date.year() });
        }
        Ok(
            !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
                && !self.holidays.contains_key(&date),
        )
    }

    /// The `n`th working day after `date` (day 1 = first working day strictly after `date`);
    /// `date` itself when `n` is 0.
    pub fn add_working_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day.next_day().ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(day)? {
                counted += 1;
            }
        }
        Ok(day)
    }

    /// Pledge due date for documents received at `received` (any offset; converted to Macao
    /// time): counting starts the day after the Macao date of receipt, whatever day that was.
    pub fn pledge_due(
        &self,
        received: OffsetDateTime,
        express: bool,
    ) -> Result<Date, CalendarError> {
        let received_on = received.to_offset(MACAO).date();
        self.add_working_days(received_on, self.pledge_working_days(express))
    }

    /// Working days strictly after `from` up to and including `to` (for "n working days left"
    /// displays); 0 if `to <= from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.next_day().ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Same-day collection: `None` if not eligible, else the instant (Macao offset) from which
    /// the certificate can be collected at `site`. Times are read to the minute; an application
    /// before opening counts from opening, one on a non-working day from the opening of the next
    /// working day.
    pub fn same_day_collection(
        &self,
        eligibility: &SameDayEligibility,
        applied_at: OffsetDateTime,
        site: &str,
    ) -> Result<Option<OffsetDateTime>, CalendarError> {
        let slots = self
            .sites
            .get(site)
            .ok_or_else(|| CalendarError::UnknownSite {
                site: site.to_owned(),
            })?;
        let local = applied_at.to_offset(MACAO);
        if eligibility.ineligibility(local.date()).is_some() {
            return Ok(None);
        }
        let opening = slots
            .first()
            .map(|slot| slot.applied_from)
            .ok_or_else(|| CalendarError::Config(format!("no timetable for site {site}")))?;
        let (day, minute) = if self.is_working_day(local.date())? {
            let minute = local
                .time()
                .replace_second(0)
                .and_then(|t| t.replace_nanosecond(0))
                .map_err(|_| CalendarError::OutOfRange)?;
            (local.date(), minute.max(opening))
        } else {
            (self.add_working_days(local.date(), 1)?, opening)
        };
        let slot = slots
            .iter()
            .find(|slot| slot.applied_from <= minute && minute <= slot.applied_until)
            .ok_or_else(|| {
                CalendarError::Config(format!("no collection window at {minute} for site {site}"))
            })?;
        let collect_on = self.add_working_days(day, slot.working_days_later)?;
        Ok(Some(
            collect_on.with_time(slot.collect_at).assume_offset(MACAO),
        ))
    }
}

/// One site's timetable, sorted by `applied_from`, must cover opening to 23:59 exactly.
fn check_timetable(site: &str, slots: &[CollectionSlot]) -> Result<(), String> {
    if site.is_empty() || site.contains(char::is_whitespace) {
        return Err(format!(
            "collection site code `{site}` is empty or has spaces"
        ));
    }
    let mut previous: Option<Time> = None;
    for slot in slots {
        let (from, until) = (slot.applied_from, slot.applied_until);
        let window = format!("{site} {}–{}", hh_mm(from), hh_mm(until));
        if [from, until]
            .iter()
            .any(|t| t.second() != 0 || t.nanosecond() != 0)
        {
            return Err(format!("{window}: windows are whole minutes"));
        }
        if from > until {
            return Err(format!("{window}: the window ends before it starts"));
        }
        if let Some(previous) = previous
            && previous + Duration::MINUTE != from
        {
            return Err(format!(
                "{window}: does not start the minute after the previous window ({}): gap or overlap",
                hh_mm(previous)
            ));
        }
        if slot.working_days_later > MAX_WORKING_DAYS {
            return Err(format!(
                "{window}: working_days_later exceeds {MAX_WORKING_DAYS}"
            ));
        }
        if slot.working_days_later == 0 && slot.collect_at <= until {
            return Err(format!(
                "{window}: same-day collection at {} is not after the window",
                hh_mm(slot.collect_at)
            ));
        }
        previous = Some(until);
    }
    if previous != Some(LAST_MINUTE) {
        return Err(format!("{site}: the last window must end at 23:59"));
    }
    Ok(())
}

fn hh_mm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Reads a string or a TOML native date/time value: the `toml` crate hands the latter over as a
/// one-entry map whose value is its text.
fn visit_text_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<String, A::Error> {
    match map.next_entry::<String, String>()? {
        Some((_, text)) => Ok(text),
        None => Err(serde::de::Error::custom("expected a date or time value")),
    }
}

/// `Date` as `"YYYY-MM-DD"`.
mod date_text {
    use serde::de::{self, Deserializer, MapAccess, Visitor};
    use serde::{Serializer, ser};
    use time::Date;
    use time::format_description::BorrowedFormatItem;
    use time::macros::format_description;

    const FORMAT: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        deserializer.deserialize_any(DateVisitor)
    }

    struct DateVisitor;

    impl<'de> Visitor<'de> for DateVisitor {
        type Value = Date;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a date \"YYYY-MM-DD\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
            Date::parse(text, FORMAT)
                .map_err(|e| E::custom(format!("date `{text}` is not YYYY-MM-DD: {e}")))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Date, A::Error> {
            let text = super::visit_text_map(map)?;
            self.visit_str(&text)
        }
    }
}

/// `Time` as `"HH:MM"` (or `"HH:MM:SS"` when it has seconds).
mod time_text {
    use serde::de::{self, Deserializer, MapAccess, Visitor};
    use serde::{Serializer, ser};
    use time::Time;
    use time::format_description::BorrowedFormatItem;
    use time::macros::format_description;

    const MINUTES: &[BorrowedFormatItem<'_>] = format_description!("[hour]:[minute]");
    const SECONDS: &[BorrowedFormatItem<'_>] = format_description!("[hour]:[minute]:[second]");

    pub fn serialize<S: Serializer>(t: &Time, serializer: S) -> Result<S::Ok, S::Error> {
        let format = if t.second() == 0 && t.nanosecond() == 0 {
            MINUTES
        } else {
            SECONDS
        };
        let text = t.format(format).map_err(ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        deserializer.deserialize_any(TimeVisitor)
    }

    struct TimeVisitor;

    impl<'de> Visitor<'de> for TimeVisitor {
        type Value = Time;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a time of day \"HH:MM\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Time, E> {
            Time::parse(text, MINUTES)
                .or_else(|_| Time::parse(text, SECONDS))
                .map_err(|e| E::custom(format!("time `{text}` is not HH:MM: {e}")))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Time, A::Error> {
            let text = super::visit_text_map(map)?;
            self.visit_str(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    fn calendar() -> Calendar {
        Calendar::new(&CalendarConfig::default()).unwrap()
    }

    fn eligible() -> SameDayEligibility {
        SameDayEligibility {
            electronic_application: true,
            document_type: "BIR".into(),
            date_of_birth: date!(1990 - 05 - 17),
            first_time_applicant: false,
            transfer_requested: false,
            needs_further_identity_verification: false,
        }
    }

    #[test]
    fn friday_example_any_time_of_the_macao_day() {
        let cal = calendar();
        for received in [
            datetime!(2026-11-20 00:00 +8),
            datetime!(2026-11-20 12:00 +8),
            datetime!(2026-11-20 23:59:59 +8),
        ] {
            assert_eq!(
                cal.pledge_due(received, false).unwrap(),
                date!(2026 - 11 - 27)
            );
        }
    }

    #[test]
    fn saturday_receipt_counts_from_the_next_working_day() {
        let cal = calendar();
        // Sat 21: Sun skipped, Mon 23 is day 1 … Fri 27 day 5.
        let due = cal.pledge_due(datetime!(2026-11-21 10:00 +8), false);
        assert_eq!(due.unwrap(), date!(2026 - 11 - 27));
    }

    #[test]
    fn weekend_and_holidays_are_skipped() {
        let cal = calendar();
        // Fri 18 Dec 2026: 19–20 weekend (20 also SAR Day), 21 its compensatory rest day,
        // 22 Winter Solstice, 23 = 1, 24–25 Christmas, 26–27 weekend, 28 = 2, 29 = 3, 30 = 4,
        // 31 = 5.
        let received = datetime!(2026-12-18 15:00 +8);
        assert_eq!(
            cal.pledge_due(received, false).unwrap(),
            date!(2026 - 12 - 31)
        );
        assert_eq!(
            cal.pledge_due(received, true).unwrap(),
            date!(2026 - 12 - 28)
        );
    }

    #[test]
    fn express() {
        let cal = calendar();
        let due = cal.pledge_due(datetime!(2026-11-20 09:00 +8), true);
        assert_eq!(due.unwrap(), date!(2026 - 11 - 24));
    }

    #[test]
    fn late_evening_utc_is_the_next_macao_day() {
        let cal = calendar();
        // 17:30 UTC on Thu 19 is 01:30 on Fri 20 in Macao: due Fri 27, not Thu 26.
        let received = datetime!(2026-11-19 17:30 UTC);
        assert_eq!(
            cal.pledge_due(received, false).unwrap(),
            date!(2026 - 11 - 27)
        );
        let just_before = datetime!(2026-11-19 15:59:59 UTC);
        assert_eq!(
            cal.pledge_due(just_before, false).unwrap(),
            date!(2026 - 11 - 26)
        );
    }

    #[test]
    fn received_on_a_holiday() {
        let cal = calendar();
        // Thu 1 Oct 2026 National Day: 2 Oct holiday, 3–4 weekend, 5 = 1 … 9 = 5.
        let due = cal.pledge_due(datetime!(2026-10-01 11:00 +8), false);
        assert_eq!(due.unwrap(), date!(2026 - 10 - 09));
        // Lunar New Year 2027 (Sat 6 – Mon 8, compensatory 9–10): Fri 5 Feb → Thu 11 = 1.
        assert_eq!(
            cal.add_working_days(date!(2027 - 02 - 05), 1).unwrap(),
            date!(2027 - 02 - 11)
        );
    }

    #[test]
    fn year_without_holiday_data_is_refused() {
        let cal = calendar();
        // Mon 27 Dec 2027 is a rest day; 28–31 are days 1–4, day 5 would be in 2028.
        let err = cal
            .pledge_due(datetime!(2027-12-24 10:00 +8), false)
            .unwrap_err();
        assert!(matches!(err, CalendarError::NoHolidayData { year: 2028 }));
        assert!(err.to_string().contains("2028"));
        let err = cal.is_working_day(date!(2025 - 05 - 05)).unwrap_err();
        assert!(matches!(err, CalendarError::NoHolidayData { year: 2025 }));
    }

    #[test]
    fn working_days_between_and_zero() {
        let cal = calendar();
        let (fri, next_fri) = (date!(2026 - 11 - 20), date!(2026 - 11 - 27));
        assert_eq!(cal.working_days_between(fri, next_fri).unwrap(), 5);
        assert_eq!(cal.working_days_between(next_fri, fri).unwrap(), 0);
        assert_eq!(cal.working_days_between(fri, fri).unwrap(), 0);
        let (dec18, dec31) = (date!(2026 - 12 - 18), date!(2026 - 12 - 31));
        assert_eq!(cal.working_days_between(dec18, dec31).unwrap(), 5);
        assert_eq!(cal.add_working_days(fri, 0).unwrap(), fri);
        assert!(!cal.is_working_day(date!(2026 - 12 - 21)).unwrap());
        assert!(cal.is_working_day(date!(2026 - 12 - 23)).unwrap());
        assert_eq!(cal.holiday(date!(2026 - 12 - 22)), Some("Winter Solstice"));
    }

    /// Collection instant for an application at `applied` at `site`.
    fn collect(cal: &Calendar, applied: OffsetDateTime, site: &str) -> OffsetDateTime {
        cal.same_day_collection(&eligible(), applied, site)
            .unwrap()
            .unwrap()
    }

    /// Every row of seed 001's same-day collection table, at every site, at both ends of
    /// each application window (and before opening and at the end of the day).
    #[test]
    fn timetable_rows_at_every_site() {
        let cal = calendar();
        // Mon 23 Nov 2026; Tue 24 and Wed 25 are working days.
        let same = |h, m| {
            date!(2026 - 11 - 23)
                .with_hms(h, m, 0)
                .unwrap()
                .assume_offset(MACAO)
        };
        let next = datetime!(2026-11-24 13:30 +8);
        // "2 working days" at the Smart Locker, whatever the time of application.
        let locker = datetime!(2026-11-25 09:00 +8);
        // (seed row, applied, DSI_HQ, CSG_AREIA_PRETA, CSG_ISLANDS)
        let rows = [
            (
                "09:00~10:15 (before opening)",
                datetime!(2026-11-23 07:45 +8),
                same(13, 30),
                same(13, 30),
                same(13, 30),
            ),
            (
                "09:00~10:15",
                datetime!(2026-11-23 09:00 +8),
                same(13, 30),
                same(13, 30),
                same(13, 30),
            ),
            (
                "09:00~10:15",
                datetime!(2026-11-23 10:15:59 +8),
                same(13, 30),
                same(13, 30),
                same(13, 30),
            ),
            (
                "10:16~13:00",
                datetime!(2026-11-23 10:16 +8),
                same(17, 0),
                same(17, 45),
                same(17, 45),
            ),
            (
                "10:16~13:00",
                datetime!(2026-11-23 13:00:30 +8),
                same(17, 0),
                same(17, 45),
                same(17, 45),
            ),
            (
                "13:00~14:30",
                datetime!(2026-11-23 13:01 +8),
                same(17, 0),
                next,
                next,
            ),
            (
                "13:00~14:30",
                datetime!(2026-11-23 14:30 +8),
                same(17, 0),
                next,
                next,
            ),
            (
                "14:30~16:00",
                datetime!(2026-11-23 14:31 +8),
                same(17, 45),
                next,
                next,
            ),
            (
                "14:30~16:00",
                datetime!(2026-11-23 16:00:59 +8),
                same(17, 45),
                next,
                next,
            ),
            (
                "After 16:00",
                datetime!(2026-11-23 16:01 +8),
                next,
                next,
                next,
            ),
            (
                "After 16:00",
                datetime!(2026-11-23 23:59:59 +8),
                next,
                next,
                next,
            ),
        ];
        let mut seen = BTreeSet::new();
        for (row, applied, hq, areia_preta, islands) in rows {
            seen.insert(row.split(' ').next().unwrap_or_default());
            for (site, expected) in [
                (DSI_HQ, hq),
                (CSG_AREIA_PRETA, areia_preta),
                (CSG_ISLANDS, islands),
                (SMART_LOCKER, locker),
            ] {
                let got = collect(&cal, applied, site);
                assert_eq!(
                    got, expected,
                    "row {row}: {site} for an application at {applied}"
                );
                assert_eq!(got.offset(), MACAO);
            }
        }
        // Every row of the seed's table is checked.
        assert_eq!(
            seen,
            BTreeSet::from([
                "09:00~10:15",
                "10:16~13:00",
                "13:00~14:30",
                "14:30~16:00",
                "After"
            ])
        );
    }

    #[test]
    fn collection_from_other_offsets_and_non_working_days() {
        let cal = calendar();
        // 01:30 UTC is 09:30 in Macao.
        let applied = datetime!(2026-11-23 01:30 UTC);
        assert_eq!(
            collect(&cal, applied, DSI_HQ),
            datetime!(2026-11-23 13:30 +8)
        );
        // Friday evening: Monday 13:30.
        let applied = datetime!(2026-11-20 17:00 +8);
        assert_eq!(
            collect(&cal, applied, DSI_HQ),
            datetime!(2026-11-23 13:30 +8)
        );
        // Saturday afternoon counts as Monday 09:00.
        let applied = datetime!(2026-11-21 15:00 +8);
        assert_eq!(
            collect(&cal, applied, DSI_HQ),
            datetime!(2026-11-23 13:30 +8)
        );
        assert_eq!(
            collect(&cal, applied, CSG_ISLANDS),
            datetime!(2026-11-23 13:30 +8)
        );
        assert_eq!(
            collect(&cal, applied, SMART_LOCKER),
            datetime!(2026-11-25 09:00 +8)
        );
        // Christmas Eve (holiday) → Mon 28 Dec 09:00; the locker two working days later.
        let applied = datetime!(2026-12-24 10:00 +8);
        assert_eq!(
            collect(&cal, applied, DSI_HQ),
            datetime!(2026-12-28 13:30 +8)
        );
        assert_eq!(
            collect(&cal, applied, SMART_LOCKER),
            datetime!(2026-12-30 09:00 +8)
        );
        // Friday 18 Dec after 16:00: next working day is Wed 23.
        let applied = datetime!(2026-12-18 16:30 +8);
        assert_eq!(
            collect(&cal, applied, CSG_AREIA_PRETA),
            datetime!(2026-12-23 13:30 +8)
        );
    }

    #[test]
    fn unknown_site_is_an_error() {
        let cal = calendar();
        let err = cal
            .same_day_collection(&eligible(), datetime!(2026-11-23 10:00 +8), "TAIPA")
            .unwrap_err();
        assert!(matches!(err, CalendarError::UnknownSite { ref site } if site == "TAIPA"));
        assert!(err.to_string().contains("TAIPA"));
    }

    #[test]
    fn every_ineligibility_reason() {
        let cal = calendar();
        let applied = datetime!(2026-11-23 10:00 +8);
        let check = |e: &SameDayEligibility| {
            let result = cal.same_day_collection(e, applied, DSI_HQ).unwrap();
            (e.ineligibility(applied.date()), result)
        };
        assert_eq!(check(&eligible()).0, None);

        type Change = fn(&mut SameDayEligibility);
        let cases: [(Change, Ineligibility); 6] = [
            (
                |e| e.electronic_application = false,
                Ineligibility::PaperApplication,
            ),
            (
                |e| e.document_type = "TI".into(),
                Ineligibility::NotResidentIdentityCard,
            ),
            (
                |e| e.date_of_birth = date!(2010 - 11 - 24),
                Ineligibility::UnderAge,
            ),
            (
                |e| e.first_time_applicant = true,
                Ineligibility::FirstTimeApplicant,
            ),
            (
                |e| e.transfer_requested = true,
                Ineligibility::TransferRequested,
            ),
            (
                |e| e.needs_further_identity_verification = true,
                Ineligibility::FurtherIdentityVerification,
            ),
        ];
        for (change, reason) in cases {
            let mut e = eligible();
            change(&mut e);
            assert_eq!(check(&e), (Some(reason), None), "{reason}");
        }

        // 15 years 364 days on 23 Nov 2026 vs 16 exactly on the birthday.
        let mut e = eligible();
        e.date_of_birth = date!(2010 - 11 - 24);
        assert_eq!(check(&e).1, None);
        e.date_of_birth = date!(2010 - 11 - 23);
        assert_eq!(check(&e), (None, Some(datetime!(2026-11-23 13:30 +8))));
    }

    #[test]
    fn age_uses_the_macao_date_and_leap_birthdays() {
        let cal = calendar();
        let mut e = eligible();
        e.date_of_birth = date!(2010 - 11 - 24);
        // 16:30 UTC on 23 Nov is 00:30 on the 24th, the 16th birthday, in Macao.
        let applied = datetime!(2026-11-23 16:30 UTC);
        assert!(
            cal.same_day_collection(&e, applied, DSI_HQ)
                .unwrap()
                .is_some()
        );
        assert!(!is_of_age(date!(2012 - 02 - 29), date!(2028 - 02 - 28)));
        assert!(is_of_age(date!(2012 - 02 - 29), date!(2028 - 02 - 29)));
        assert!(is_of_age(date!(2084 - 02 - 29), date!(2100 - 02 - 28)));
        assert!(!is_of_age(date!(2084 - 02 - 29), date!(2100 - 02 - 27)));
    }

    #[test]
    fn locker_deadline_is_72_hours_later() {
        let notice = datetime!(2026-11-25 09:05 UTC);
        let deadline = locker_deadline(notice);
        assert_eq!(deadline, datetime!(2026-11-28 17:05 +8));
        assert_eq!(deadline.offset(), MACAO);
        assert_eq!(deadline - notice, Duration::hours(72));
    }

    #[test]
    fn default_holidays_are_sane() {
        let holidays = default_holidays();
        assert!(
            holidays
                .iter()
                .all(|h| matches!(h.date.year(), 2026 | 2027))
        );
        assert!(holidays.windows(2).all(|w| w[0].date < w[1].date));
        for h in holidays
            .iter()
            .filter(|h| h.name.starts_with("Compensatory"))
        {
            assert!(!matches!(
                h.date.weekday(),
                Weekday::Saturday | Weekday::Sunday
            ));
        }
        let cal = calendar();
        assert_eq!(cal.covered_years().collect::<Vec<_>>(), [2026, 2027]);
        assert_eq!(cal.sites().count(), 4);
        assert_eq!(cal.pledge_working_days(false), 5);
        assert_eq!(cal.pledge_working_days(true), 2);
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct File {
        #[serde(default)]
        calendar: CalendarConfig,
    }

    #[test]
    fn toml_defaults_and_round_trip() {
        let empty: File = toml::from_str("[calendar]\n").unwrap();
        assert_eq!(empty.calendar, CalendarConfig::default());
        let missing: File = toml::from_str("").unwrap();
        assert_eq!(missing.calendar, CalendarConfig::default());

        let text = toml::to_string(&File {
            calendar: CalendarConfig::default(),
        })
        .unwrap();
        assert!(text.contains("date = \"2026-12-22\""), "{text}");
        assert!(text.contains("applied_from = \"09:00\""), "{text}");
        let back: File = toml::from_str(&text).unwrap();
        assert_eq!(back.calendar, CalendarConfig::default());
    }

    #[test]
    fn toml_custom_section() {
        let text = r#"
            [calendar]
            standard_working_days = 4

            [[calendar.holidays]]
            date = "2028-01-01"
            name = "New Year's Day"

            [[calendar.holidays]]
            date = 2028-01-26
            name = "Lunar New Year's Day"

            [[calendar.collection]]
            site = "DSI_HQ"
            applied_from = "09:00"
            applied_until = "15:59"
            collect_at = 17:30:00

            [[calendar.collection]]
            site = "DSI_HQ"
            applied_from = "16:00"
            applied_until = "23:59"
            working_days_later = 1
            collect_at = "13:30"
        "#;
        let file: File = toml::from_str(text).unwrap();
        let config = file.calendar;
        assert_eq!(config.standard_working_days, 4);
        assert_eq!(config.express_working_days, 2);
        assert_eq!(config.holidays[1].date, date!(2028 - 01 - 26));
        assert_eq!(config.collection[0].collect_at, time!(17:30));
        let cal = Calendar::new(&config).unwrap();
        // Tue 25 Jan 2028: Wed 26 holiday, Thu 27 = 1, Fri 28 = 2, Mon 31 = 3, Tue 1 Feb = 4.
        let due = cal.pledge_due(datetime!(2028-01-25 10:00 +8), false);
        assert_eq!(due.unwrap(), date!(2028 - 02 - 01));
        let at = collect(&cal, datetime!(2028-01-25 16:00 +8), DSI_HQ);
        assert_eq!(at, datetime!(2028-01-27 13:30 +8));

        let unknown = "[calendar]\nstandard_days = 5\n";
        assert!(toml::from_str::<File>(unknown).is_err());
        let bad_date = "[[calendar.holidays]]\ndate = \"2028-13-01\"\nname = \"x\"\n";
        let err = toml::from_str::<File>(bad_date).unwrap_err();
        assert!(err.to_string().contains("2028-13-01"), "{err}");
    }

    fn config_error(config: &CalendarConfig) -> String {
        match Calendar::new(config) {
            Err(CalendarError::Config(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn validation_errors() {
        let with = |change: fn(&mut CalendarConfig)| {
            let mut config = CalendarConfig::default();
            change(&mut config);
            config_error(&config)
        };
        let message = with(|c| {
            c.holidays.push(Holiday {
                date: date!(2026 - 12 - 25),
                name: "Christmas again".into(),
            })
        });
        assert!(
            message.contains("duplicate holiday date 2026-12-25"),
            "{message}"
        );
        let message = with(|c| c.standard_working_days = 0);
        assert!(message.contains("standard_working_days"), "{message}");
        let message = with(|c| c.standard_working_days = 61);
        assert!(message.contains("standard_working_days"), "{message}");
        let message = with(|c| c.express_working_days = 0);
        assert!(message.contains("express_working_days"), "{message}");
        let message = with(|c| c.express_working_days = 6);
        assert!(message.contains("exceeds"), "{message}");
        let message = with(|c| c.holidays.clear());
        assert!(message.contains("no holidays"), "{message}");
        let message = with(|c| c.holidays[0].name = " ".into());
        assert!(message.contains("no name"), "{message}");
    }

    #[test]
    fn timetable_validation() {
        let with = |change: fn(&mut Vec<CollectionSlot>)| {
            let mut config = CalendarConfig::default();
            change(&mut config.collection);
            config_error(&config)
        };
        // Gap: DSI_HQ second window starts at 10:17.
        let message = with(|c| c[1].applied_from = time!(10:17));
        assert!(message.contains("gap or overlap"), "{message}");
        // Overlap.
        let message = with(|c| c[1].applied_from = time!(10:15));
        assert!(message.contains("gap or overlap"), "{message}");
        // Last window not reaching 23:59.
        let message = with(|c| c[4].applied_until = time!(22:00));
        assert!(message.contains("23:59"), "{message}");
        // Same-day collection before the window ends.
        let message = with(|c| c[0].collect_at = time!(10:00));
        assert!(message.contains("not after the window"), "{message}");
        // Reversed window.
        let message = with(|c| c[0].applied_until = time!(08:00));
        assert!(message.contains("ends before it starts"), "{message}");
        let message = with(|c| c[0].applied_from = time!(09:00:30));
        assert!(message.contains("whole minutes"), "{message}");
        let message = with(|c| c[19].working_days_later = 61);
        assert!(message.contains("working_days_later"), "{message}");
        let message = with(Vec::clear);
        assert!(message.contains("empty"), "{message}");
        let message = with(|c| c.iter_mut().for_each(|s| s.site = "DSI HQ".into()));
        assert!(message.contains("spaces"), "{message}");
    }
}
