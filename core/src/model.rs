//! The W3C Web Annotation Data Model (<https://www.w3.org/TR/annotation-model/>) as factmark
//! reads and writes it.
//!
//! # factmark's vocabulary, in standard terms
//!
//! ```json
//! {
//!   "@context": "http://www.w3.org/ns/anno.jsonld",
//!   "id": "urn:uuid:…", "type": "Annotation", "motivation": "assessing",
//!   "created": "2025-01-02T03:04:05.678Z",
//!   "body": [
//!     {"type": "TextualBody", "purpose": "assessing", "value": "unverified"},
//!     {"type": "TextualBody", "purpose": "commenting", "value": "the note", "format": "text/plain"},
//!     {"type": "SpecificResource", "purpose": "linking", "source": "https://evidence.example/a"}
//!   ],
//!   "target": {
//!     "type": "SpecificResource", "source": "https://news.example/story",
//!     "selector": [
//!       {"type": "TextQuoteSelector", "exact": "…", "prefix": "…", "suffix": "…"},
//!       {"type": "TextPositionSelector", "start": 120, "end": 164}
//!     ],
//!     "state": {"type": "TimeState", "sourceDate": "2025-01-02T03:04:05.678Z"}
//!   }
//! }
//! ```
//!
//! **Evidence links** are `SpecificResource` bodies whose `source` is the URL and whose
//! `purpose` is `linking`. The model only allows `purpose` on a Specific Resource or a
//! Textual Body: an External Web Resource carrying a purpose (`{"id": url, "purpose":
//! "linking"}`) fails the W3C MUST assertion 3.3.5, and a Textual Body whose text happens to be
//! a URL says "here is some text", not "here is a resource". A Specific Resource with a purpose
//! is the spec's own pattern for "this resource, used for this reason" (its semantic-tagging
//! example has the same shape), so generic W3C tools see a real link. On read, factmark also
//! accepts the two other shapes (External Web Resource with `purpose: linking`, Textual Body with
//! `purpose: linking` whose value is the URL) so evidence written by other tools is shown.
//!
//! The target's `state` is a `TimeState` whose `sourceDate` is the creation time: the quote
//! describes the article as it read then, which matters when a news page is later edited.
//!
//! # Foreign annotations
//!
//! Annotations written by Hypothesis, Recogito or other systems must survive a read-modify-write
//! round trip. Every object level (annotation, body, target, selector, state) keeps the
//! properties it does not model in an `extra` map, in their original order. Parsing is
//! structural only (wrong JSON types are errors naming the field); [`Annotation::validate`]
//! then checks meaning. Required of every annotation: `type` "Annotation", a non-empty `id`
//! without spaces, at least one target, and `@context` (defaults to the W3C context when absent)
//! naming the W3C context. Everything else (motivation, body, created, creator, selectors, …)
//! is optional but checked when present: timestamps are RFC 3339, quotes are non-empty,
//! positions have `start <= end`, assessing bodies carry a known flag value, text bodies are
//! within [`MAX_NOTE_CHARS`], linking bodies are http(s) URLs.
//!
//! Deliberate leniencies, because real tools write them: a Specific Resource target without
//! `source` (RecogitoJS leaves the page implied; see [`Annotation::fill_missing_source`]),
//! relative ids such as RecogitoJS's `#uuid` (factmark's own ids are always absolute), and
//! single-element arrays, which are written back as a single value (the same thing in
//! JSON-LD).

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::{self, Map, Value};

/// Properties an object carries that factmark does not model; written back unchanged.
pub type Extra = Map;

/// The JSON-LD context of the Web Annotation Data Model.
pub const ANNO_CONTEXT: &str = "http://www.w3.org/ns/anno.jsonld";

pub const MOTIVATION_ASSESSING: &str = "assessing";
pub const PURPOSE_ASSESSING: &str = "assessing";
pub const PURPOSE_COMMENTING: &str = "commenting";
pub const PURPOSE_LINKING: &str = "linking";
pub const FORMAT_PLAIN_TEXT: &str = "text/plain";

/// Longest note (and any textual body), in code points. Enough for a fact-checker's
/// reasoning, small enough that one annotation cannot eat a localStorage quota.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// Most evidence links on one annotation.
pub const MAX_EVIDENCE: usize = 10;
/// Longest URL or IRI, in bytes (what common browsers and servers handle safely).
pub const MAX_URL_CHARS: usize = 2_048;
/// Longest quoted passage, in code points.
pub const MAX_QUOTE_CHARS: usize = 20_000;
/// Longest quote prefix or suffix, in code points (factmark writes 32).
pub const MAX_CONTEXT_CHARS: usize = 1_000;
/// Most bodies, targets, and selectors per target: far above real use, bounds hostile input.
pub const MAX_BODIES: usize = 100;
pub const MAX_TARGETS: usize = 100;
pub const MAX_SELECTORS: usize = 32;

/// Why data was refused: which field (a JSON path such as `target.selector[0].exact`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// What the reader says about a passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    Unverified,
    Fabricated,
}

impl Flag {
    pub const ALL: [Flag; 2] = [Flag::Unverified, Flag::Fabricated];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Unverified => "unverified",
            Flag::Fabricated => "fabricated",
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flag {
    type Err = ValidationError;

    /// Case and surrounding spaces are forgiven; other words are not.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim();
        Flag::ALL
            .into_iter()
            .find(|f| word.eq_ignore_ascii_case(f.as_str()))
            .ok_or_else(|| {
                ValidationError::new(
                    "flag",
                    format!(
                        "unknown flag value {}; expected \"unverified\" or \"fabricated\"",
                        quoted(s)
                    ),
                )
            })
    }
}

/// W3C TextQuoteSelector: the passage and a little context either side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TextQuoteSelector {
    pub exact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

/// W3C TextPositionSelector, in Unicode code points (spec 4.2.5); `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TextPositionSelector {
    pub start: usize,
    pub end: usize,
}

/// What anchoring needs from a target: the quote, and the position if one was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Selectors {
    pub quote: TextQuoteSelector,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<TextPositionSelector>,
}

impl TextQuoteSelector {
    fn check(&self, path: Field<'_>) -> Result<(), ValidationError> {
        let exact = path.key("exact");
        if self.exact.trim().is_empty() {
            return Err(exact.error("the quoted passage is empty; select some text"));
        }
        check_chars(&self.exact, MAX_QUOTE_CHARS, exact, "quoted passage")?;
        for (key, value) in [("prefix", &self.prefix), ("suffix", &self.suffix)] {
            if let Some(v) = value {
                check_chars(v, MAX_CONTEXT_CHARS, path.key(key), key)?;
            }
        }
        Ok(())
    }
}

impl TextPositionSelector {
    fn check(&self, path: Field<'_>) -> Result<(), ValidationError> {
        if self.start > self.end {
            return Err(path.key("start").error(format!(
                "start ({}) is after end ({})",
                self.start, self.end
            )));
        }
        Ok(())
    }
}

impl Selectors {
    /// The checks [`Annotation::validate`] applies to a target's quote and position.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let path = Field::root("selector");
        self.quote.check(path)?;
        if let Some(p) = &self.position {
            p.check(path)?;
        }
        Ok(())
    }
}

/// One selector as it appears in a target's `selector` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub kind: SelectorKind,
    /// `refinedBy`: selectors applied within the part this one selects.
    pub refined_by: Vec<Selector>,
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectorKind {
    TextQuote(TextQuoteSelector),
    TextPosition(TextPositionSelector),
    /// A selector given by reference (a bare IRI); `refined_by` and `extra` stay empty.
    Iri(String),
    /// Any other selector type (RangeSelector, FragmentSelector, XPathSelector, …), by its
    /// `type`; its properties are in `extra`.
    Other(String),
}

