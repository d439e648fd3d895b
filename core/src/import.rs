//! Reading annotations from outside: a file the reader imports ([`parse_import`]) and what
//! factmark stored itself ([`parse_stored`]). Both accept one annotation, a JSON array of
//! annotations, an AnnotationPage (`items`) or an AnnotationCollection that embeds its first
//! page (`first.items`); embedded items without `@context` inherit the container's.
//!
//! Nothing is dropped silently: an import reports every item it refuses with the reason, and a
//! stored list hands back the items it cannot use so the caller can quarantine them.

use serde::{Deserialize, Serialize};

use crate::json::{self, Map, Value};
use crate::model::{parse_timestamp, Annotation};
use crate::order::SortedMap;

/// Most annotations one import accepts; items beyond are refused, not parsed.
pub const MAX_IMPORT_ITEMS: usize = 10_000;

/// An item an import did not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Position of the item in the file (0 when the whole file is refused).
    pub index: usize,
    pub id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub accepted: Vec<Annotation>,
    /// In file order.
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StoredOutcome {
    pub valid: Vec<Annotation>,
    /// Items that failed to parse or validate, and older copies of a repeated id, as stored.
    pub invalid: Vec<Value>,
    /// Set when the stored text as a whole is unusable: why.
    pub corrupt: Option<String>,
}

/// Parses a file to import. Repeated ids keep the newest copy (by `modified`, else
/// `created`; the first on a tie) and refuse the others.
pub fn parse_import(json: &str) -> ImportOutcome {
    let whole = |reason: String| ImportOutcome {
        accepted: Vec::new(),
        refused: vec![Refusal {
            index: 0,
            id: None,
            reason,
        }],
    };
    let (items, context) = match read_document(json) {
        Ok(found) => found,
        Err(reason) => return whole(reason),
    };
    let mut out = ImportOutcome::default();
    let mut kept = Kept::default();
    for (index, item) in items.into_iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        if index >= MAX_IMPORT_ITEMS {
            out.refused.push(Refusal {
                index,
                id,
                reason: format!("the file holds more than {MAX_IMPORT_ITEMS} annotations; import the rest separately"),
            });
            continue;
        }
        match Annotation::from_value(inherit_context(item, &context)) {
            Err(e) => out.refused.push(Refusal {
                index,
                id,
                reason: e.to_string(),
            }),
            Ok(a) => match kept.add(a, index) {
                None => {}
                Some(Duplicate {
                    dropped_index,
                    kept_index,
                    dropped,
                }) => {
                    let reason = if dropped_index < kept_index {
                        format!("duplicate id: item {kept_index} has the same id and is newer")
                    } else {
                        format!("duplicate id: same as item {kept_index}, which is kept")
                    };
                    out.refused.push(Refusal {
                        index: dropped_index,
                        id: Some(dropped.id),
                        reason,
                    });
                }
            },
        }
    }
    out.accepted = kept.annotations;
    crate::order::sort_by_key(&mut out.refused, |r| r.index);
    out
}

/// Parses what factmark stored. Nothing is lost: unusable items, and older copies of a
/// repeated id, come back in `invalid` as they were stored.
///
/// What factmark wrote itself is read on a typed fast path (see [`stored::read`]); anything
/// else, and any list with an item that does not validate, takes the general path, item by item.
pub fn parse_stored(json: &str) -> StoredOutcome {
    if let Some(annotations) = stored::read(json) {
        // Ids are unique in what factmark writes: check that without copying them.
        let unique = {
            let mut ids: Vec<&str> = annotations.iter().map(|a| a.id.as_str()).collect();
            crate::order::sort_by(&mut ids, |a, b| a.cmp(b));
            ids.windows(2).all(|pair| pair[0] != pair[1])
        };
        if unique {
            return StoredOutcome {
                valid: annotations,
                ..StoredOutcome::default()
            };
        }
        let mut out = StoredOutcome::default();
        let mut kept = Kept::default();
        for (index, a) in annotations.into_iter().enumerate() {
            if let Some(d) = kept.add(a, index) {
                out.invalid.push(d.dropped.to_value());
            }
        }
        out.valid = kept.annotations;
        return out;
    }
    parse_stored_general(json)
}

