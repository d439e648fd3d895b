//! A small JSON value, parser and writer owned by core.
//!
//! serde_json (with indexmap) cost the widget ~25 KB of wasm; this module does
//! what factmark needs with a fraction of the code. Names mirror serde_json's so
//! call sites only change their `use` lines. Numbers keep their literal text, so
//! a document read and written back keeps its numbers unchanged. The writer
//! produces byte-for-byte what serde_json writes for the same value.

use std::fmt;
use std::ops::{Index, IndexMut};

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// Returned by `Index` for absent members, as serde_json does.
static NULL: Value = Value::Null;

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
    /// The member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_object_mut()?.get_mut(key)
    }
    /// Moves the value out, leaving `Null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }
}

impl Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl IndexMut<&str> for Value {
    /// Null becomes an empty object and a missing key is inserted as Null, so
    /// `v["a"]["b"] = x` builds structure as serde_json does.
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        match self {
            Value::Object(map) => map.get_or_insert_null(key),
            _ => panic!("cannot index a non-object JSON value with a key"),
        }
    }
}

impl Index<usize> for Value {
    type Output = Value;
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl IndexMut<usize> for Value {
    fn index_mut(&mut self, i: usize) -> &mut Value {
        match self {
            Value::Array(a) => &mut a[i],
            _ => panic!("cannot index a non-array JSON value by position"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Value {
        Value::Array(a)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}
impl From<f64> for Value {
    /// Non-finite floats have no JSON form and become Null, as in serde_json.
    fn from(f: f64) -> Value {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

macro_rules! from_integer {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Number {
                Number { literal: n.to_string() }
            }
        }
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(n.into())
            }
        }
    )*};
}
from_integer!(u64 i64 u32 i32 usize);

impl fmt::Display for Value {
    /// Compact JSON; `{:#}` writes the pretty form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_value(&mut out, self, f.alternate(), 0);
        f.write_str(&out)
    }
}

/// A JSON number, kept as its literal text (already validated) so it is
/// written back exactly as read.
#[derive(Debug, Clone)]
pub struct Number {
    literal: String,
}

impl Number {
    /// `None` for NaN and infinities, which JSON cannot express.
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then(|| Number {
            literal: format_f64(f),
        })
    }
    fn is_integer(&self) -> bool {
        !self
            .literal
            .bytes()
            .any(|b| matches!(b, b'.' | b'e' | b'E'))
    }
    /// Only for a non-negative integer literal (no fraction or exponent) that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.is_integer() && !self.literal.starts_with('-') {
            self.literal.parse().ok()
        } else {
            None
        }
    }
    /// Only for an integer literal that fits; "-0" is a float, as in serde_json.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer() && self.literal != "-0" {
            self.literal.parse().ok()
        } else {
            None
        }
    }
    /// Always `Some` for a number read by `from_str` (out-of-range ones are refused there).
    pub fn as_f64(&self) -> Option<f64> {
        self.literal.parse().ok()
    }
    /// The literal text, as read or as formatted.
    pub fn as_str(&self) -> &str {
        &self.literal
    }
}

impl PartialEq for Number {
    /// Same literal or same decimal value: `1`, `1.0`, `10e-1` are equal, and
    /// `0` equals `-0`. Compared exactly, without floats: float parsing would
    /// add ~10 KB of tables to the wasm.
    fn eq(&self, other: &Number) -> bool {
        self.literal == other.literal
            || decimal_parts(&self.literal) == decimal_parts(&other.literal)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.literal)
    }
}