impl Selector {
    pub fn quote(quote: TextQuoteSelector) -> Self {
        Selector {
            kind: SelectorKind::TextQuote(quote),
            refined_by: Vec::new(),
            extra: Extra::new(),
        }
    }

    pub fn position(position: TextPositionSelector) -> Self {
        Selector {
            kind: SelectorKind::TextPosition(position),
            refined_by: Vec::new(),
            extra: Extra::new(),
        }
    }

    pub fn type_name(&self) -> Option<&str> {
        match &self.kind {
            SelectorKind::TextQuote(_) => Some("TextQuoteSelector"),
            SelectorKind::TextPosition(_) => Some("TextPositionSelector"),
            SelectorKind::Iri(_) => None,
            SelectorKind::Other(t) => Some(t),
        }
    }
}

/// A `state` of a Specific Resource.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub kind: StateKind,
    pub refined_by: Vec<State>,
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    Time(TimeState),
    Iri(String),
    /// HttpRequestState or anything else, by its `type`; properties in `extra`.
    Other(String),
}

/// W3C TimeState: the source as it was at a time, or within a time range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeState {
    pub source_date: Vec<String>,
    pub source_date_start: Option<String>,
    pub source_date_end: Option<String>,
    /// `cached`: copies of the source as it was.
    pub cached: Vec<String>,
}

impl State {
    pub fn at(time: String) -> Self {
        State {
            kind: StateKind::Time(TimeState {
                source_date: vec![time],
                ..TimeState::default()
            }),
            refined_by: Vec::new(),
            extra: Extra::new(),
        }
    }
}

/// A Specific Resource: part of a `source`, chosen by selectors, in a state, for a purpose.
/// Used as a target (the passage) and as a body (an evidence link).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpecificResource {
    pub id: Option<String>,
    /// `type`: "SpecificResource" when written by factmark; absent in Hypothesis data.
    pub kind: Option<String>,
    /// An IRI string, or an External Web Resource object with an `id`.
    pub source: Option<Value>,
    pub purpose: Vec<String>,
    pub selector: Vec<Selector>,
    pub state: Vec<State>,
    pub extra: Extra,
}

impl SpecificResource {
    /// The source's IRI, whether given as a string or as a resource with an `id`.
    pub fn source_iri(&self) -> Option<&str> {
        match self.source.as_ref()? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            _ => None,
        }
    }

    fn has_purpose(&self, purpose: &str) -> bool {
        self.purpose.iter().any(|p| p == purpose)
    }
}

/// An embedded textual body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextualBody {
    pub id: Option<String>,
    pub purpose: Vec<String>,
    pub value: String,
    pub format: Option<String>,
    pub extra: Extra,
}

impl TextualBody {
    fn has_purpose(&self, purpose: &str) -> bool {
        self.purpose.iter().any(|p| p == purpose)
    }
}

/// One body of an annotation.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A body given by reference.
    Iri(String),
    Textual(TextualBody),
    Specific(SpecificResource),
    /// An External Web Resource, a Choice/Set, or anything else, kept as written.
    Resource(Extra),
}

/// One target of an annotation.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A whole resource given by reference.
    Iri(String),
    Specific(SpecificResource),
    /// An External Web Resource, a Choice/Set/Composite, or anything else, kept as written.
    Resource(Extra),
}

impl Target {
    pub fn source(&self) -> Option<&str> {
        match self {
            Target::Iri(s) => Some(s),
            Target::Specific(r) => r.source_iri(),
            Target::Resource(m) => m.get("id").and_then(Value::as_str),
        }
    }
}

/// A W3C Web Annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// `@context`: a string or an array; must name [`ANNO_CONTEXT`].
    pub context: Value,
    pub id: String,
    /// `type`: "Annotation".
    pub kind: String,
    pub motivation: Vec<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub creator: Option<Value>,
    pub body: Vec<Body>,
    /// Written as a single object when there is one.
    pub target: Vec<Target>,
    pub extra: Extra,
}

/// Everything needed to create a flag. `id` comes from [`new_id`] (or a server), `now` from
/// [`rfc3339_from_unix_ms`]: core reads no clock and no random source, so it runs in wasm.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFlag<'a> {
    pub source: &'a str,
    pub selectors: Selectors,
    pub flag: Flag,
    pub note: Option<&'a str>,
    pub evidence: Vec<String>,
    pub id: String,
    pub now: String,
}

/// A version 4 UUID URN from 16 random bytes (the caller's CSPRNG, e.g. `crypto.getRandomValues`).
pub fn new_id(mut random: [u8; 16]) -> String {
    random[6] = (random[6] & 0x0f) | 0x40; // version 4: random
    random[8] = (random[8] & 0x3f) | 0x80; // the RFC 4122 variant
    uuid_urn(random)
}

/// `urn:uuid:` and `bytes` as a hyphenated UUID (8-4-4-4-12 lowercase hex digits). Written out
/// rather than through the `uuid` crate's formatter, which is larger in the wasm.
pub fn uuid_urn(bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(45);
    out.push_str("urn:uuid:");
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// `2025-01-02T03:04:05.678Z` for a Unix time in milliseconds (what JavaScript's `Date.now()`
/// gives). Times outside years 1–9999 are clamped to that range.
pub fn rfc3339_from_unix_ms(ms: i64) -> String {
    const MIN_S: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX_S: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (secs, millis) = if secs < MIN_S {
        (MIN_S, 0)
    } else if secs > MAX_S {
        (MAX_S, 999)
    } else {
        (secs, millis)
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        millis
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (era * 400 + yoe + i64::from(month <= 2), month, day)
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An instant read from a timestamp: seconds since the Unix epoch and the nanoseconds after.
/// Orders by time, whatever offset the timestamp was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub unix_seconds: i64,
    pub nanos: u32,
}

/// Parses an RFC 3339 timestamp of the shape the W3C assertions accept
/// (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `t`/space/`z` allowed).
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| u32::try_from(decimal(b.get(r)?)?).ok();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Leap seconds (:60) are refused: Python's datetime (the validator) refuses them too.
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.as_bytes();
        let mut n = 0;
        while n < digits.len() && digits[n].is_ascii_digit() {
            // Nanosecond precision; further digits are read and dropped.
            if n < 9 {
                nanos = nanos * 10 + u32::from(digits[n] - b'0');
            }
            n += 1;
        }
        if n == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - n.min(9) as u32);
        rest = &frac[n..];
    }
    let offset_s: i64 = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) =>
        {
            let oh = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
            let om = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(Timestamp {
        unix_seconds: local - offset_s,
        nanos,
    })
}

/// The value of ASCII decimal digits; `None` if any byte is not one or the value overflows.
/// By hand, not `str::parse`: a stored list has thousands of timestamps and positions, and the
/// size-optimized wasm build would call the general parser, and iterator adapters here, out of
/// line for each field.
#[inline(always)]
pub(crate) fn decimal(digits: &[u8]) -> Option<usize> {
    let mut n = 0usize;
    let mut i = 0;
    while i < digits.len() {
        let d = digits[i].wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(d))?;
        i += 1;
    }
    Some(n)
}

fn check_timestamp(value: &str, field: Field<'_>) -> Result<(), ValidationError> {
    if parse_timestamp(value).is_none() {
        return Err(field.error(format!(
            "{} is not an RFC 3339 timestamp such as 2025-01-02T03:04:05Z",
            quoted(value)
        )));
    }
    Ok(())
}

/// An evidence link must be an absolute http(s) URL naming a host: it is shown as a link, so
/// `javascript:`, `data:` and the like are refused, and so are credentials (`user@host` is a
/// classic way to disguise where a link goes).
pub fn validate_evidence_url(s: &str) -> Result<(), ValidationError> {
    check_url(s, Field::root("evidence"))
}

