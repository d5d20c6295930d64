//! Attestations: who vouches, when and with what evidence, for the checklist lines no
//! machine can judge (budgets, alerts, key rotation...). They live in a small TOML file the
//! team keeps beside its code:
//!
//! ```toml
//! [[attest]]
//! line = "AUTH-3"                      # a checklist line with an `attest` field
//! by = "alice@example.com"             # who vouches
//! date = 2026-10-01                    # when the evidence was checked (YYYY-MM-DD)
//! evidence = "https://wiki.example.com/kling/keys"
//! note = "dev, staging and prod keys listed on the page"   # optional
//! ```
//!
//! An attestation holds for [`VALID_DAYS`] days: evidence for a practice (a rotation
//! schedule, an alert rule) goes stale, and a launch checklist that was true last year says
//! little today. A file may keep the history of a line; the newest attestation counts.
//! Mistakes are errors, not silently ignored lines: an unknown line id, a line that a
//! machine judges, a date in the future, a missing or unknown key.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::checklist;
use crate::HarnessError;

/// How long an attestation holds, in days.
pub const VALID_DAYS: i64 = 90;

/// A calendar date (proleptic Gregorian, UTC), enough for attestation ages without a
/// date-time dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

impl Date {
    /// The date, if `month` and `day` exist in `year`.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
            return None;
        }
        // Howard Hinnant's days_from_civil: years start in March, so leap days end them.
        let y = i64::from(year) - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (i64::from(month) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date { days: era * 146_097 + doe - 719_468 })
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        // Hinnant's civil_from_days, the inverse of `from_ymd`.
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        ((yoe + era * 400 + i64::from(month <= 2)) as i32, month, day)
    }

    /// Today, in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Date { days: secs.div_euclid(86_400) }
    }

    /// `days` later (or earlier, when negative).
    #[must_use]
    pub fn add_days(self, days: i64) -> Date {
        Date { days: self.days + days }
    }

    /// Days from `earlier` to `self`.
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days - earlier.days
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Date::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD date")))
    }
}

/// One person's word for one checklist line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The checklist line id.
    pub line: String,
    /// Who vouches.
    pub by: String,
    /// When the evidence was checked.
    pub date: Date,
    /// Where to see it (a link, a document, a ticket).
    pub evidence: String,
    /// Anything else worth saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Attestation {
    /// The last day it holds.
    pub fn expires(&self) -> Date {
        self.date.add_days(VALID_DAYS)
    }

    /// Whether it still holds on `today`.
    pub fn valid_on(&self, today: Date) -> bool {
        today <= self.expires()
    }
}

/// A file of attestations, checked against the checklist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attestations {
    /// Where they came from, as the user named it.
    pub file: Option<String>,
    /// The newest attestation of each line.
    by_line: HashMap<String, Attestation>,
}

/// The keys an `[[attest]]` table takes, for error messages.
const KEYS: &str = "`line`, `by`, `date`, `evidence` and optionally `note`";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    attest: Vec<toml::Spanned<RawAttestation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttestation {
    line: String,
    by: String,
    date: toml::Value,
    evidence: String,
    #[serde(default)]
    note: Option<String>,
}

impl Attestations {
    /// No attestations (no `--attest` file).
    pub fn none() -> Self {
        Attestations::default()
    }

    /// Parse and check the TOML `text` of `file`, judging dates against `today`.
    pub fn parse(file: &str, text: &str, today: Date) -> Result<Attestations, HarnessError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1;
        let err = |at: Option<usize>, message: String| HarnessError::Attestations {
            file: file.to_owned(),
            line: at.map(line_of),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let what = e.message().trim_end().replace('\n', "; ");
            err(e.span().map(|s| s.start), format!("{what}; each [[attest]] table takes {KEYS}"))
        })?;
        let attestable: Vec<&str> =
            checklist::lines().iter().filter(|l| l.attest.is_some()).map(|l| l.id.as_str()).collect();
        let mut by_line: HashMap<String, Attestation> = HashMap::new();
        for entry in raw.attest {
            let at = Some(entry.span().start);
            let raw = entry.into_inner();
            let Some(line) = checklist::find(&raw.line) else {
                return Err(err(
                    at,
                    format!(
                        "line = {:?} is not a checklist line; the lines to attest are {} (rules/checklist.toml)",
                        raw.line,
                        attestable.join(", ")
                    ),
                ));
            };
            if line.attest.is_none() {
                return Err(err(
                    at,
                    format!(
                        "line = {:?} is judged by machine ({}), not attested; fix what the report says instead. \
                         The lines to attest are {}",
                        raw.line,
                        line.enforced_by.join(", "),
                        attestable.join(", ")
                    ),
                ));
            }
            for (key, value) in [("by", &raw.by), ("evidence", &raw.evidence)] {
                if value.trim().is_empty() {
                    let want = if key == "by" { "who vouches (a name or e-mail)" } else { "a link or document" };
                    return Err(err(at, format!("{} ({}): `{key}` is empty; give {want}", raw.line, line.text)));
                }
            }
            let date = date_of(&raw.date).ok_or_else(|| {
                err(
                    at,
                    format!("{}: date = {} is not a date; write date = 2026-10-01 (YYYY-MM-DD)", raw.line, raw.date),
                )
            })?;
            // A day of slack: the attester's time zone may be ahead of UTC.
            if date.days_since(today) > 1 {
                return Err(err(
                    at,
                    format!(
                        "{}: date = {date} is in the future (today is {today}); use the day the evidence was checked",
                        raw.line
                    ),
                ));
            }
            let attestation = Attestation { line: raw.line, by: raw.by, date, evidence: raw.evidence, note: raw.note };
            // The newest counts; on the same day, the later entry in the file.
            match by_line.get(&attestation.line) {
                Some(kept) if kept.date > attestation.date => {}
                _ => {
                    by_line.insert(attestation.line.clone(), attestation);
                }
            }
        }
        Ok(Attestations { file: Some(file.to_owned()), by_line })
    }

    /// The newest attestation of the line, valid or not.
    pub fn get(&self, line: &str) -> Option<&Attestation> {
        self.by_line.get(line)
    }

    /// How many lines are attested (validly or not).
    pub fn len(&self) -> usize {
        self.by_line.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_line.is_empty()
    }
}