/// A literal's exact value: sign, significant digits (no leading or trailing
/// zeros) and the power of ten of the first of them. Zero is `(false, "", 0)`.
fn decimal_parts(literal: &str) -> (bool, String, i64) {
    let (negative, rest) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal),
    };
    let (mantissa, exponent) = rest.split_once(['e', 'E']).unwrap_or((rest, "0"));
    let (exponent_negative, exponent) = match exponent.as_bytes().first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    // Saturates: beyond 2^40 only the sign of the power matters.
    let mut power = exponent
        .bytes()
        .fold(0i64, |e, b| (e * 10 + i64::from(b - b'0')).min(1 << 40));
    if exponent_negative {
        power = -power;
    }
    let int_len = mantissa.find('.').unwrap_or(mantissa.len()) as i64;
    let mut digits = String::new();
    let mut first = None;
    for (i, b) in mantissa.bytes().filter(|&b| b != b'.').enumerate() {
        if first.is_some() || b != b'0' {
            first.get_or_insert(i as i64);
            digits.push(char::from(b));
        }
    }
    let Some(first) = first else {
        return (false, digits, 0);
    };
    digits.truncate(digits.trim_end_matches('0').len());
    (negative, digits, power + int_len - 1 - first)
}

/// The significant digits of 2^1024 - 2^970, halfway between f64::MAX and the
/// next power of two: a literal at or above it rounds to infinity.
const F64_OVERFLOW_DIGITS: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether the literal's value rounds to a finite f64, decided exactly from
/// its digits.
fn fits_f64(literal: &str) -> bool {
    let (_, digits, power) = decimal_parts(literal);
    power < 308 || (power == 308 && digits.as_str() < F64_OVERFLOW_DIGITS)
}

/// Shortest text that parses back to `f`, laid out as serde_json writes floats:
/// plain decimal with ".0" for exponents -5..=15, else `1.5e+20` / `1e-7`.
fn format_f64(f: f64) -> String {
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.2345e-7"; when two
    // such digit strings are equally close it rounds up where serde_json picks
    // the even one, which exact formatting at that length gives.
    let mut sci = format!("{f:e}");
    let precision = sci
        .find('e')
        .unwrap_or(0)
        .saturating_sub(usize::from(f < 0.0) + 2);
    let even = format!("{f:.precision$e}");
    if even != sci && even.parse() == Ok(f) {
        sci = even;
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let count = digits.len() as i32;
    let mut out = String::from(sign);
    if (-5..=15).contains(&exp) {
        if exp >= count - 1 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (exp - count + 1) as usize));
            out.push_str(".0");
        } else if exp >= 0 {
            let (int, frac) = digits.split_at(exp as usize + 1);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if count > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        if exp >= 0 {
            out.push('+');
        }
        out.push_str(&exp.to_string());
    }
    out
}

/// A JSON object: insertion-ordered, backed by a Vec (objects here are small;
/// a hash index would cost more wasm than it saves).
#[derive(Debug, Clone, Default)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

type Entry = (String, Value);
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a String, &'a Value)>;
pub type IterMut<'a> = std::iter::Map<
    std::slice::IterMut<'a, Entry>,
    fn(&'a mut Entry) -> (&'a String, &'a mut Value),
>;

impl Map {
    pub fn new() -> Map {
        Map::default()
    }
    pub fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
        }
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k == key)
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }
    /// An existing key keeps its position and gets the new value (as indexmap).
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }
    fn get_or_insert_null(&mut self, key: &str) -> &mut Value {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.entries.push((key.to_owned(), Value::Null));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
    /// Removes `key`, keeping the order of the rest.
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.shift_remove(key)
    }
    pub fn iter(&self) -> Iter<'_> {
        let pair: fn(&Entry) -> (&String, &Value) = |(k, v)| (k, v);
        self.entries.iter().map(pair)
    }
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        let pair: fn(&mut Entry) -> (&String, &mut Value) = |(k, v)| (k, v);
        self.entries.iter_mut().map(pair)
    }
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }
    /// Builds a map from entries that may repeat keys: the later value wins at
    /// the first key's position.
    fn from_entries(mut entries: Vec<Entry>) -> Map {
        dedup_keys(&mut entries, 0);
        Map { entries }
    }
}

impl PartialEq for Map {
    /// Order-insensitive, as serde_json's `preserve_order` Map.
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Index<&str> for Map {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).expect("no such key in JSON object")
    }
}