fn check_url(s: &str, field: Field<'_>) -> Result<(), ValidationError> {
    let refuse = |reason: String| Err(field.error(reason));
    if s.is_empty() {
        return refuse("the link is empty".into());
    }
    if s.len() > MAX_URL_CHARS {
        return refuse(format!(
            "the link is longer than {MAX_URL_CHARS} characters"
        ));
    }
    if has_space_or_control(s) {
        return refuse("a link must not contain spaces or control characters".into());
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return refuse(format!(
            "{} is not a web address; it must start with https:// or http://",
            quoted(s)
        ));
    };
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return refuse(format!(
            "only http and https links are allowed, not {}",
            quoted(scheme)
        ));
    }
    let Some(rest) = rest.strip_prefix("//") else {
        return refuse(format!(
            "{} must have the form {scheme}://host/…",
            quoted(s)
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return refuse("a link must not contain a user name or password".into());
    }
    // host[:port], where an IPv6 host is bracketed: [::1]:8080
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) => (
                addr,
                rest.strip_prefix(':')
                    .or(Some(rest).filter(|r| !r.is_empty())),
            ),
            None => return refuse(format!("{} has an unclosed [ in its host", quoted(s))),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port {
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(format!("{} is not a port number", quoted(port)));
        }
    }
    if host.is_empty() {
        return refuse(format!("{} names no host", quoted(s)));
    }
    Ok(())
}

/// An IRI: non-empty, no spaces or control characters, of sane length; `absolute` also
/// requires a scheme (`name:`).
fn check_iri(s: &str, field: Field<'_>, absolute: bool) -> Result<(), ValidationError> {
    if s.is_empty() {
        return Err(field.error("must not be empty"));
    }
    if s.len() > MAX_URL_CHARS {
        return Err(field.error(format!("longer than {MAX_URL_CHARS} characters")));
    }
    if has_space_or_control(s) {
        return Err(field.error(format!(
            "{} contains spaces or control characters; not an IRI",
            quoted(s)
        )));
    }
    if absolute && !has_scheme(s) {
        return Err(field.error(format!(
            "{} is not an absolute IRI (such as https://… or urn:…)",
            quoted(s)
        )));
    }
    Ok(())
}