/// A TOML date (`2026-10-01`, or the date of a date-time) or a `"2026-10-01"` string.
fn date_of(value: &toml::Value) -> Option<Date> {
    match value {
        toml::Value::Datetime(dt) => {
            let d = dt.date?;
            Date::from_ymd(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        toml::Value::String(s) => Date::parse(s.trim()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_ymd(2026, 11, 21).unwrap()
    }

    fn parse(text: &str) -> Result<Attestations, String> {
        Attestations::parse("attest.toml", text, today()).map_err(|e| e.to_string())
    }

    #[test]
    fn dates_round_trip_through_the_calendar() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 11, 21), (2100, 12, 31), (1969, 12, 31)] {
            let date = Date::from_ymd(y, m, d).unwrap();
            assert_eq!(date.ymd(), (y, m, d));
        }
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days, 0);
        assert_eq!(Date::from_ymd(2026, 3, 1).unwrap().days_since(Date::from_ymd(2026, 2, 28).unwrap()), 1);
        assert!(Date::from_ymd(2026, 2, 29).is_none());
        assert!(Date::from_ymd(2026, 13, 1).is_none());
        assert_eq!(Date::parse("2026-10-01").unwrap().to_string(), "2026-10-01");
        assert!(Date::parse("2026-1-01").is_none());
        assert!(Date::today() > Date::from_ymd(2025, 1, 1).unwrap());
    }

    #[test]
    fn the_newest_attestation_of_a_line_counts_and_expires_after_90_days() {
        let a = parse(
            r#"
[[attest]]
line = "AUTH-4"
by = "bob"
date = 2026-05-01
evidence = "old runbook"

[[attest]]
line = "AUTH-4"
by = "carol"
date = "2026-10-01"
evidence = "https://wiki/rotation"
note = "rotated in October"
"#,
        )
        .unwrap();
        let got = a.get("AUTH-4").unwrap();
        assert_eq!((got.by.as_str(), got.date.to_string()), ("carol", "2026-10-01".to_owned()));
        assert_eq!(got.expires().to_string(), "2026-12-30");
        assert!(got.valid_on(today()));
        assert!(!got.valid_on(Date::from_ymd(2026, 12, 31).unwrap()));
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn mistakes_are_errors_naming_the_file_line_and_what_is_allowed() {
        let e = parse("[[attest]]\nline = \"AUTH-9\"\nby = \"a\"\ndate = 2026-10-01\nevidence = \"x\"\n").unwrap_err();
        assert!(e.starts_with("attest.toml:1: line = \"AUTH-9\" is not a checklist line"), "{e}");
        assert!(e.contains("AUTH-1, AUTH-3, AUTH-4"), "{e}");

        let e = parse("\n[[attest]]\nline = \"ERR-2\"\nby = \"a\"\ndate = 2026-10-01\nevidence = \"x\"\n").unwrap_err();
        assert!(e.starts_with("attest.toml:2: line = \"ERR-2\" is judged by machine (KL402, errors.backoff)"), "{e}");

        let e = parse("[[attest]]\nline = \"AUTH-3\"\nby = \"a\"\ndate = 2026-11-23\nevidence = \"x\"\n").unwrap_err();
        assert!(e.contains("date = 2026-11-23 is in the future (today is 2026-11-21)"), "{e}");
        // Tomorrow is allowed: the attester may live east of UTC.
        parse("[[attest]]\nline = \"AUTH-3\"\nby = \"a\"\ndate = 2026-11-22\nevidence = \"x\"\n").unwrap();

        let e =
            parse("[[attest]]\nline = \"AUTH-3\"\nby = \"a\"\ndate = \"01/10/2026\"\nevidence = \"x\"\n").unwrap_err();
        assert!(e.contains("is not a date; write date = 2026-10-01 (YYYY-MM-DD)"), "{e}");

        let e = parse("[[attest]]\nline = \"AUTH-3\"\nby = \" \"\ndate = 2026-10-01\nevidence = \"x\"\n").unwrap_err();
        assert!(e.contains("`by` is empty"), "{e}");

        let e = parse("[[attest]]\nline = \"AUTH-3\"\nwho = \"a\"\ndate = 2026-10-01\nevidence = \"x\"\n").unwrap_err();
        assert!(e.starts_with("attest.toml:3: unknown field `who`"), "{e}");
        assert!(e.contains("takes `line`, `by`, `date`, `evidence` and optionally `note`"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");

        let e = parse("[[attest]]\nline = \"AUTH-3\"\ndate = 2026-10-01\nevidence = \"x\"\n").unwrap_err();
        assert!(e.contains("missing field `by`"), "{e}");

        let e = parse("[attest]\nline = 1\n").unwrap_err();
        assert!(e.starts_with("attest.toml:"), "{e}");
        assert!(parse("").unwrap().is_empty());
    }
}