fn parse_stored_general(json: &str) -> StoredOutcome {
    let (items, context) = match read_document(json) {
        Ok(found) => found,
        Err(reason) => {
            return StoredOutcome {
                corrupt: Some(reason),
                ..StoredOutcome::default()
            }
        }
    };
    let mut out = StoredOutcome::default();
    let mut kept = Kept::default();
    for (index, item) in items.into_iter().enumerate() {
        match Annotation::from_value(inherit_context(item.clone(), &context)) {
            Err(_) => out.invalid.push(item),
            Ok(a) => {
                if let Some(d) = kept.add(a, index) {
                    out.invalid.push(d.dropped.to_value());
                }
            }
        }
    }
    out.valid = kept.annotations;
    out
}

/// Annotations kept so far, one per id.
#[derive(Default)]
struct Kept {
    annotations: Vec<Annotation>,
    /// id → (position in `annotations`, index of the item in the file). A sorted vector, not a
    /// hash table (whose code would be in the wasm for this alone): an insert shifts it, which
    /// only the general path pays, at most [`MAX_IMPORT_ITEMS`] times.
    by_id: SortedMap<String, (usize, usize)>,
}

struct Duplicate {
    dropped: Annotation,
    dropped_index: usize,
    kept_index: usize,
}

impl Kept {
    fn add(&mut self, a: Annotation, index: usize) -> Option<Duplicate> {
        let Some(&(at, first_index)) = self.by_id.get(&a.id) else {
            self.by_id
                .insert(a.id.clone(), (self.annotations.len(), index));
            self.annotations.push(a);
            return None;
        };
        let updated = |a: &Annotation| a.updated().and_then(parse_timestamp);
        if updated(&a) > updated(&self.annotations[at]) {
            let dropped = std::mem::replace(&mut self.annotations[at], a);
            self.by_id.insert(dropped.id.clone(), (at, index));
            Some(Duplicate {
                dropped,
                dropped_index: first_index,
                kept_index: index,
            })
        } else {
            Some(Duplicate {
                dropped: a,
                dropped_index: index,
                kept_index: first_index,
            })
        }
    }
}

/// The items of a document and the `@context` they inherit.
fn read_document(json: &str) -> Result<(Vec<Value>, Option<Value>), String> {
    let json = json.strip_prefix('\u{feff}').unwrap_or(json); // editors on Windows add a BOM
    if json.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let doc: Value = json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    items_of(doc)
}

fn items_of(doc: Value) -> Result<(Vec<Value>, Option<Value>), String> {
    let mut map = match doc {
        Value::Array(items) => return Ok((items, None)),
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "expected an annotation, a list of annotations, an AnnotationPage or an \
                 AnnotationCollection, not {}",
                match other {
                    Value::Null => "null",
                    Value::Bool(_) => "true/false",
                    Value::Number(_) => "a number",
                    _ => "a string",
                }
            ))
        }
    };
    let context = map.get("@context").cloned();
    if map.contains_key("target") {
        return Ok((vec![Value::Object(map)], None));
    }
    let kind = map.get("type").and_then(Value::as_str).map(str::to_owned);
    let is = |name: &str| kind.as_deref() == Some(name);
    if is("AnnotationCollection") || map.contains_key("first") {
        return match map.remove("first") {
            Some(Value::Object(mut page)) => {
                let context = page.get("@context").cloned().or(context);
                match page.remove("items") {
                    Some(Value::Array(items)) => Ok((items, context)),
                    None => Ok((Vec::new(), context)),
                    Some(_) => Err("first.items must be a list of annotations".into()),
                }
            }
            Some(Value::String(link)) => Err(format!(
                "the collection links to its first page ({link}) instead of embedding it; \
                 export it with the annotations embedded"
            )),
            None => Ok((Vec::new(), context)), // an empty collection
            Some(_) => Err("first must be an AnnotationPage".into()),
        };
    }
    for key in ["items", "annotations"] {
        match map.remove(key) {
            Some(Value::Array(items)) => return Ok((items, context)),
            Some(_) => return Err(format!("{key} must be a list of annotations")),
            None => {}
        }
    }
    if is("AnnotationPage") {
        return Ok((Vec::new(), context));
    }
    // Not a container: one annotation, whose own parse will say what is wrong with it.
    Ok((vec![Value::Object(map)], None))
}

