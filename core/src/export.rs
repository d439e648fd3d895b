//! Exports: a W3C AnnotationCollection (JSON-LD) and a CSV for spreadsheets.

use crate::json::{self, Value};

use crate::model::{json_object, json_text, Annotation, ANNO_CONTEXT};

/// An AnnotationCollection embedding all `annotations` in its first (and only) page, so the
/// file stands alone. Its ids are `urn:uuid:`s derived from the annotation ids: the same set
/// exports to the same ids, and the W3C requirement that a collection and a page have an IRI
/// holds without a clock or a random source.
pub fn collection(annotations: &[Annotation], label: Option<&str>) -> Value {
    let id = content_id(annotations, b"collection");
    let items: Vec<Value> = annotations
        .iter()
        .map(|a| {
            let mut v = a.to_value();
            // Embedded items inherit the collection's context; drop the repeat.
            if a.context == Value::String(ANNO_CONTEXT.into()) {
                if let Value::Object(m) = &mut v {
                    m.shift_remove("@context");
                }
            }
            v
        })
        .collect();
    let mut fields = vec![
        ("@context", ANNO_CONTEXT.into()),
        ("id", id.into()),
        ("type", "AnnotationCollection".into()),
    ];
    if let Some(label) = label {
        fields.push(("label", label.into()));
    }
    fields.push(("total", annotations.len().into()));
    fields.push((
        "first",
        json_object(vec![
            ("id", content_id(annotations, b"page-0").into()),
            ("type", "AnnotationPage".into()),
            ("startIndex", 0.into()),
            ("items", Value::Array(items)),
        ]),
    ));
    json_object(fields)
}

/// [`collection`] as pretty-printed JSON-LD.
pub fn to_jsonld_string(annotations: &[Annotation]) -> String {
    json::to_string_pretty(&collection(annotations, None))
}

/// The CSV header row, in column order.
pub const CSV_COLUMNS: [&str; 14] = [
    "id",
    "created",
    "modified",
    "flag",
    "quote",
    "prefix",
    "suffix",
    "start",
    "end",
    "source",
    "note",
    "evidence",
    "motivation",
    "creator",
];

/// One row per annotation (RFC 4180: comma-separated, CRLF line ends, fields quoted when they
/// hold a comma, quote or line break). Cells that a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'`, the usual defence against
/// formula injection; the text is otherwise unchanged. Several evidence links share one cell,
/// separated by spaces. No byte-order mark: add one when saving for Excel.
pub fn to_csv(annotations: &[Annotation]) -> String {
    let mut out = String::new();
    push_row(&mut out, &CSV_COLUMNS);
    for a in annotations {
        let selectors = a.selectors();
        let quote = selectors.as_ref().map(|s| &s.quote);
        let position = selectors.as_ref().and_then(|s| s.position);
        let (start, end) = position
            .map(|p| (p.start.to_string(), p.end.to_string()))
            .unwrap_or_default();
        push_row(
            &mut out,
            &[
                &a.id,
                a.created.as_deref().unwrap_or_default(),
                a.modified.as_deref().unwrap_or_default(),
                a.flag().map(|f| f.as_str()).unwrap_or_default(),
                quote.map(|q| q.exact.as_str()).unwrap_or_default(),
                quote.and_then(|q| q.prefix.as_deref()).unwrap_or_default(),
                quote.and_then(|q| q.suffix.as_deref()).unwrap_or_default(),
                &start,
                &end,
                a.source().unwrap_or_default(),
                a.note().unwrap_or_default(),
                &a.evidence().join(" "),
                &a.motivation.join(" "),
                &creator_name(a.creator.as_ref()),
            ],
        );
    }
    out
}

fn creator_name(creator: Option<&Value>) -> String {
    match creator {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|c| creator_name(Some(c)))
            .collect::<Vec<_>>()
            .join(" "),
        // An object by its name, else as JSON; a number or a boolean as JSON.
        Some(other) => ["name", "nickname", "id"]
            .iter()
            .find_map(|k| other.get(k).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(|| json_text(other)),
    }
}

fn push_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

fn push_cell(out: &mut String, cell: &str) {
    // Full-width forms too: some spreadsheet locales treat them as formula starts.
    let formula = cell.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ]);
    let quoted = cell.contains([',', '"', '\r', '\n']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// A version 8 (custom) UUID URN from a 128-bit FNV-1a hash of the annotation ids and `salt`.
fn content_id(annotations: &[Annotation], salt: &[u8]) -> String {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u128::from(b);
            h = h.wrapping_mul(PRIME);
        }
    };
    eat(salt);
    for a in annotations {
        eat(&[0]);
        eat(a.id.as_bytes());
    }
    let mut bytes = h.to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    crate::model::uuid_urn(bytes)
}