impl IndexMut<&str> for Map {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        self.get_mut(key).expect("no such key in JSON object")
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}
impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Map {
        Map::from_entries(iter.into_iter().collect())
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let unique = self.entries.len();
        self.entries.extend(iter);
        dedup_keys(&mut self.entries, unique);
    }
}

/// Below this many entries a pairwise duplicate check is cheapest.
const SMALL_OBJECT: usize = 32;

/// Merges repeated keys: the last value moves to the first occurrence's
/// position. Large (possibly hostile) objects go through a sort of indices, so
/// 100,000 keys cost O(n log n), not O(n²). The first `unique` entries are
/// known to have distinct keys (an existing map being extended).
fn dedup_keys(entries: &mut Vec<Entry>, unique: usize) {
    if entries.len() <= SMALL_OBJECT || entries.len() - unique <= 4 {
        let mut i = unique.max(1);
        while i < entries.len() {
            match entries[..i].iter().position(|(k, _)| *k == entries[i].0) {
                Some(first) => entries[first].1 = entries.remove(i).1,
                None => i += 1,
            }
        }
        return;
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Ties broken by position make the order total, so groups of equal keys
    // come out in document order.
    heap_sort(&mut order, |a, b| {
        (entries[a].0.as_str(), a) < (entries[b].0.as_str(), b)
    });
    let mut dropped = vec![false; entries.len()];
    let mut any = false;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && entries[order[end]].0 == entries[order[start]].0 {
            end += 1;
        }
        if end - start > 1 {
            any = true;
            let last = entries[order[end - 1]].1.take();
            entries[order[start]].1 = last;
            for &i in &order[start + 1..end] {
                dropped[i] = true;
            }
        }
        start = end;
    }
    if any {
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            !dropped[i - 1]
        });
    }
}