fn inherit_context(item: Value, context: &Option<Value>) -> Value {
    match (item, context) {
        (Value::Object(map), Some(ctx)) if !map.contains_key("@context") => {
            let mut with = Map::with_capacity(map.len() + 1);
            with.insert("@context".into(), ctx.clone());
            with.extend(map);
            Value::Object(with)
        }
        (item, _) => item,
    }
}

/// The fast path for stored lists: a JSON array of annotations in exactly the shape factmark
/// writes (TextualBody and SpecificResource bodies, SpecificResource targets with quote/position
/// selectors and a TimeState), read straight from the text into the model by a small reader made
/// for that shape. Any other property, shape, duplicate key or JSON it is unsure of makes it give
/// up (`None`) so the general path, which keeps unknown properties and reports errors by field,
/// reads the list instead; so it must build exactly the annotation the general path builds, and
/// validates with the same [`Annotation::validate`].
mod stored {
    use crate::json::{self, Value};

    use crate::model::{
        Annotation, Body, Extra, Selector, SelectorKind, SpecificResource, State, StateKind,
        Target, TextPositionSelector, TextQuoteSelector, TextualBody, TimeState, ANNO_CONTEXT,
    };

    pub fn read(json: &str) -> Option<Vec<Annotation>> {
        let mut r = Reader {
            text: json,
            b: json.as_bytes(),
            at: 0,
        };
        let mut out = Vec::new();
        r.ws();
        r.eat(b'[')?;
        r.items(b']', |r| {
            let a = r.annotation()?;
            a.validate().ok()?;
            out.push(a);
            Some(())
        })?;
        r.ws();
        (r.at == r.b.len()).then_some(out)
    }