/// Whitespace or a control character anywhere in `s`. Printable ASCII (`!` to `~`) has
/// neither; text with anything else is decoded and asked.
fn has_space_or_control(s: &str) -> bool {
    if s.bytes().all(|b| b > b' ' && b < 0x7f) {
        return false;
    }
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn has_scheme(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) => {
            let mut b = scheme.bytes();
            b.next().is_some_and(|c| c.is_ascii_alphabetic())
                && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

fn check_chars(s: &str, max: usize, field: Field<'_>, what: &str) -> Result<(), ValidationError> {
    // Bytes bound code points from above: skip the count for short strings.
    if s.len() > max && s.chars().count() > max {
        return Err(field.error(format!(
            "the {what} is {} characters long; the limit is {max}",
            s.chars().count()
        )));
    }
    Ok(())
}

/// Where a checked value sits (`target.selector[0].exact`), spelled out only when a check
/// fails: validating a valid annotation builds no strings.
#[derive(Clone, Copy)]
struct Field<'a> {
    parent: Option<&'a Field<'a>>,
    step: Step,
}

#[derive(Clone, Copy)]
enum Step {
    Key(&'static str),
    Index(usize),
}

impl<'a> Field<'a> {
    const fn root(key: &'static str) -> Field<'static> {
        Field {
            parent: None,
            step: Step::Key(key),
        }
    }

    fn key(&'a self, key: &'static str) -> Field<'a> {
        Field {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    /// Item `i` of a list; a list of one is written as a single value, so it has no index.
    fn at(&'a self, i: usize, many: bool) -> Field<'a> {
        if many {
            Field {
                parent: Some(self),
                step: Step::Index(i),
            }
        } else {
            *self
        }
    }

    fn error(self, reason: impl Into<String>) -> ValidationError {
        ValidationError::new(self.to_string(), reason)
    }
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Key(key) if self.parent.is_some() => write!(f, ".{key}"),
            Step::Key(key) => f.write_str(key),
            Step::Index(i) => write!(f, "[{i}]"),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize, many: bool) -> String {
    if many {
        format!("{path}[{i}]")
    } else {
        path.to_owned()
    }
}

fn normalize_note(note: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    check_chars(note, MAX_NOTE_CHARS, Field::root("note"), "note")?;
    Ok(Some(note.to_owned()))
}

/// Trims, drops blanks and repeats, checks count and each URL.
fn normalize_evidence(evidence: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(evidence.len());
    for (i, url) in evidence.iter().enumerate() {
        let url = url.trim();
        if url.is_empty() || out.iter().any(|u| u == url) {
            continue;
        }
        check_url(url, Field::root("evidence").at(i, true))?;
        out.push(url.to_owned());
    }
    if out.len() > MAX_EVIDENCE {
        return Err(ValidationError::new(
            "evidence",
            format!(
                "{} links given; at most {MAX_EVIDENCE} are allowed",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn evidence_body(url: String) -> Body {
    Body::Specific(SpecificResource {
        kind: Some("SpecificResource".into()),
        source: Some(Value::String(url)),
        purpose: vec![PURPOSE_LINKING.into()],
        ..SpecificResource::default()
    })
}

impl Body {
    /// The URL of an evidence link, in any of the shapes described in the module docs.
    pub fn evidence_url(&self) -> Option<&str> {
        match self {
            Body::Specific(r) if r.has_purpose(PURPOSE_LINKING) => r.source_iri(),
            Body::Textual(t) if t.has_purpose(PURPOSE_LINKING) => Some(t.value.as_str()),
            Body::Resource(m) if purposes_include(m.get("purpose"), PURPOSE_LINKING) => {
                m.get("id").and_then(Value::as_str)
            }
            _ => None,
        }
    }

    /// A body that states a flag: a textual body with purpose "assessing".
    fn flag_text(&self) -> Option<&str> {
        match self {
            Body::Textual(t) if t.has_purpose(PURPOSE_ASSESSING) => Some(&t.value),
            _ => None,
        }
    }
}

fn purposes_include(v: Option<&Value>, purpose: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == purpose,
        Some(Value::Array(a)) => a.iter().any(|p| p.as_str() == Some(purpose)),
        _ => false,
    }
}

impl Annotation {
    /// A new factmark flag on a passage of `source`.
    pub fn new_flag(new: NewFlag<'_>) -> Result<Annotation, ValidationError> {
        let NewFlag {
            source,
            selectors,
            flag,
            note,
            evidence,
            id,
            now,
        } = new;
        check_iri(&id, Field::root("id"), true)?;
        check_timestamp(&now, Field::root("created"))?;
        check_iri(source, Field::root("target.source"), true)?;
        let path = Field::root("target.selector");
        selectors.quote.check(path)?;
        let mut selector = vec![Selector::quote(selectors.quote)];
        if let Some(p) = selectors.position {
            p.check(path)?;
            selector.push(Selector::position(p));
        }
        let mut a = Annotation {
            context: Value::String(ANNO_CONTEXT.into()),
            id,
            kind: "Annotation".into(),
            motivation: vec![MOTIVATION_ASSESSING.into()],
            created: Some(now.clone()),
            modified: None,
            creator: None,
            body: Vec::new(),
            target: vec![Target::Specific(SpecificResource {
                kind: Some("SpecificResource".into()),
                source: Some(Value::String(source.into())),
                selector,
                state: vec![State::at(now)],
                ..SpecificResource::default()
            })],
            extra: Extra::new(),
        };
        a.set_flag(flag);
        a.set_note(note)?;
        a.set_evidence(evidence)?;
        a.validate()?;
        Ok(a)
    }

    /// Parses and validates an annotation read from storage or the network.
    pub fn from_value(value: Value) -> Result<Annotation, ValidationError> {
        let a = Annotation::from_json(value)?;
        a.validate()?;
        Ok(a)
    }

    pub fn to_value(&self) -> Value {
        // Through the JSON text, so the model has one writer ([`WriteJson`]); export and the
        // outbox, which call this, are not hot paths.
        // (No `expect`: it would format the error with `Debug`, more code in the wasm.)
        json::from_str(&self.to_json()).unwrap_or_else(|_| panic!("the model writes valid JSON"))
    }

    /// The annotation as compact JSON, as factmark stores and sends it.
    pub fn to_json(&self) -> String {
        json_of(self)
    }

    /// The flag, if the annotation carries one factmark understands.
    pub fn flag(&self) -> Option<Flag> {
        self.body
            .iter()
            .filter_map(Body::flag_text)
            .find_map(|v| v.parse().ok())
    }

    fn note_index(&self) -> Option<usize> {
        let textual = |purpose: Option<&str>| {
            self.body.iter().position(|b| match (b, purpose) {
                (Body::Textual(t), Some(p)) => t.has_purpose(p),
                (Body::Textual(t), None) => t.purpose.is_empty(),
                _ => false,
            })
        };
        // A body without purpose is the comment in Hypothesis's export.
        textual(Some(PURPOSE_COMMENTING)).or_else(|| textual(None))
    }

    /// The reader's note: the commenting body, else a textual body without purpose, else
    /// `bodyValue`. Always plain text to display, never HTML to inject.
    pub fn note(&self) -> Option<&str> {
        match self.note_index() {
            Some(i) => match &self.body[i] {
                Body::Textual(t) => Some(&t.value),
                _ => None,
            },
            None => self.extra.get("bodyValue").and_then(Value::as_str),
        }
    }

    /// The evidence links, in order.
    pub fn evidence(&self) -> Vec<&str> {
        self.body.iter().filter_map(Body::evidence_url).collect()
    }

    /// The page the (first) target is on.
    pub fn source(&self) -> Option<&str> {
        self.target.iter().find_map(Target::source)
    }

    /// The quote and position of the first target that has a TextQuoteSelector. Only
    /// top-level selectors count: a quote inside `refinedBy` is relative to the part the outer
    /// selector picks, not to the page, so anchoring it against the page would be wrong.
    pub fn selectors(&self) -> Option<Selectors> {
        self.selector_parts().map(|(quote, position)| Selectors {
            quote: quote.clone(),
            position,
        })
    }

    /// [`Annotation::selectors`], borrowed.
    pub fn selector_parts(&self) -> Option<(&TextQuoteSelector, Option<TextPositionSelector>)> {
        self.target.iter().find_map(|t| {
            let Target::Specific(r) = t else { return None };
            let quote = r.selector.iter().find_map(|s| match &s.kind {
                SelectorKind::TextQuote(q) => Some(q),
                _ => None,
            })?;
            let position = r.selector.iter().find_map(|s| match s.kind {
                SelectorKind::TextPosition(p) => Some(p),
                _ => None,
            });
            Some((quote, position))
        })
    }

    pub fn quote(&self) -> Option<&str> {
        self.target.iter().find_map(|t| {
            let Target::Specific(r) = t else { return None };
            r.selector.iter().find_map(|s| match &s.kind {
                SelectorKind::TextQuote(q) => Some(q.exact.as_str()),
                _ => None,
            })
        })
    }

    /// When the annotation last changed: `modified`, else `created`.
    pub fn updated(&self) -> Option<&str> {
        self.modified.as_deref().or(self.created.as_deref())
    }

    /// Sets the flag, replacing any earlier one; adds the "assessing" motivation.
    pub fn set_flag(&mut self, flag: Flag) {
        self.materialize_body_value();
        let existing = self.body.iter_mut().find_map(|b| match b {
            Body::Textual(t) if t.has_purpose(PURPOSE_ASSESSING) => Some(t),
            _ => None,
        });
        match existing {
            Some(t) => t.value = flag.as_str().into(),
            None => self.body.insert(
                0,
                Body::Textual(TextualBody {
                    purpose: vec![PURPOSE_ASSESSING.into()],
                    value: flag.as_str().into(),
                    ..TextualBody::default()
                }),
            ),
        }
        if !self.motivation.iter().any(|m| m == MOTIVATION_ASSESSING) {
            self.motivation.push(MOTIVATION_ASSESSING.into());
        }
    }

    /// Sets or (with `None` or blank text) removes the note. The text is trimmed and stored as
    /// `text/plain`, even when it replaces a foreign comment in another format.
    pub fn set_note(&mut self, note: Option<&str>) -> Result<(), ValidationError> {
        let note = normalize_note(note)?;
        self.materialize_body_value();
        match (self.note_index(), note) {
            (Some(i), Some(text)) => {
                if let Body::Textual(t) = &mut self.body[i] {
                    t.value = text;
                    t.format = Some(FORMAT_PLAIN_TEXT.into());
                }
            }
            (Some(i), None) => {
                self.body.remove(i);
            }
            (None, Some(text)) => {
                let at = self
                    .body
                    .iter()
                    .position(|b| b.flag_text().is_none())
                    .unwrap_or(self.body.len());
                self.body.insert(
                    at,
                    Body::Textual(TextualBody {
                        purpose: vec![PURPOSE_COMMENTING.into()],
                        value: text,
                        format: Some(FORMAT_PLAIN_TEXT.into()),
                        ..TextualBody::default()
                    }),
                );
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Replaces the evidence links. URLs are trimmed; blanks and repeats are dropped; a link
    /// that stays keeps its body (and whatever else that body says).
    pub fn set_evidence(&mut self, evidence: Vec<String>) -> Result<(), ValidationError> {
        let evidence = normalize_evidence(evidence)?;
        self.materialize_body_value();
        let mut old: Vec<Body> = Vec::new();
        let mut kept: Vec<Body> = Vec::with_capacity(self.body.len());
        for b in self.body.drain(..) {
            if b.evidence_url().is_some() {
                old.push(b);
            } else {
                kept.push(b);
            }
        }
        for url in evidence {
            match old
                .iter()
                .position(|b| b.evidence_url() == Some(url.as_str()))
            {
                Some(i) => kept.push(old.swap_remove(i)),
                None => kept.push(evidence_body(url)),
            }
        }
        self.body = kept;
        Ok(())
    }

    /// Replaces the quote and position of the first target that has them (after re-anchoring),
    /// leaving its other selectors alone.
    pub fn set_selectors(&mut self, selectors: Selectors) -> Result<(), ValidationError> {
        selectors.validate()?;
        let Some(r) = self.target.iter_mut().find_map(|t| match t {
            Target::Specific(r)
                if r.selector
                    .iter()
                    .any(|s| matches!(s.kind, SelectorKind::TextQuote(_))) =>
            {
                Some(r)
            }
            _ => None,
        }) else {
            return Err(ValidationError::new(
                "target.selector",
                "no TextQuoteSelector to replace",
            ));
        };
        let mut position = selectors.position;
        let mut quote = Some(selectors.quote);
        r.selector.retain_mut(|s| match &mut s.kind {
            SelectorKind::TextQuote(q) => match quote.take() {
                Some(new) => {
                    *q = new;
                    true
                }
                None => false,
            },
            SelectorKind::TextPosition(p) => match position.take() {
                Some(new) => {
                    *p = new;
                    true
                }
                None => false,
            },
            _ => true,
        });
        if let Some(p) = position {
            r.selector.push(Selector::position(p));
        }
        Ok(())
    }

    /// Records an edit.
    pub fn touch(&mut self, now: String) {
        self.modified = Some(now);
    }

    /// Gives Specific Resource targets that name no source (RecogitoJS leaves the page
    /// implied) this page as their source.
    pub fn fill_missing_source(&mut self, source: &str) {
        for t in &mut self.target {
            if let Target::Specific(r) = t {
                if r.source.is_none() {
                    r.source = Some(Value::String(source.into()));
                }
            }
        }
    }

    /// `bodyValue` may not sit beside `body`; before adding bodies, turn it into the textual
    /// body it stands for.
    fn materialize_body_value(&mut self) {
        if let Some(Value::String(_)) = self.extra.get("bodyValue") {
            if let Some(Value::String(value)) = self.extra.shift_remove("bodyValue") {
                self.body.insert(
                    0,
                    Body::Textual(TextualBody {
                        value,
                        format: Some(FORMAT_PLAIN_TEXT.into()),
                        ..TextualBody::default()
                    }),
                );
            }
        }
    }

    /// Checks meaning (structure is checked when parsing). See the module docs for what is
    /// required and what is only checked when present.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let context_ok = match &self.context {
            Value::String(s) => s == ANNO_CONTEXT,
            Value::Array(a) => a.iter().any(|c| c.as_str() == Some(ANNO_CONTEXT)),
            _ => false,
        };
        if !context_ok {
            return Err(ValidationError::new(
                "@context",
                format!("must be or include \"{ANNO_CONTEXT}\""),
            ));
        }
        check_iri(&self.id, Field::root("id"), false)?;
        if self.kind != "Annotation" {
            return Err(ValidationError::new(
                "type",
                format!("must be \"Annotation\", not {}", quoted(&self.kind)),
            ));
        }
        let motivation = Field::root("motivation");
        for (i, m) in self.motivation.iter().enumerate() {
            if m.trim().is_empty() {
                return Err(motivation
                    .at(i, self.motivation.len() > 1)
                    .error("must not be empty"));
            }
        }
        if let Some(c) = &self.created {
            check_timestamp(c, Field::root("created"))?;
        }
        if let Some(m) = &self.modified {
            check_timestamp(m, Field::root("modified"))?;
        }
        if self.target.is_empty() {
            return Err(ValidationError::new(
                "target",
                "missing; an annotation must say what it is about",
            ));
        }
        if self.target.len() > MAX_TARGETS {
            return Err(ValidationError::new(
                "target",
                format!("{} targets; at most {MAX_TARGETS}", self.target.len()),
            ));
        }
        let targets = Field::root("target");
        let many = self.target.len() > 1;
        for (i, t) in self.target.iter().enumerate() {
            let path = targets.at(i, many);
            match t {
                Target::Iri(s) => check_iri(s, path, true)?,
                Target::Specific(r) => check_specific(r, path, false)?,
                Target::Resource(_) => {}
            }
        }
        if self.body.len() > MAX_BODIES {
            return Err(ValidationError::new(
                "body",
                format!("{} bodies; at most {MAX_BODIES}", self.body.len()),
            ));
        }
        if let Some(v) = self.extra.get("bodyValue") {
            if !self.body.is_empty() {
                return Err(ValidationError::new(
                    "bodyValue",
                    "must not be used together with body",
                ));
            }
            let Some(text) = v.as_str() else {
                return Err(ValidationError::new("bodyValue", "must be a string"));
            };
            check_chars(text, MAX_NOTE_CHARS, Field::root("bodyValue"), "note")?;
        }
        let bodies = Field::root("body");
        let many = self.body.len() > 1;
        let mut flags = 0;
        for (i, b) in self.body.iter().enumerate() {
            let path = bodies.at(i, many);
            match b {
                Body::Iri(s) => check_iri(s, path, true)?,
                Body::Textual(t) => {
                    let value = path.key("value");
                    if t.has_purpose(PURPOSE_ASSESSING) {
                        t.value.parse::<Flag>().map_err(|e| value.error(e.reason))?;
                        flags += 1;
                        if flags > 1 {
                            return Err(path.error("a second flag; an annotation carries one flag"));
                        }
                    }
                    if t.has_purpose(PURPOSE_LINKING) {
                        check_url(&t.value, value)?;
                    }
                    check_chars(&t.value, MAX_NOTE_CHARS, value, "text")?;
                    if let Some(id) = &t.id {
                        check_iri(id, path.key("id"), false)?;
                    }
                }
                Body::Specific(r) => {
                    check_specific(r, path, true)?;
                    if r.has_purpose(PURPOSE_LINKING) {
                        let url = r.source_iri().unwrap_or("");
                        check_url(url, path.key("source"))?;
                    }
                }
                Body::Resource(m) => {
                    if purposes_include(m.get("purpose"), PURPOSE_LINKING) {
                        let url = m.get("id").and_then(Value::as_str).unwrap_or("");
                        check_url(url, path.key("id"))?;
                    }
                }
            }
        }
        let evidence = self
            .body
            .iter()
            .filter(|b| b.evidence_url().is_some())
            .count();
        if evidence > MAX_EVIDENCE {
            return Err(ValidationError::new(
                "body",
                format!("{evidence} evidence links; at most {MAX_EVIDENCE}"),
            ));
        }
        Ok(())
    }
}

fn check_specific(
    r: &SpecificResource,
    path: Field<'_>,
    needs_source: bool,
) -> Result<(), ValidationError> {
    let source = path.key("source");
    match &r.source {
        None if needs_source => return Err(source.error("missing")),
        None => {}
        Some(Value::String(s)) => check_iri(s, source, true)?,
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(s)) => check_iri(s, source.key("id"), true)?,
            _ => {
                return Err(source
                    .key("id")
                    .error("missing; a source object must have an IRI"))
            }
        },
        Some(_) => return Err(source.error("must be an IRI or a resource with an id")),
    }
    if let Some(id) = &r.id {
        check_iri(id, path.key("id"), false)?;
    }
    let selectors = path.key("selector");
    if r.selector.len() > MAX_SELECTORS {
        return Err(selectors.error(format!("more than {MAX_SELECTORS} selectors")));
    }
    let many = r.selector.len() > 1;
    for (i, s) in r.selector.iter().enumerate() {
        check_selector(s, selectors.at(i, many), 0)?;
    }
    let states = path.key("state");
    let many = r.state.len() > 1;
    for (i, s) in r.state.iter().enumerate() {
        check_state(s, states.at(i, many), 0)?;
    }
    Ok(())
}

/// Deep enough for any real refinement chain; bounds hostile nesting.
const MAX_REFINEMENT_DEPTH: usize = 8;

fn check_selector(s: &Selector, path: Field<'_>, depth: usize) -> Result<(), ValidationError> {
    match &s.kind {
        SelectorKind::TextQuote(q) => q.check(path)?,
        SelectorKind::TextPosition(p) => p.check(path)?,
        SelectorKind::Iri(iri) => check_iri(iri, path, true)?,
        SelectorKind::Other(_) => {}
    }
    let refined = path.key("refinedBy");
    if !s.refined_by.is_empty() && depth >= MAX_REFINEMENT_DEPTH {
        return Err(refined.error("refined too deeply"));
    }
    let many = s.refined_by.len() > 1;
    for (i, r) in s.refined_by.iter().enumerate() {
        check_selector(r, refined.at(i, many), depth + 1)?;
    }
    Ok(())
}

fn check_state(s: &State, path: Field<'_>, depth: usize) -> Result<(), ValidationError> {
    match &s.kind {
        StateKind::Time(t) => {
            if t.source_date.is_empty()
                && t.source_date_start.is_none()
                && t.source_date_end.is_none()
            {
                return Err(
                    path.error("a TimeState needs sourceDate or sourceDateStart and sourceDateEnd")
                );
            }
            if t.source_date_start.is_some() != t.source_date_end.is_some() {
                return Err(path.error("sourceDateStart and sourceDateEnd go together"));
            }
            let dates = path.key("sourceDate");
            let many = t.source_date.len() > 1;
            for (i, d) in t.source_date.iter().enumerate() {
                check_timestamp(d, dates.at(i, many))?;
            }
            if let (Some(a), Some(b)) = (&t.source_date_start, &t.source_date_end) {
                check_timestamp(a, path.key("sourceDateStart"))?;
                check_timestamp(b, path.key("sourceDateEnd"))?;
                if parse_timestamp(a) > parse_timestamp(b) {
                    return Err(path.key("sourceDateStart").error("is after sourceDateEnd"));
                }
            }
            let cached = path.key("cached");
            let many = t.cached.len() > 1;
            for (i, c) in t.cached.iter().enumerate() {
                check_iri(c, cached.at(i, many), true)?;
            }
        }
        StateKind::Iri(iri) => check_iri(iri, path, true)?,
        StateKind::Other(_) => {}
    }
    let refined = path.key("refinedBy");
    if !s.refined_by.is_empty() && depth >= MAX_REFINEMENT_DEPTH {
        return Err(refined.error("refined too deeply"));
    }
    let many = s.refined_by.len() > 1;
    for (i, r) in s.refined_by.iter().enumerate() {
        check_state(r, refined.at(i, many), depth + 1)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading: structural parsing from JSON with errors that name the field.

fn expect_object(value: Value, path: &str, what: &str) -> Result<Extra, ValidationError> {
    match value {
        Value::Object(m) => Ok(m),
        other => Err(ValidationError::new(
            path,
            format!("{what} must be a JSON object, not {}", json_kind(&other)),
        )),
    }
}

/// A JSON object of `pairs`, in order. `json!` would copy each interpolated value through
/// serde's value serializer, a second JSON writer in the wasm.
pub fn json_object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// `s` in quotes, escaped as a JSON string, for messages: hostile text shows as what it is.
pub fn quoted(s: &str) -> String {
    let mut out = String::new();
    json::push_string(&mut out, s);
    out
}

/// `value` as compact JSON text.
pub fn json_text(value: &Value) -> String {
    json::to_string(value)
}

/// "a string", "an object"…: what a JSON value is, for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An optional string property; `null` counts as absent.
fn take_string(map: &mut Extra, key: &str, path: &str) -> Result<Option<String>, ValidationError> {
    match map.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ValidationError::new(
            join(path, key),
            format!("must be a string, not {}", json_kind(&other)),
        )),
    }
}

/// One value or an array of them, each parsed by `parse(value, path_of_item)`.
fn take_list<T>(
    map: &mut Extra,
    key: &str,
    path: &str,
    mut parse: impl FnMut(Value, &str) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    let path = join(path, key);
    match map.shift_remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let many = items.len() > 1;
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| parse(v, &index(&path, i, many)))
                .collect()
        }
        Some(one) => Ok(vec![parse(one, &path)?]),
    }
}

fn string_item(v: Value, path: &str) -> Result<String, ValidationError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(ValidationError::new(
            path,
            format!("must be a string, not {}", json_kind(&other)),
        )),
    }
}

fn take_position(map: &mut Extra, key: &str, path: &str) -> Result<usize, ValidationError> {
    let field = join(path, key);
    match map.shift_remove(key) {
        None => Err(ValidationError::new(field, "missing")),
        Some(Value::Number(n)) => {
            n.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    ValidationError::new(field, format!("{n} is not a non-negative whole number"))
                })
        }
        Some(other) => Err(ValidationError::new(
            field,
            format!("must be a number, not {}", json_kind(&other)),
        )),
    }
}

fn type_is(map: &Extra, name: &str) -> bool {
    match map.get("type") {
        Some(Value::String(s)) => s == name,
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

impl Selector {
    fn from_json(value: Value, path: &str) -> Result<Selector, ValidationError> {
        let mut map = match value {
            Value::String(iri) => {
                return Ok(Selector {
                    kind: SelectorKind::Iri(iri),
                    refined_by: Vec::new(),
                    extra: Extra::new(),
                })
            }
            other => expect_object(other, path, "a selector")?,
        };
        let kind = match map.get("type") {
            Some(Value::String(t)) if t == "TextQuoteSelector" => {
                map.shift_remove("type");
                let exact = take_string(&mut map, "exact", path)?
                    .ok_or_else(|| ValidationError::new(join(path, "exact"), "missing"))?;
                let prefix = take_string(&mut map, "prefix", path)?;
                let suffix = take_string(&mut map, "suffix", path)?;
                SelectorKind::TextQuote(TextQuoteSelector {
                    exact,
                    prefix,
                    suffix,
                })
            }
            Some(Value::String(t)) if t == "TextPositionSelector" => {
                map.shift_remove("type");
                let start = take_position(&mut map, "start", path)?;
                let end = take_position(&mut map, "end", path)?;
                SelectorKind::TextPosition(TextPositionSelector { start, end })
            }
            Some(Value::String(t)) => SelectorKind::Other(t.clone()),
            Some(other) => {
                return Err(ValidationError::new(
                    join(path, "type"),
                    format!("must be a string, not {}", json_kind(other)),
                ))
            }
            None => {
                return Err(ValidationError::new(
                    join(path, "type"),
                    "missing; a selector must say its type",
                ))
            }
        };
        if let SelectorKind::Other(_) = kind {
            map.shift_remove("type");
        }
        let refined_by = take_list(&mut map, "refinedBy", path, Selector::from_json)?;
        Ok(Selector {
            kind,
            refined_by,
            extra: map,
        })
    }
}

impl State {
    fn from_json(value: Value, path: &str) -> Result<State, ValidationError> {
        let mut map = match value {
            Value::String(iri) => {
                return Ok(State {
                    kind: StateKind::Iri(iri),
                    refined_by: Vec::new(),
                    extra: Extra::new(),
                })
            }
            other => expect_object(other, path, "a state")?,
        };
        let kind = match take_string(&mut map, "type", path)? {
            Some(t) if t == "TimeState" => StateKind::Time(TimeState {
                source_date: take_list(&mut map, "sourceDate", path, string_item)?,
                source_date_start: take_string(&mut map, "sourceDateStart", path)?,
                source_date_end: take_string(&mut map, "sourceDateEnd", path)?,
                cached: take_list(&mut map, "cached", path, string_item)?,
            }),
            Some(t) => StateKind::Other(t),
            None => {
                return Err(ValidationError::new(
                    join(path, "type"),
                    "missing; a state must say its type",
                ))
            }
        };
        let refined_by = take_list(&mut map, "refinedBy", path, State::from_json)?;
        Ok(State {
            kind,
            refined_by,
            extra: map,
        })
    }
}

impl SpecificResource {
    fn from_map(mut map: Extra, path: &str) -> Result<SpecificResource, ValidationError> {
        let id = take_string(&mut map, "id", path)?;
        let kind = match map.get("type") {
            Some(Value::String(_)) => take_string(&mut map, "type", path)?,
            _ => None, // absent, or an array of types: left in `extra` as written
        };
        let source = match map.shift_remove("source") {
            None | Some(Value::Null) => None,
            Some(v @ (Value::String(_) | Value::Object(_))) => Some(v),
            Some(other) => {
                return Err(ValidationError::new(
                    join(path, "source"),
                    format!("must be an IRI or a resource, not {}", json_kind(&other)),
                ))
            }
        };
        let purpose = take_list(&mut map, "purpose", path, string_item)?;
        let selector = take_list(&mut map, "selector", path, Selector::from_json)?;
        let state = take_list(&mut map, "state", path, State::from_json)?;
        Ok(SpecificResource {
            id,
            kind,
            source,
            purpose,
            selector,
            state,
            extra: map,
        })
    }
}

impl TextualBody {
    fn from_map(mut map: Extra, path: &str) -> Result<TextualBody, ValidationError> {
        if matches!(map.get("type"), Some(Value::String(t)) if t == "TextualBody") {
            map.shift_remove("type");
        }
        let id = take_string(&mut map, "id", path)?;
        let purpose = take_list(&mut map, "purpose", path, string_item)?;
        let value = take_string(&mut map, "value", path)?.ok_or_else(|| {
            ValidationError::new(
                join(path, "value"),
                "missing; a TextualBody must have a value",
            )
        })?;
        let format = match map.get("format") {
            Some(Value::String(_)) => take_string(&mut map, "format", path)?,
            _ => None, // several formats: left in `extra` as written
        };
        Ok(TextualBody {
            id,
            purpose,
            value,
            format,
            extra: map,
        })
    }
}

impl Body {
    fn from_json(value: Value, path: &str) -> Result<Body, ValidationError> {
        let map = match value {
            Value::String(iri) => return Ok(Body::Iri(iri)),
            other => expect_object(other, path, "a body")?,
        };
        if type_is(&map, "TextualBody") || (map.get("type").is_none() && map.contains_key("value"))
        {
            return Ok(Body::Textual(TextualBody::from_map(map, path)?));
        }
        if type_is(&map, "SpecificResource") || map.contains_key("source") {
            return Ok(Body::Specific(SpecificResource::from_map(map, path)?));
        }
        if !(map.contains_key("id") || map.contains_key("type")) {
            return Err(ValidationError::new(
                path,
                "a body object needs an id, a type, a value or a source",
            ));
        }
        Ok(Body::Resource(map))
    }
}

impl Target {
    fn from_json(value: Value, path: &str) -> Result<Target, ValidationError> {
        let map = match value {
            Value::String(iri) => return Ok(Target::Iri(iri)),
            other => expect_object(other, path, "a target")?,
        };
        if type_is(&map, "SpecificResource")
            || map.contains_key("source")
            || map.contains_key("selector")
        {
            return Ok(Target::Specific(SpecificResource::from_map(map, path)?));
        }
        if !(map.contains_key("id") || map.contains_key("type")) {
            return Err(ValidationError::new(
                path,
                "a target object needs a source, an id or a type",
            ));
        }
        Ok(Target::Resource(map))
    }
}

impl Annotation {
    /// Structural parse only; [`Annotation::from_value`] also validates.
    fn from_json(value: Value) -> Result<Annotation, ValidationError> {
        let mut map = expect_object(value, "annotation", "an annotation")?;
        let context = map
            .shift_remove("@context")
            .unwrap_or_else(|| Value::String(ANNO_CONTEXT.into()));
        let id = take_string(&mut map, "id", "")?
            .ok_or_else(|| ValidationError::new("id", "missing; every annotation needs an IRI"))?;
        let kind = match map.shift_remove("type") {
            Some(Value::String(s)) => s,
            None => {
                return Err(ValidationError::new(
                    "type",
                    "missing; must be \"Annotation\"",
                ))
            }
            Some(other) => {
                return Err(ValidationError::new(
                    "type",
                    format!(
                        "must be the string \"Annotation\", not {}",
                        json_kind(&other)
                    ),
                ))
            }
        };
        let motivation = take_list(&mut map, "motivation", "", string_item)?;
        let created = take_string(&mut map, "created", "")?;
        let modified = take_string(&mut map, "modified", "")?;
        let creator = map.shift_remove("creator");
        let body = take_list(&mut map, "body", "", Body::from_json)?;
        let target = take_list(&mut map, "target", "", Target::from_json)?;
        Ok(Annotation {
            context,
            id,
            kind,
            motivation,
            created,
            modified,
            creator,
            body,
            target,
            extra: map,
        })
    }
}

macro_rules! deserialize_via_json {
    ($ty:ty, $parse:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(d)?;
                $parse(value).map_err(D::Error::custom)
            }
        }
    };
}

deserialize_via_json!(Annotation, Annotation::from_json);
deserialize_via_json!(Body, |v| Body::from_json(v, "body"));
deserialize_via_json!(Target, |v| Target::from_json(v, "target"));
deserialize_via_json!(Selector, |v| Selector::from_json(v, "selector"));
deserialize_via_json!(State, |v| State::from_json(v, "state"));
deserialize_via_json!(SpecificResource, |v| expect_object(
    v,
    "resource",
    "a resource"
)
.and_then(|m| SpecificResource::from_map(m, "resource")));
deserialize_via_json!(TextualBody, |v| expect_object(v, "body", "a body")
    .and_then(|m| TextualBody::from_map(m, "body")));

// ---------------------------------------------------------------------------------------------
// Writing.

/// Compact JSON in the shape factmark writes: single-element lists as the element, absent
/// options left out, `extra` properties last, in their order. The model's only writer: serde's
/// `Serialize` (for the server) goes through it too.
pub trait WriteJson {
    fn write_json(&self, out: &mut String);
}

impl<T: WriteJson + ?Sized> WriteJson for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

/// `value` as compact JSON text.
pub fn json_of<T: WriteJson + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    value.write_json(&mut out);
    out
}