/// In-place heap sort: O(n log n) worst case in far less code than a
/// monomorphized copy of the standard library's sort.
fn heap_sort(v: &mut [usize], less: impl Fn(usize, usize) -> bool) {
    let sift_down = |v: &mut [usize], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(v[child], v[child + 1]) {
            child += 1;
        }
        if !less(v[root], v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    };
    for root in (0..v.len() / 2).rev() {
        sift_down(v, root, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// A syntax error with its position: 1-based line, and the column counted in
/// bytes through the offending byte (0 for an error at the start of a line
/// after a newline), as serde_json reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    message: &'static str,
    line: usize,
    column: usize,
}

impl Error {
    pub fn line(&self) -> usize {
        self.line
    }
    pub fn column(&self) -> usize {
        self.column
    }
    pub fn message(&self) -> &str {
        self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for Error {}

/// Arrays and objects may nest 127 deep; the 128th level is refused, exactly
/// where serde_json refuses, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// What a one-letter escape after a backslash stands for (`n` → line feed, `"` → `"`, …);
/// `None` for `u` (four hex digits follow) and for anything that is not an escape.
pub(crate) fn escaped(b: u8) -> Option<char> {
    Some(match b {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The code point a UTF-16 surrogate pair (`high` in D800–DBFF, `low` in DC00–DFFF) stands for.
pub(crate) fn surrogate_pair(high: u32, low: u32) -> u32 {
    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
}

/// Parses one JSON document (RFC 8259, strict).
pub fn from_str(s: &str) -> Result<Value, Error> {
    let mut p = Parser {
        text: s,
        bytes: s.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = p.value()?;
    p.skip_whitespace();
    if p.pos < p.bytes.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// An error about the byte at `pos` (or the end of input).
    fn error(&self, message: &'static str) -> Error {
        self.error_after(message, (self.pos + 1).min(self.bytes.len()))
    }

    /// An error reported after the bytes already read (serde_json's position
    /// for errors found at the end of an escape or a number).
    fn error_before(&self, message: &'static str) -> Error {
        self.error_after(message, self.pos)
    }

    fn error_after(&self, message: &'static str, end: usize) -> Error {
        let before = &self.bytes[..end];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count();
        Error {
            message,
            line,
            column,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, Error> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.keyword("null", Value::Null),
            Some(b't') => self.keyword("true", Value::Bool(true)),
            Some(b'f') => self.keyword("false", Value::Bool(false)),
            Some(b'"') => {
                self.pos += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b'[') => self.array(),
            Some(b'{') => self.object(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, Error> {
        for &expected in word.as_bytes() {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(value)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.pos += 1;
        Ok(())
    }

    fn array(&mut self) -> Result<Value, Error> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_whitespace();
        match self.peek() {
            None => return Err(self.error("EOF while parsing a list")),
            Some(b']') => self.pos += 1,
            Some(_) => loop {
                items.push(self.value()?);
                if self.closes(b']', "expected `,` or `]`", "EOF while parsing a list")? {
                    break;
                }
            },
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    fn object(&mut self) -> Result<Value, Error> {
        self.enter()?;
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                match self.peek() {
                    Some(b'"') => self.pos += 1,
                    Some(_) => return Err(self.error("key must be a string")),
                    // serde_json's words: after a comma it awaits a value.
                    None if entries.is_empty() => {
                        return Err(self.error("EOF while parsing an object"))
                    }
                    None => return Err(self.error("EOF while parsing a value")),
                }
                let key = self.string()?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b':') => self.pos += 1,
                    Some(_) => return Err(self.error("expected `:`")),
                    None => return Err(self.error("EOF while parsing an object")),
                }
                entries.push((key, self.value()?));
                if self.closes(b'}', "expected `,` or `}`", "EOF while parsing an object")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Object(Map::from_entries(entries)))
    }

    /// After an item of a list or an object: `close` ends it (true), a comma announces another
    /// item (false; a comma right before `close` is an error).
    fn closes(
        &mut self,
        close: u8,
        expected: &'static str,
        eof: &'static str,
    ) -> Result<bool, Error> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(close) {
                    return Err(self.error("trailing comma"));
                }
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Err(self.error(expected)),
            None => Err(self.error(eof)),
        }
    }

    /// The rest of a string whose opening quote is consumed.
    fn string(&mut self) -> Result<String, Error> {
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    out.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    out.push(self.escape()?);
                    start = self.pos;
                }
                Some(0..=0x1F) => {
                    return Err(self
                        .error("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self) -> Result<char, Error> {
        let Some(b) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        if b == b'u' {
            self.pos += 1;
            return self.unicode_escape();
        }
        let c = escaped(b).ok_or_else(|| self.error("invalid escape"))?;
        self.pos += 1;
        Ok(c)
    }

    /// `XXXX` after `\u`; a leading surrogate must be followed by `\u` and a
    /// trailing one, and the pair becomes one char.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let unit = self.hex4()?;
        let code = match unit {
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        Some(b) if b == expected => self.pos += 1,
                        Some(_) => return Err(self.error("unexpected end of hex escape")),
                        None => return Err(self.error("EOF while parsing a string")),
                    }
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error_before("lone leading surrogate in hex escape"));
                }
                surrogate_pair(unit, low)
            }
            // serde_json's message for a lone trailing surrogate too.
            0xDC00..=0xDFFF => {
                return Err(self.error_before("lone leading surrogate in hex escape"))
            }
            _ => unit,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid escape"))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let Some(hex) = self.bytes.get(self.pos..self.pos + 4) else {
            self.pos = self.bytes.len();
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 4;
        hex.iter()
            .try_fold(0, |unit, &b| Some(unit * 16 + char::from(b).to_digit(16)?))
            .ok_or_else(|| self.error_before("invalid escape"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// At least one digit, or an error.
    fn required_digits(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.error("invalid number")),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    fn number(&mut self) -> Result<Number, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_digits = match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("invalid number"));
                }
                1
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.error("EOF while parsing a value")),
        };
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let literal = &self.text[start..self.pos];
        // Like serde_json, refuse what no f64 can hold (1e400), so as_f64 is
        // always finite; 18-digit integers always fit.
        let small_integer = integer && int_digits <= 18;
        if !small_integer && !fits_f64(literal) {
            return Err(self.error_before("number out of range"));
        }
        Ok(Number {
            literal: literal.to_owned(),
        })
    }
}

/// Compact JSON, as `serde_json::to_string`.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, false, 0);
    out
}

/// Two-space indented JSON, as `serde_json::to_string_pretty`.
pub fn to_string_pretty(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, true, 0);
    out
}

/// Appends `v` as compact JSON.
pub fn push_value(out: &mut String, v: &Value) {
    write_value(out, v, false, 0);
}

/// Appends `s` as a quoted JSON string, escaping only what JSON requires
/// (and what serde_json escapes): quote, backslash and control characters.
pub fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xF)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn newline_indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, v: &Value, pretty: bool, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.literal),
        Value::String(s) => push_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    newline_indent(out, level + 1);
                }
                write_value(out, item, pretty, level + 1);
            }
            if pretty && !items.is_empty() {
                newline_indent(out, level);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    newline_indent(out, level + 1);
                }
                push_string(out, key);
                out.push_str(if pretty { ": " } else { ":" });
                write_value(out, value, pretty, level + 1);
            }
            if pretty && !map.is_empty() {
                newline_indent(out, level);
            }
            out.push('}');
        }
    }
}