    struct Reader<'a> {
        /// The input, sliced for strings: every cut is at an ASCII byte (a quote, a backslash,
        /// a control character), so a char boundary, and nothing is validated twice.
        text: &'a str,
        b: &'a [u8],
        at: usize,
    }

    /// Marks `bit` as seen; `None` when it already was (a repeated key). Inlined, as are
    /// [`Reader::peek`] and [`Reader::eat`]: they run for every key or token, and the release
    /// build, optimized for size, would otherwise call out for each.
    #[inline(always)]
    fn once(seen: &mut u32, bit: u32) -> Option<()> {
        let was = *seen;
        *seen |= 1 << bit;
        (was & (1 << bit) == 0).then_some(())
    }

    /// `Vec::push`, the first push making room for `usual` items rather than four: a stored
    /// list has thousands of one- and two-item lists, which would otherwise take about twice
    /// the memory.
    fn push_expecting<T>(list: &mut Vec<T>, usual: usize, item: T) {
        if list.capacity() == 0 {
            list.reserve_exact(usual);
        }
        list.push(item);
    }

    /// What a SpecificResource or a body may say.
    #[derive(Default)]
    struct Parts<'a> {
        kind: Option<&'a [u8]>,
        id: Option<String>,
        value: Option<String>,
        format: Option<String>,
        source: Option<String>,
        purpose: Vec<String>,
        selector: Vec<Selector>,
        state: Vec<State>,
    }

    impl Parts<'_> {
        fn into_specific(self) -> Option<SpecificResource> {
            if self.kind != Some(b"SpecificResource")
                || self.value.is_some()
                || self.format.is_some()
            {
                return None;
            }
            Some(SpecificResource {
                id: self.id,
                kind: Some("SpecificResource".into()),
                source: self.source.map(Value::String),
                purpose: self.purpose,
                selector: self.selector,
                state: self.state,
                extra: Extra::new(),
            })
        }
    }

    impl<'a> Reader<'a> {
        /// Bytes from here up to the first `"`, `\` or control character; `None` when the text
        /// ends first. Eight bytes at a time while eight remain.
        fn plain(&self) -> Option<usize> {
            const ONES: u64 = 0x0101_0101_0101_0101;
            const HIGH: u64 = 0x8080_8080_8080_8080;
            // The high bit of each byte of `w` below `n` (n <= 128). A borrow can also mark
            // bytes above a marked one, never below: the lowest mark is the first such byte.
            let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
            let rest = &self.b[self.at..];
            let mut i = 0;
            while let Some(chunk) = rest.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
                let stops =
                    below(w, 0x20) | below(w ^ (ONES * 0x22), 1) | below(w ^ (ONES * 0x5C), 1);
                if stops != 0 {
                    return Some(i + stops.trailing_zeros() as usize / 8);
                }
                i += 8;
            }
            let stop = rest[i..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            Some(i + stop)
        }

        fn ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.at) {
                self.at += 1;
            }
        }

        /// The next byte that is not whitespace; the loop stays out of line, as what factmark
        /// writes has no whitespace.
        #[inline(always)]
        fn peek(&mut self) -> Option<u8> {
            match self.b.get(self.at) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => {
                    self.ws();
                    self.b.get(self.at).copied()
                }
                next => next.copied(),
            }
        }

        /// Reads `byte` if it is the next token.
        #[inline(always)]
        fn eat(&mut self, byte: u8) -> Option<()> {
            (self.peek()? == byte).then(|| self.at += 1)
        }

        /// The items of an array or object whose opening bracket was read, up to `close`.
        fn items(
            &mut self,
            close: u8,
            mut item: impl FnMut(&mut Self) -> Option<()>,
        ) -> Option<()> {
            if self.eat(close).is_some() {
                return Some(());
            }
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    c if c == close => {
                        self.at += 1;
                        return Some(());
                    }
                    _ => return None,
                }
            }
        }

        /// An object: `field` reads the value of each key (keys with escapes are not ours).
        fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> Option<()>) -> Option<()> {
            self.eat(b'{')?;
            self.items(b'}', |r| {
                r.eat(b'"')?;
                let start = r.at;
                let len = r.plain()?;
                r.at += len;
                r.eat(b'"')?;
                r.eat(b':')?;
                let key = &r.b[start..start + len];
                field(r, key)
            })
        }

        /// One value or a list of them, as the model reads `body`, `purpose`, …
        fn one_or_many(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
            if self.peek()? == b'[' {
                self.at += 1;
                self.items(b']', item)
            } else {
                item(self)
            }
        }

        fn strings(&mut self, into: &mut Vec<String>) -> Option<()> {
            self.one_or_many(|r| {
                push_expecting(into, 1, r.string()?);
                Some(())
            })
        }

        /// A string without escapes, as its bytes: `type` values, compared, not kept.
        fn word(&mut self) -> Option<&'a [u8]> {
            self.eat(b'"')?;
            let start = self.at;
            let len = self.plain()?;
            self.at += len;
            self.eat(b'"')?;
            Some(&self.b[start..start + len])
        }

        fn string(&mut self) -> Option<String> {
            self.eat(b'"')?;
            let start = self.at;
            self.at += self.plain()?;
            let mut s = self.text.get(start..self.at)?.to_owned();
            loop {
                match *self.b.get(self.at)? {
                    b'"' => {
                        self.at += 1;
                        return Some(s);
                    }
                    b'\\' => match *self.b.get(self.at + 1)? {
                        b'u' => {
                            self.at += 2;
                            let unit = self.hex4()?;
                            let code = match unit {
                                0xD800..=0xDBFF => {
                                    (self.b.get(self.at..self.at + 2)? == b"\\u").then_some(())?;
                                    self.at += 2;
                                    let low = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&low) {
                                        return None;
                                    }
                                    json::surrogate_pair(unit, low)
                                }
                                _ => unit,
                            };
                            s.push(char::from_u32(code)?);
                        }
                        e => {
                            s.push(json::escaped(e)?);
                            self.at += 2;
                        }
                    },
                    c if c < 0x20 => return None,
                    _ => {
                        let start = self.at;
                        self.at += self.plain()?;
                        s.push_str(self.text.get(start..self.at)?);
                    }
                }
            }
        }

        fn hex4(&mut self) -> Option<u32> {
            let digits = self.text.get(self.at..self.at + 4)?;
            if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            self.at += 4;
            u32::from_str_radix(digits, 16).ok()
        }

        /// A non-negative whole number written plainly (no sign, fraction or exponent).
        fn whole(&mut self) -> Option<usize> {
            self.ws();
            let digits = self.b[self.at..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            if digits == 0
                || (digits > 1 && self.b[self.at] == b'0')
                || matches!(self.b.get(self.at + digits), Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            let value = crate::model::decimal(&self.b[self.at..self.at + digits]);
            self.at += digits;
            value
        }

        fn annotation(&mut self) -> Option<Annotation> {
            let (mut context, mut id, mut kind) = (None, None, None);
            let (mut created, mut modified) = (None, None);
            let (mut motivation, mut body, mut target) = (Vec::new(), Vec::new(), Vec::new());
            let mut seen = 0;
            self.object(|r, key| {
                let (bit, slot) = match key {
                    b"@context" => (0, &mut context),
                    b"id" => (1, &mut id),
                    b"created" => (4, &mut created),
                    b"modified" => (5, &mut modified),
                    b"type" => {
                        once(&mut seen, 2)?;
                        kind = Some(r.word()?);
                        return Some(());
                    }
                    b"motivation" => {
                        once(&mut seen, 3)?;
                        return r.strings(&mut motivation);
                    }
                    b"body" => {
                        once(&mut seen, 6)?;
                        return r.one_or_many(|r| {
                            push_expecting(&mut body, 2, r.body()?);
                            Some(())
                        });
                    }
                    b"target" => {
                        once(&mut seen, 7)?;
                        return r.one_or_many(|r| {
                            push_expecting(
                                &mut target,
                                1,
                                Target::Specific(r.parts(false)?.into_specific()?),
                            );
                            Some(())
                        });
                    }
                    _ => return None,
                };
                once(&mut seen, bit)?;
                *slot = Some(r.string()?);
                Some(())
            })?;
            Some(Annotation {
                context: Value::String(context.unwrap_or_else(|| ANNO_CONTEXT.into())),
                id: id?,
                // Anything else fails validation: the general path then says why.
                kind: (kind? == b"Annotation").then(|| "Annotation".into())?,
                motivation,
                created,
                modified,
                creator: None,
                body,
                target,
                extra: Extra::new(),
            })
        }

        fn body(&mut self) -> Option<Body> {
            let parts = self.parts(true)?;
            if parts.kind != Some(b"TextualBody") {
                return parts.into_specific().map(Body::Specific);
            }
            if parts.source.is_some() || !parts.selector.is_empty() || !parts.state.is_empty() {
                return None;
            }
            Some(Body::Textual(TextualBody {
                id: parts.id,
                purpose: parts.purpose,
                value: parts.value?,
                format: parts.format,
                extra: Extra::new(),
            }))
        }

        /// A target (`text: false`) or a body (which may also have `value` and `format`).
        fn parts(&mut self, text: bool) -> Option<Parts<'a>> {
            let mut p = Parts::default();
            let mut seen = 0;
            self.object(|r, key| {
                let (bit, slot) = match key {
                    b"type" => {
                        once(&mut seen, 0)?;
                        p.kind = Some(r.word()?);
                        return Some(());
                    }
                    b"id" => (1, &mut p.id),
                    b"source" => (2, &mut p.source),
                    b"value" if text => (3, &mut p.value),
                    b"format" if text => (4, &mut p.format),
                    b"purpose" => {
                        once(&mut seen, 5)?;
                        return r.strings(&mut p.purpose);
                    }
                    b"selector" => {
                        once(&mut seen, 6)?;
                        return r.one_or_many(|r| {
                            push_expecting(&mut p.selector, 2, r.selector()?);
                            Some(())
                        });
                    }
                    b"state" => {
                        once(&mut seen, 7)?;
                        return r.one_or_many(|r| {
                            push_expecting(&mut p.state, 1, r.state()?);
                            Some(())
                        });
                    }
                    _ => return None,
                };
                once(&mut seen, bit)?;
                *slot = Some(r.string()?);
                Some(())
            })?;
            Some(p)
        }

        fn selector(&mut self) -> Option<Selector> {
            let (mut kind, mut exact, mut prefix, mut suffix) = (None, None, None, None);
            let (mut start, mut end) = (None, None);
            let mut seen = 0;
            self.object(|r, key| {
                let (bit, slot) = match key {
                    b"type" => {
                        once(&mut seen, 0)?;
                        kind = Some(r.word()?);
                        return Some(());
                    }
                    b"exact" => (1, &mut exact),
                    b"prefix" => (2, &mut prefix),
                    b"suffix" => (3, &mut suffix),
                    b"start" | b"end" => {
                        let (bit, slot) = if key == b"start" {
                            (4, &mut start)
                        } else {
                            (5, &mut end)
                        };
                        once(&mut seen, bit)?;
                        *slot = Some(r.whole()?);
                        return Some(());
                    }
                    _ => return None,
                };
                once(&mut seen, bit)?;
                *slot = Some(r.string()?);
                Some(())
            })?;
            let kind = match kind? {
                b"TextQuoteSelector" if start.is_none() && end.is_none() => {
                    SelectorKind::TextQuote(TextQuoteSelector {
                        exact: exact?,
                        prefix,
                        suffix,
                    })
                }
                b"TextPositionSelector"
                    if exact.is_none() && prefix.is_none() && suffix.is_none() =>
                {
                    SelectorKind::TextPosition(TextPositionSelector {
                        start: start?,
                        end: end?,
                    })
                }
                _ => return None,
            };
            Some(Selector {
                kind,
                refined_by: Vec::new(),
                extra: Extra::new(),
            })
        }

        fn state(&mut self) -> Option<State> {
            let mut kind = None;
            let mut source_date = Vec::new();
            let mut seen = 0;
            self.object(|r, key| match key {
                b"type" => {
                    once(&mut seen, 0)?;
                    kind = Some(r.word()?);
                    Some(())
                }
                b"sourceDate" => {
                    once(&mut seen, 1)?;
                    r.strings(&mut source_date)
                }
                _ => None,
            })?;
            (kind? == b"TimeState").then(|| State {
                kind: StateKind::Time(TimeState {
                    source_date,
                    ..TimeState::default()
                }),
                refined_by: Vec::new(),
                extra: Extra::new(),
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Reader;

        #[test]
        fn plain_runs_end_where_a_byte_by_byte_scan_ends() {
            let special = [
                b'"', b'\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xe9,
            ];
            let mut seed = 1u32;
            for len in 0..40 {
                for _ in 0..50 {
                    let bytes: Vec<u8> = (0..len)
                        .map(|_| {
                            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                            let r = (seed >> 16) as usize;
                            if r.is_multiple_of(8) {
                                special[r / 8 % special.len()]
                            } else {
                                b'a' + (r % 26) as u8
                            }
                        })
                        .collect();
                    for at in 0..=len {
                        let want = bytes[at..]
                            .iter()
                            .position(|&c| c == b'"' || c == b'\\' || c < 0x20);
                        assert_eq!(
                            // plain() reads bytes only: these need not be UTF-8.
                            Reader {
                                text: "",
                                b: &bytes,
                                at
                            }
                            .plain(),
                            want,
                            "{bytes:?} from {at}"
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{new_id, NewFlag, Selectors, TextPositionSelector, TextQuoteSelector};
    /// `serde_json::json!`, as core's JSON value.
    macro_rules! json {
        ($($t:tt)+) => {
            serde_json::from_value::<crate::json::Value>(serde_json::json!($($t)+)).unwrap()
        };
    }

    fn written(n: u8, evidence: &[&str]) -> Annotation {
        Annotation::new_flag(NewFlag {
            source: "https://news.example/a",
            selectors: Selectors {
                quote: TextQuoteSelector {
                    exact: format!("quote \"{n}\" é😀"),
                    prefix: Some("before ".into()),
                    suffix: n.is_multiple_of(2).then(|| " after".into()),
                },
                position: (!n.is_multiple_of(3))
                    .then_some(TextPositionSelector { start: 7, end: 20 }),
            },
            flag: if n.is_multiple_of(2) {
                crate::model::Flag::Unverified
            } else {
                crate::model::Flag::Fabricated
            },
            note: (n % 4 != 1).then_some("a note\nwith \\ escapes"),
            evidence: evidence.iter().map(|s| s.to_string()).collect(),
            id: new_id([n; 16]),
            now: "2026-11-20T10:00:00.123Z".into(),
        })
        .unwrap()
    }

    fn both(json: &str) -> (StoredOutcome, StoredOutcome) {
        (parse_stored(json), parse_stored_general(json))
    }

    #[test]
    fn what_factmark_writes_takes_the_fast_path_and_reads_the_same() {
        let mut all: Vec<Annotation> = (0..12)
            .map(|n| {
                written(
                    n,
                    if n % 5 == 0 {
                        &["https://a.example/1"]
                    } else {
                        &[]
                    },
                )
            })
            .collect();
        all[3].touch("2026-11-21T10:00:00Z".into());
        let json = serde_json::to_string(&all).unwrap();
        let fast = stored::read(&json).expect("factmark's own shape is read on the fast path");
        assert_eq!(fast, all);
        let (fast, general) = both(&json);
        assert_eq!(fast, general);
        assert_eq!(fast.valid, all);
        // The benchmarks' hand-written shape (motivation as a string, a format, a bare TimeState).
        let bench = json!([{
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": "urn:uuid:0b9f1f6e-4a4b-4c4d-8e8f-000000000001",
            "type": "Annotation",
            "motivation": "assessing",
            "created": "2026-11-20T09:00:00.000Z",
            "body": [
                {"type": "TextualBody", "purpose": "assessing", "value": "fabricated"},
                {"type": "TextualBody", "purpose": "commenting", "value": "n", "format": "text/plain"},
                {"type": "SpecificResource", "purpose": "linking", "source": "https://f.example/1"}
            ],
            "target": {
                "type": "SpecificResource",
                "source": "https://news.example/a",
                "selector": [
                    {"type": "TextQuoteSelector", "exact": "q", "prefix": "p", "suffix": "s"},
                    {"type": "TextPositionSelector", "start": 1, "end": 2}
                ],
                "state": {"type": "TimeState", "sourceDate": "2026-11-20T09:00:00.000Z"}
            }
        }])
        .to_string();
        assert!(stored::read(&bench).is_some());
        let (fast, general) = both(&bench);
        assert_eq!(fast, general);
        assert_eq!(fast.valid.len(), 1);
    }

    #[test]
    fn anything_else_falls_back_to_the_general_path_and_loses_nothing() {
        let a = written(4, &[]).to_value();
        let variants = [
            // unknown properties are kept by the general path
            {
                let mut v = a.clone();
                v["x-note"] = json!({"kept": true});
                v
            },
            // explicit nulls: some stay as unknown properties there
            {
                let mut v = a.clone();
                v["target"]["selector"][0]["start"] = Value::Null;
                v
            },
            {
                let mut v = a.clone();
                v["@context"] = Value::Null;
                v
            },
            {
                let mut v = a.clone();
                v["body"][0]["format"] = Value::Null;
                v
            },
            {
                let mut v = a.clone();
                v["creator"] = json!({"name": "Ines"});
                v
            },
            {
                let mut v = a.clone();
                v["@context"] = json!(["http://www.w3.org/ns/anno.jsonld", {"x": "y"}]);
                v
            },
            {
                let mut v = a.clone();
                v["target"]["selector"][0]["refinedBy"] =
                    json!({"type": "TextQuoteSelector", "exact": "x"});
                v
            },
            // invalid items must reach quarantine as they were stored
            {
                let mut v = a.clone();
                v["created"] = json!("soon");
                v
            },
            {
                let mut v = a.clone();
                v["target"]["selector"][1]["start"] = json!(-1);
                v
            },
            json!("junk"),
        ];
        for v in variants {
            let json = json!([written(2, &[]).to_value(), v]).to_string();
            assert!(stored::read(&json).is_none(), "fast path taken for {v}");
            let (fast, general) = both(&json);
            assert_eq!(fast, general, "{v}");
        }
        // A repeated id: the older copy is handed back, on both paths alike.
        let newer = {
            let mut b = written(3, &[]);
            b.touch("2026-11-22T10:00:00Z".into());
            b
        };
        let json = serde_json::to_string(&[written(3, &[]), newer.clone()]).unwrap();
        assert!(stored::read(&json).is_some());
        let (fast, general) = both(&json);
        assert_eq!(fast, general);
        assert_eq!(fast.valid, vec![newer]);
        assert_eq!(fast.invalid, vec![written(3, &[]).to_value()]);
    }

    #[test]
    fn escapes_spacing_and_key_order_read_the_same_on_both_paths() {
        // Written by hand: every JSON escape, a surrogate pair, keys in another order, spaces
        // and newlines between tokens, one-element lists written as lists.
        let json = r#" [ {
            "type" : "Annotation", "id":"urn:uuid:0b9f1f6e-4a4b-4c4d-8e8f-000000000002",
            "@context": "http://www.w3.org/ns/anno.jsonld", "motivation": ["assessing"],
            "created": "2026-11-20T10:00:00Z",
            "target": [ {
                "selector": [
                    {"suffix": "\u00e9\ud83d\ude00", "exact": "a \"b\" \\ \/ \b\f\n\r\t \u2019",
                     "type": "TextQuoteSelector"},
                    {"end": 20, "start": 0, "type": "TextPositionSelector"}
                ],
                "source": "https://news.example/a", "type": "SpecificResource"
            } ],
            "body": {"value": "fabricated", "purpose": ["assessing"], "type": "TextualBody"}
        } ]
        "#;
        assert!(stored::read(json).is_some(), "fast path taken");
        let (fast, general) = both(json);
        assert_eq!(fast, general);
        let a = &fast.valid[0];
        assert_eq!(a.quote(), Some("a \"b\" \\ / \u{8}\u{c}\n\r\t \u{2019}"));
        assert_eq!(a.selectors().unwrap().quote.suffix.as_deref(), Some("é😀"));
        assert_eq!(a.flag(), Some(crate::model::Flag::Fabricated));
    }

    #[test]
    fn json_the_fast_reader_is_unsure_of_goes_the_general_way() {
        let a = serde_json::to_string(&[written(7, &["https://a.example/1"])]).unwrap();
        let swap = |from: &str, to: &str| {
            assert!(a.contains(from), "{from}");
            a.replacen(from, to, 1)
        };
        let cases = [
            // a repeated key: which one counts is the general path's business
            swap(
                "\"type\":\"Annotation\"",
                "\"type\":\"Annotation\",\"type\":\"Annotation\"",
            ),
            // a lone surrogate, a control character, an unknown escape
            swap(
                "\"value\":\"fabricated\"",
                "\"value\":\"fabricated\\ud83d\"",
            ),
            swap("a note", "a\u{1}note"),
            swap("a note", "a\\qnote"),
            // numbers that are not plain whole numbers
            swap("\"start\":7", "\"start\":7.0"),
            swap("\"start\":7", "\"start\":-7"),
            swap("\"start\":7", "\"start\":07"),
            swap("\"start\":7", "\"start\":7e0"),
            swap("\"start\":7", "\"start\":99999999999999999999999"),
            // explicit null, a key with an escape, text after the list, an object, not a list
            swap("\"format\":\"text/plain\"", "\"format\":null"),
            swap("\"exact\"", "\"ex\\u0061ct\""),
            format!("{a} []"),
            a[1..a.len() - 1].to_string(),
        ];
        for json in cases {
            assert!(stored::read(&json).is_none(), "fast path taken for {json}");
            let (fast, general) = both(&json);
            assert_eq!(fast, general, "{json}");
        }
    }

    #[test]
    fn cut_short_stored_text_never_panics_the_fast_reader() {
        let json = serde_json::to_string(&[written(7, &["https://a.example/1"]), written(8, &[])])
            .unwrap()
            .replace("a note", "a \\u00e9\\ud83d\\ude00 \\\\ note");
        assert!(stored::read(&json).is_some());
        for end in (0..json.len()).filter(|&i| json.is_char_boundary(i)) {
            assert!(
                stored::read(&json[..end]).is_none(),
                "read {end} bytes as a whole list"
            );
        }
    }
}