impl WriteJson for str {
    fn write_json(&self, out: &mut String) {
        json::push_string(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut String) {
        json::push_string(out, self);
    }
}

impl WriteJson for Value {
    fn write_json(&self, out: &mut String) {
        json::push_value(out, self);
    }
}

impl WriteJson for usize {
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.to_string());
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            item.write_json(out);
        }
        out.push(']');
    }
}

/// An object being written: `{`, then entries, then [`Object::close`].
struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    fn put<T: WriteJson + ?Sized>(&mut self, key: &str, value: &T) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        json::push_string(self.out, key);
        self.out.push(':');
        value.write_json(self.out);
    }

    fn list<T: WriteJson>(&mut self, key: &str, items: &[T]) {
        match items {
            [] => {}
            [one] => self.put(key, one),
            many => self.put(key, many),
        }
    }

    fn opt<T: WriteJson>(&mut self, key: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.put(key, value);
        }
    }

    fn extra(mut self, extra: &Extra) {
        for (k, v) in extra {
            self.put(k, v);
        }
        self.out.push('}');
    }
}

impl WriteJson for Selector {
    fn write_json(&self, out: &mut String) {
        if let SelectorKind::Iri(iri) = &self.kind {
            return iri.write_json(out);
        }
        let mut m = Object::open(out);
        if let Some(t) = self.type_name() {
            m.put("type", t);
        }
        match &self.kind {
            SelectorKind::TextQuote(q) => {
                m.put("exact", &q.exact);
                m.opt("prefix", &q.prefix);
                m.opt("suffix", &q.suffix);
            }
            SelectorKind::TextPosition(p) => {
                m.put("start", &p.start);
                m.put("end", &p.end);
            }
            SelectorKind::Iri(_) | SelectorKind::Other(_) => {}
        }
        m.list("refinedBy", &self.refined_by);
        m.extra(&self.extra);
    }
}

