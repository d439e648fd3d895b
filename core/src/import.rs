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
pub fn parse_stored(json: &str) -> StoredOutcome {
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
