//! Reading annotations from outside: a file the reader imports ([`parse_import`]) and what
//! factmark stored itself ([`parse_stored`]). Both accept one annotation, a JSON array of
//! annotations, an AnnotationPage (`items`) or an AnnotationCollection that embeds its first
//! page (`first.items`); embedded items without `@context` inherit the container's.
//!
//! Nothing is dropped silently: an import reports every item it refuses with the reason, and a
//! stored list hands back the items it cannot use so the caller can quarantine them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{parse_timestamp, Annotation};

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
    out.refused.sort_by_key(|r| r.index);
    out
}

/// Parses what factmark stored. Nothing is lost: unusable items, and older copies of a
/// repeated id, come back in `invalid` as they were stored.
///
/// What factmark wrote itself is read on a typed fast path (see [`stored::read`]); anything
/// else, and any list with an item that does not validate, takes the general path, item by item.
pub fn parse_stored(json: &str) -> StoredOutcome {
    if let Some(annotations) = stored::read(json) {
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
    /// id → (position in `annotations`, index of the item in the file)
    by_id: HashMap<String, (usize, usize)>,
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
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
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

/// The typed fast path for stored lists: a JSON array of annotations in exactly the shape
/// factmark writes (TextualBody and SpecificResource bodies, one SpecificResource target with
/// quote/position selectors and a TimeState), parsed straight from the text into the model. Any
/// other property or shape makes it give up (`None`) so the general path, which keeps unknown
/// properties and reports errors by field, reads the list instead; so it must build exactly the
/// annotation the general path builds, and validates with the same [`Annotation::validate`].
mod stored {
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::Deserialize;
    use serde_json::Value;

    use crate::model::{
        Annotation, Body, Extra, Selector, SelectorKind, SpecificResource, State, StateKind,
        Target, TextPositionSelector, TextQuoteSelector, TextualBody, TimeState, ANNO_CONTEXT,
    };

    pub fn read(json: &str) -> Option<Vec<Annotation>> {
        let items: Vec<Item> = serde_json::from_str(json).ok()?;
        items
            .into_iter()
            .map(|item| {
                let a = item.into_annotation()?;
                a.validate().ok()?;
                Some(a)
            })
            .collect()
    }

    /// A property that, when present, holds a value: an explicit `null` makes the fast path
    /// give up (the general path keeps some nulls as unknown properties).
    fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        T::deserialize(d).map(Some)
    }

    /// One value or a list of them, as the model reads `body`, `purpose`, … (`null` is refused,
    /// as above).
    struct List<T>(Vec<T>);

    impl<T> Default for List<T> {
        fn default() -> Self {
            List(Vec::new())
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = List<T>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a value or a list")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                    let mut items = Vec::new();
                    while let Some(item) = seq.next_element()? {
                        items.push(item);
                    }
                    Ok(List(items))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<List<T>, E> {
                    T::deserialize(de::value::StrDeserializer::new(v)).map(|t| List(vec![t]))
                }
                fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
                    T::deserialize(de::value::MapAccessDeserializer::new(map))
                        .map(|t| List(vec![t]))
                }
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        #[serde(rename = "@context")]
        #[serde(default, deserialize_with = "present")]
        context: Option<String>,
        id: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        motivation: List<String>,
        #[serde(default, deserialize_with = "present")]
        created: Option<String>,
        #[serde(default, deserialize_with = "present")]
        modified: Option<String>,
        #[serde(default)]
        body: List<ItemBody>,
        #[serde(default)]
        target: List<Resource>,
    }

    /// A TextualBody or a SpecificResource, told apart by `type` after parsing.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ItemBody {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default, deserialize_with = "present")]
        id: Option<String>,
        #[serde(default)]
        purpose: List<String>,
        #[serde(default, deserialize_with = "present")]
        value: Option<String>,
        #[serde(default, deserialize_with = "present")]
        format: Option<String>,
        #[serde(default, deserialize_with = "present")]
        source: Option<String>,
        #[serde(default)]
        selector: List<ItemSelector>,
        #[serde(default)]
        state: List<ItemState>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Resource {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default, deserialize_with = "present")]
        id: Option<String>,
        #[serde(default, deserialize_with = "present")]
        source: Option<String>,
        #[serde(default)]
        purpose: List<String>,
        #[serde(default)]
        selector: List<ItemSelector>,
        #[serde(default)]
        state: List<ItemState>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ItemSelector {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default, deserialize_with = "present")]
        exact: Option<String>,
        #[serde(default, deserialize_with = "present")]
        prefix: Option<String>,
        #[serde(default, deserialize_with = "present")]
        suffix: Option<String>,
        #[serde(default, deserialize_with = "present")]
        start: Option<u64>,
        #[serde(default, deserialize_with = "present")]
        end: Option<u64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ItemState {
        #[serde(rename = "type")]
        kind: String,
        #[serde(rename = "sourceDate", default)]
        source_date: List<String>,
    }

    impl Item {
        fn into_annotation(self) -> Option<Annotation> {
            Some(Annotation {
                context: Value::String(self.context.unwrap_or_else(|| ANNO_CONTEXT.into())),
                id: self.id,
                kind: self.kind,
                motivation: self.motivation.0,
                created: self.created,
                modified: self.modified,
                creator: None,
                body: self
                    .body
                    .0
                    .into_iter()
                    .map(ItemBody::into_body)
                    .collect::<Option<_>>()?,
                target: self
                    .target
                    .0
                    .into_iter()
                    .map(|r| Some(Target::Specific(r.into_specific()?)))
                    .collect::<Option<_>>()?,
                extra: Extra::new(),
            })
        }
    }

    impl ItemBody {
        fn into_body(self) -> Option<Body> {
            match self.kind.as_str() {
                "TextualBody"
                    if self.source.is_none()
                        && self.selector.0.is_empty()
                        && self.state.0.is_empty() =>
                {
                    Some(Body::Textual(TextualBody {
                        id: self.id,
                        purpose: self.purpose.0,
                        value: self.value?,
                        format: self.format,
                        extra: Extra::new(),
                    }))
                }
                "SpecificResource" if self.value.is_none() && self.format.is_none() => Resource {
                    kind: self.kind,
                    id: self.id,
                    source: self.source,
                    purpose: self.purpose,
                    selector: self.selector,
                    state: self.state,
                }
                .into_specific()
                .map(Body::Specific),
                _ => None,
            }
        }
    }

    impl Resource {
        fn into_specific(self) -> Option<SpecificResource> {
            if self.kind != "SpecificResource" {
                return None;
            }
            Some(SpecificResource {
                id: self.id,
                kind: Some(self.kind),
                source: self.source.map(Value::String),
                purpose: self.purpose.0,
                selector: self
                    .selector
                    .0
                    .into_iter()
                    .map(ItemSelector::into_selector)
                    .collect::<Option<_>>()?,
                state: self
                    .state
                    .0
                    .into_iter()
                    .map(ItemState::into_state)
                    .collect::<Option<_>>()?,
                extra: Extra::new(),
            })
        }
    }

    impl ItemSelector {
        fn into_selector(self) -> Option<Selector> {
            let kind = match self.kind.as_str() {
                "TextQuoteSelector" if self.start.is_none() && self.end.is_none() => {
                    SelectorKind::TextQuote(TextQuoteSelector {
                        exact: self.exact?,
                        prefix: self.prefix,
                        suffix: self.suffix,
                    })
                }
                "TextPositionSelector"
                    if self.exact.is_none() && self.prefix.is_none() && self.suffix.is_none() =>
                {
                    SelectorKind::TextPosition(TextPositionSelector {
                        start: usize::try_from(self.start?).ok()?,
                        end: usize::try_from(self.end?).ok()?,
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
    }

    impl ItemState {
        fn into_state(self) -> Option<State> {
            (self.kind == "TimeState").then(|| State {
                kind: StateKind::Time(TimeState {
                    source_date: self.source_date.0,
                    ..TimeState::default()
                }),
                refined_by: Vec::new(),
                extra: Extra::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{new_id, NewFlag, Selectors, TextPositionSelector, TextQuoteSelector};
    use serde_json::json;

    fn written(n: u8, evidence: &[&str]) -> Annotation {
        Annotation::new_flag(NewFlag {
            source: "https://news.example/a",
            selectors: Selectors {
                quote: TextQuoteSelector {
                    exact: format!("quote \"{n}\" é😀"),
                    prefix: Some("before ".into()),
                    suffix: (n % 2 == 0).then(|| " after".into()),
                },
                position: (n % 3 != 0).then_some(TextPositionSelector { start: 7, end: 20 }),
            },
            flag: if n % 2 == 0 {
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
}