// The serde bridge lets the server and tests move these values through
// serde_json; generic impls cost the widget nothing unless it uses them.

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(n) = self.as_u64() {
            s.serialize_u64(n)
        } else if let Some(n) = self.as_i64() {
            s.serialize_i64(n)
        } else {
            s.serialize_f64(self.as_f64().unwrap_or(f64::NAN))
        }
    }
}

impl serde::Serialize for Map {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(text) => s.serialize_str(text),
            Value::Array(items) => s.collect_seq(items),
            Value::Object(map) => map.serialize(s),
        }
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(f.into())
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(s.into())
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(s.into())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = access.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Object(Map::from_entries(entries)))
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for Map {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        match d.deserialize_map(ValueVisitor)? {
            Value::Object(map) => Ok(map),
            _ => Err(serde::de::Error::custom("expected a JSON object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sort_orders_any_input() {
        let keys = [5, 3, 9, 3, 0, 7, 7, 1, 8, 2, 6, 4];
        let mut order: Vec<usize> = (0..keys.len()).collect();
        heap_sort(&mut order, |a, b| (keys[a], a) < (keys[b], b));
        let sorted: Vec<_> = order.iter().map(|&i| keys[i]).collect();
        assert_eq!(sorted, [0, 1, 2, 3, 3, 4, 5, 6, 7, 7, 8, 9]);
        assert!(order[3] < order[4], "ties stay in input order");
        heap_sort(&mut [], |a: usize, b: usize| a < b);
    }

    #[test]
    fn decimal_parts_normalize_the_value() {
        let parts = |s: &str| decimal_parts(s);
        assert_eq!(parts("150.0"), (false, "15".into(), 2));
        assert_eq!(parts("1.50e+2"), parts("150"));
        assert_eq!(parts("-0.0050E-1"), (true, "5".into(), -4));
        assert_eq!(parts("-0"), (false, String::new(), 0));
        assert_eq!(parts("0e99999999999999999999"), parts("0"));
        assert_eq!(parts("1e99999999999999999999").2, 1 << 40);
    }

    #[test]
    fn dedup_keys_small_and_large_agree() {
        for n in [5, 40, 200] {
            let entries: Vec<Entry> = (0..n)
                .map(|i| (format!("k{}", i % 7), Value::from(i as u64)))
                .collect();
            let mut merged = entries.clone();
            dedup_keys(&mut merged, 0);
            let mut expected: Vec<Entry> = Vec::new();
            for (k, v) in entries {
                match expected.iter_mut().find(|(e, _)| *e == k) {
                    Some(slot) => slot.1 = v,
                    None => expected.push((k, v)),
                }
            }
            assert_eq!(merged, expected, "n = {n}");
        }
    }
}