impl WriteJson for State {
    fn write_json(&self, out: &mut String) {
        if let StateKind::Iri(iri) = &self.kind {
            return iri.write_json(out);
        }
        let mut m = Object::open(out);
        match &self.kind {
            StateKind::Time(t) => {
                m.put("type", "TimeState");
                m.list("sourceDate", &t.source_date);
                m.opt("sourceDateStart", &t.source_date_start);
                m.opt("sourceDateEnd", &t.source_date_end);
                m.list("cached", &t.cached);
            }
            StateKind::Other(t) => m.put("type", t),
            StateKind::Iri(_) => {}
        }
        m.list("refinedBy", &self.refined_by);
        m.extra(&self.extra);
    }
}

impl WriteJson for SpecificResource {
    fn write_json(&self, out: &mut String) {
        let mut m = Object::open(out);
        m.opt("id", &self.id);
        m.opt("type", &self.kind);
        m.list("purpose", &self.purpose);
        m.opt("source", &self.source);
        m.list("selector", &self.selector);
        m.list("state", &self.state);
        m.extra(&self.extra);
    }
}

impl WriteJson for TextualBody {
    fn write_json(&self, out: &mut String) {
        let mut m = Object::open(out);
        // A list of types (read as written) stays in `extra`.
        if !self.extra.contains_key("type") {
            m.put("type", "TextualBody");
        }
        m.opt("id", &self.id);
        m.list("purpose", &self.purpose);
        m.put("value", &self.value);
        m.opt("format", &self.format);
        m.extra(&self.extra);
    }
}

impl WriteJson for Body {
    fn write_json(&self, out: &mut String) {
        match self {
            Body::Iri(iri) => iri.write_json(out),
            Body::Textual(t) => t.write_json(out),
            Body::Specific(r) => r.write_json(out),
            Body::Resource(m) => Object::open(out).extra(m),
        }
    }
}

impl WriteJson for Target {
    fn write_json(&self, out: &mut String) {
        match self {
            Target::Iri(iri) => iri.write_json(out),
            Target::Specific(r) => r.write_json(out),
            Target::Resource(m) => Object::open(out).extra(m),
        }
    }
}

impl WriteJson for Annotation {
    fn write_json(&self, out: &mut String) {
        let mut m = Object::open(out);
        m.put("@context", &self.context);
        m.put("id", &self.id);
        m.put("type", &self.kind);
        m.list("motivation", &self.motivation);
        m.opt("created", &self.created);
        m.opt("modified", &self.modified);
        m.opt("creator", &self.creator);
        m.list("body", &self.body);
        m.list("target", &self.target);
        m.extra(&self.extra);
    }
}

/// serde (the server, tests) sees the same JSON: written once, read back as a [`Value`].
macro_rules! serialize_via_json {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut text = String::new();
                self.write_json(&mut text);
                json::from_str(&text).map_err(serde::ser::Error::custom)?.serialize(s)
            }
        }
    )*};
}

serialize_via_json!(
    Selector,
    State,
    SpecificResource,
    TextualBody,
    Body,
    Target,
    Annotation
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_iris_with_any_space_or_control_character_are_refused() {
        for bad in [
            "\u{a0}", "\u{85}", "\u{2028}", "\u{3000}", "\u{7f}", "\u{1}", " ", "\t",
        ] {
            let url = format!("https://a.example/x{bad}y");
            assert!(has_space_or_control(&url), "{url:?}");
            assert!(validate_evidence_url(&url).is_err(), "{url:?}");
            let err =
                check_iri(&url, Field::root("target").at(1, true).key("source"), true).unwrap_err();
            assert_eq!(err.field, "target[1].source");
        }
        for good in [
            "https://a.example/x",
            "https://例え.example/é",
            "urn:uuid:0-1",
            "#rel",
        ] {
            assert!(!has_space_or_control(good), "{good:?}");
        }
    }

    #[test]
    fn uuid_urns_are_written_as_the_uuid_crate_writes_them() {
        let mut bytes = [0u8; 16];
        for seed in 0..64u8 {
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = seed
                    .wrapping_mul(37)
                    .wrapping_add((i as u8).wrapping_mul(101))
                    ^ (seed >> 1);
            }
            let expected = format!("urn:uuid:{}", uuid::Uuid::from_bytes(bytes).hyphenated());
            assert_eq!(uuid_urn(bytes), expected);
            let v4 = uuid::Builder::from_random_bytes(bytes).into_uuid();
            assert_eq!(new_id(bytes), format!("urn:uuid:{}", v4.hyphenated()));
        }
    }

    #[test]
    fn uuid_is_version_4_urn() {
        let id = new_id([0xff; 16]);
        assert_eq!(id, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(
            new_id([0; 16]),
            "urn:uuid:00000000-0000-4000-8000-000000000000"
        );
    }

    #[test]
    fn timestamps_from_unix_ms() {
        assert_eq!(rfc3339_from_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_unix_ms(1_735_787_045_678),
            "2025-01-02T03:04:05.678Z"
        );
        assert_eq!(rfc3339_from_unix_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_unix_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_unix_ms(i64::MIN), "0001-01-01T00:00:00.000Z");
        for ms in [0, 1_735_787_045_678, -1, i64::MAX, i64::MIN] {
            assert!(parse_timestamp(&rfc3339_from_unix_ms(ms)).is_some());
        }
    }

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        for days in (-719_162..2_932_897).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m), "{y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
    }

    #[test]
    fn timestamps_are_instants() {
        let t = |s| parse_timestamp(s).unwrap();
        assert_eq!(t("1970-01-01T00:00:00Z").unix_seconds, 0);
        assert_eq!(
            t("2025-01-02T03:04:05.678Z"),
            Timestamp {
                unix_seconds: 1_735_787_045,
                nanos: 678_000_000
            }
        );
        // The same instant in two offsets; a later one with a smaller wall clock.
        assert_eq!(t("2025-01-02T05:34:05+02:30"), t("2025-01-02T03:04:05Z"));
        assert!(t("2025-01-02T01:00:00-05:00") > t("2025-01-02T05:00:00Z"));
        assert_eq!(t("2025-01-02T03:04:05.1234567891Z").nanos, 123_456_789);
        assert!(t("2024-02-29T00:00:00Z") < t("2024-03-01T00:00:00Z"));
        assert!(parse_timestamp("2023-02-29T00:00:00Z").is_none());
        assert!(parse_timestamp("2025-01-02T24:00:00Z").is_none());
        assert!(parse_timestamp("2025-01-02T03:04:05+24:00").is_none());
        assert!(parse_timestamp("2025-01-02T03:04:05+05:60").is_none());
    }

    #[test]
    fn timestamp_shapes() {
        for ok in [
            "2025-01-02T03:04:05Z",
            "2025-01-02t03:04:05.123456z",
            "2025-01-02 03:04:05+05:30",
            "2016-04-18T13:43:01.447455+00:00",
        ] {
            assert!(parse_timestamp(ok).is_some(), "{ok}");
        }
        for bad in [
            "2025-01-02",
            "2025-02-30T00:00:00Z",
            "2025-01-02T03:04:05",
            "2025-01-02T03:04:60Z",
            "2025-01-02T03:04:05.Z",
            "yesterday",
            "2025-01-02T03:04:05+0530",
            "2025-13-02T03:04:05Z",
            // a non-digit where a digit belongs, ASCII or not
            "20x5-01-02T03:04:05Z",
            "2025-0a-02T03:04:05Z",
            "2025-01-02T03:+4:05Z",
            "2025-01-02T03:04:é5Z",
            "2025-01-02T03:04:0éZ",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn evidence_urls() {
        for ok in [
            "https://example.org",
            "http://example.org:8080/a?b#c",
            "HTTPS://Example.org/ü",
            "https://[::1]:8080/x",
            "https://[2001:db8::1]/",
            "https://x.org:/",
        ] {
            assert_eq!(validate_evidence_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "data:text/html,<b>",
            "ftp://x.org",
            "https:/x.org",
            "https://",
            "https://user:pw@x.org",
            "https://x.org/a b",
            "example.org",
            "https://x.org:port/",
            "https://[::1]x/",
            "https://[::1/",
            "https://[]/",
            "vbscript:x",
        ] {
            let err = validate_evidence_url(bad).unwrap_err();
            assert_eq!(err.field, "evidence", "{bad}");
        }
    }

    #[test]
    fn flag_words() {
        assert_eq!(" Fabricated ".parse::<Flag>(), Ok(Flag::Fabricated));
        assert_eq!("unverified".parse::<Flag>(), Ok(Flag::Unverified));
        assert_eq!("false".parse::<Flag>().unwrap_err().field, "flag");
        assert_eq!(Flag::Fabricated.to_string(), "fabricated");
    }
}
