//! Import (files from readers and other tools), stored lists, and exports.

use factmark_core::export::{collection, to_csv, to_jsonld_string, CSV_COLUMNS};
use factmark_core::import::{parse_import, parse_stored, Refusal, MAX_IMPORT_ITEMS};
use factmark_core::model::*;
use serde_json::{json, Value};

#[path = "support/via_serde.rs"]
mod via_serde;
use via_serde::ViaSerde;

const PAGE: &str = "https://news.example/africa/mali-algeria-escalation";

fn flag(n: u8, exact: &str, note: Option<&str>, evidence: &[&str]) -> Annotation {
    Annotation::new_flag(NewFlag {
        source: PAGE,
        selectors: Selectors {
            quote: TextQuoteSelector {
                exact: exact.into(),
                prefix: Some("p ".into()),
                suffix: Some(" s".into()),
            },
            position: Some(TextPositionSelector {
                start: 3,
                end: 3 + exact.chars().count(),
            }),
        },
        flag: if n.is_multiple_of(2) {
            Flag::Fabricated
        } else {
            Flag::Unverified
        },
        note,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        id: new_id([n; 16]),
        now: rfc3339_from_unix_ms(1_700_000_000_000 + i64::from(n)),
    })
    .unwrap()
}

fn set() -> Vec<Annotation> {
    vec![
        flag(1, "first passage", None, &[]),
        flag(
            2,
            "second, with \"quotes\"",
            Some("line one\nline two"),
            &["https://a.example/1", "https://b.example/2"],
        ),
        flag(3, "third 🚩 مصدر", Some("=1+1"), &[]),
    ]
}

#[test]
fn import_accepts_every_container_shape() {
    let all = set();
    let values: Vec<Value> = all.iter().map(Annotation::to_serde).collect();
    let page = json!({"@context": ANNO_CONTEXT, "type": "AnnotationPage", "items": values});
    let shapes = [
        serde_json::to_string(&values[0]).unwrap(),
        serde_json::to_string(&values).unwrap(),
        page.to_string(),
        to_jsonld_string(&all),
        collection(&all, Some("label")).to_string(),
        format!("\u{feff}{}", serde_json::to_string(&values).unwrap()),
    ];
    for (i, text) in shapes.iter().enumerate() {
        let out = parse_import(text);
        assert!(out.refused.is_empty(), "shape {i}: {:?}", out.refused);
        let expected = if i == 0 { &all[..1] } else { &all[..] };
        assert_eq!(out.accepted, expected, "shape {i}");
    }
}

#[test]
fn import_refuses_with_index_id_and_reason_and_keeps_the_rest() {
    let good = set();
    let mut bad_flag = good[1].to_serde();
    bad_flag["id"] = json!("urn:uuid:bad-flag");
    bad_flag["body"][0]["value"] = json!("misleading");
    let no_target =
        json!({"@context": ANNO_CONTEXT, "id": "urn:x:no-target", "type": "Annotation"});
    let text = serde_json::to_string(&json!([
        good[0].to_serde(),
        bad_flag,
        42,
        no_target,
        good[2].to_serde()
    ]))
    .unwrap();
    let out = parse_import(&text);
    assert_eq!(out.accepted, vec![good[0].clone(), good[2].clone()]);
    assert_eq!(
        out.refused,
        vec![
            Refusal {
                index: 1,
                id: Some("urn:uuid:bad-flag".into()),
                reason: "body[0].value: unknown flag value \"misleading\"; expected \"unverified\" or \"fabricated\"".into()
            },
            Refusal { index: 2, id: None, reason: "annotation: an annotation must be a JSON object, not a number".into() },
            Refusal {
                index: 3,
                id: Some("urn:x:no-target".into()),
                reason: "target: missing; an annotation must say what it is about".into()
            },
        ]
    );
}

#[test]
fn import_keeps_the_newest_copy_of_a_repeated_id() {
    let old = flag(5, "passage", Some("old"), &[]);
    let mut new = old.clone();
    new.set_note(Some("new")).unwrap();
    new.touch(rfc3339_from_unix_ms(1_800_000_000_000));
    let other = flag(6, "other", None, &[]);

    // Newer later in the file: it replaces the older one, in the older one's place.
    let out = parse_import(&serde_json::to_string(&[&old, &other, &new]).unwrap());
    assert_eq!(out.accepted, vec![new.clone(), other.clone()]);
    assert_eq!(out.refused.len(), 1);
    assert_eq!(out.refused[0].index, 0);
    assert_eq!(out.refused[0].id.as_deref(), Some(old.id.as_str()));
    assert!(
        out.refused[0].reason.contains("duplicate id"),
        "{}",
        out.refused[0].reason
    );

    // Newer first: the later, older copy is refused.
    let out = parse_import(&serde_json::to_string(&[&new, &old]).unwrap());
    assert_eq!(out.accepted, vec![new.clone()]);
    assert_eq!(out.refused[0].index, 1);
    assert!(
        out.refused[0].reason.contains("same as item 0"),
        "{}",
        out.refused[0].reason
    );

    // Exact repeats: the first stays.
    let out = parse_import(&serde_json::to_string(&[&other, &other]).unwrap());
    assert_eq!(out.accepted, vec![other]);
    assert_eq!(out.refused[0].index, 1);
}

#[test]
fn import_refuses_unusable_files_whole() {
    let cases = [
        ("", "the file is empty"),
        ("  \n", "the file is empty"),
        ("{\"id\": ", "not valid JSON"),
        ("\"hello\"", "not a string"),
        ("12", "not a number"),
        (
            r#"{"type": "AnnotationCollection", "total": 3, "first": "https://annotations.example/page1"}"#,
            "links to its first page",
        ),
        (
            r#"{"type": "AnnotationPage", "items": 5}"#,
            "items must be a list",
        ),
    ];
    for (text, reason) in cases {
        let out = parse_import(text);
        assert!(out.accepted.is_empty(), "{text}");
        assert_eq!(out.refused.len(), 1, "{text}");
        assert_eq!(out.refused[0].index, 0);
        assert!(
            out.refused[0].reason.contains(reason),
            "{text}: {}",
            out.refused[0].reason
        );
    }
    // An empty collection is an empty import, not an error.
    let out = parse_import(&to_jsonld_string(&[]));
    assert_eq!((out.accepted.len(), out.refused.len()), (0, 0));
    // A single object that is not an annotation says why.
    let out = parse_import(r#"{"hello": "world"}"#);
    assert_eq!(
        out.refused[0].reason,
        "id: missing; every annotation needs an IRI"
    );
}

#[test]
fn import_caps_the_number_of_items() {
    let one = flag(9, "x", None, &[]).to_serde();
    let items: Vec<Value> = (0..MAX_IMPORT_ITEMS + 2)
        .map(|i| {
            let mut v = one.clone();
            v["id"] = json!(format!("urn:x:{i}"));
            v
        })
        .collect();
    let out = parse_import(&serde_json::to_string(&items).unwrap());
    assert_eq!(out.accepted.len(), MAX_IMPORT_ITEMS);
    assert_eq!(out.refused.len(), 2);
    assert_eq!(out.refused[0].index, MAX_IMPORT_ITEMS);
    assert!(out.refused[0].reason.contains("more than"));
}

#[test]
fn stored_lists_lose_nothing() {
    let all = set();
    let mut older = all[0].clone();
    older.created = Some(rfc3339_from_unix_ms(1_600_000_000_000));
    let broken =
        json!({"id": "urn:x:broken", "type": "Annotation", "target": PAGE, "created": "soon"});
    let stored = json!([
        all[0].to_serde(),
        broken,
        "junk",
        all[1].to_serde(),
        older.to_serde(),
        all[2].to_serde()
    ]);
    let out = parse_stored(&stored.to_string());
    assert_eq!(out.corrupt, None);
    assert_eq!(out.valid, all);
    assert_eq!(
        out.invalid
            .into_iter()
            .map(via_serde::to_serde)
            .collect::<Vec<_>>(),
        vec![broken, json!("junk"), older.to_serde()]
    );

    let out = parse_stored("[{\"id\": \"a\"");
    assert!(
        out.corrupt
            .as_deref()
            .unwrap()
            .starts_with("not valid JSON"),
        "{:?}",
        out.corrupt
    );
    assert!(out.valid.is_empty() && out.invalid.is_empty());
    assert_eq!(
        parse_stored("true")
            .corrupt
            .as_deref()
            .map(|c| c.contains("true/false")),
        Some(true)
    );
    // Also reads the shapes it might find from an export or an envelope.
    assert_eq!(parse_stored(&to_jsonld_string(&all)).valid, all);
    assert_eq!(
        parse_stored(&json!({"version": 1, "annotations": all}).to_string()).valid,
        all
    );
}

#[test]
fn collection_shape() {
    let all = set();
    let c = via_serde::to_serde(collection(&all, Some("Mali story")));
    assert_eq!(c["@context"], ANNO_CONTEXT);
    assert_eq!(c["type"], "AnnotationCollection");
    assert_eq!(c["label"], "Mali story");
    assert_eq!(c["total"], 3);
    assert_eq!(c["first"]["type"], "AnnotationPage");
    assert_eq!(c["first"]["startIndex"], 0);
    let items = c["first"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|i| i.get("@context").is_none()),
        "items inherit the context"
    );
    // Stable ids from the content; different content, different ids.
    assert_eq!(collection(&all, None)["id"].as_str(), c["id"].as_str());
    assert_ne!(collection(&all[..2], None)["id"].as_str(), c["id"].as_str());
    assert_ne!(c["id"], c["first"]["id"]);
    assert!(c["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert!(collection(&[], None).get("label").is_none());
}

/// A small RFC 4180 reader, to check what a spreadsheet would see.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR must start CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert_ne!(c, '\n', "bare LF outside quotes");
                cell.push(c);
            }
        }
    }
    assert!(
        row.is_empty() && cell.is_empty(),
        "last line must end with CRLF"
    );
    rows
}

#[test]
fn csv_rows_quote_and_defuse_formulas() {
    let mut all = set();
    all.push(flag(4, "-5 degrees", Some("@SUM(A1:A9)"), &[]));
    all.push(flag(7, "+cmd|' /C calc'!A0", Some("\tindented"), &[]));
    all[0].creator = Some(via_serde::to_core(
        json!({"type": "Person", "name": "=Ama, \"the checker\""}),
    ));
    let text = to_csv(&all);
    let rows = read_csv(&text);
    assert_eq!(rows.len(), all.len() + 1);
    assert_eq!(rows[0], CSV_COLUMNS);
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    assert!(rows.iter().all(|r| r.len() == CSV_COLUMNS.len()));

    assert_eq!(rows[1][col("id")], all[0].id);
    assert_eq!(rows[1][col("flag")], "unverified");
    assert_eq!(rows[1][col("creator")], "'=Ama, \"the checker\"");
    assert_eq!(rows[1][col("note")], "");
    assert_eq!(rows[2][col("quote")], "second, with \"quotes\"");
    assert_eq!(rows[2][col("note")], "line one\nline two");
    assert_eq!(
        rows[2][col("evidence")],
        "https://a.example/1 https://b.example/2"
    );
    assert_eq!(rows[2][col("start")], "3");
    assert_eq!(rows[2][col("end")], "24");
    assert_eq!(rows[2][col("source")], PAGE);
    assert_eq!(rows[2][col("motivation")], "assessing");
    assert_eq!(rows[3][col("quote")], "third 🚩 مصدر");
    assert_eq!(rows[3][col("note")], "'=1+1");
    assert_eq!(rows[4][col("quote")], "'-5 degrees");
    assert_eq!(rows[4][col("note")], "'@SUM(A1:A9)");
    assert_eq!(rows[5][col("quote")], "'+cmd|' /C calc'!A0");
    // Leading and trailing whitespace of notes is trimmed on save, so a tab cannot start one;
    // created and prefix cells stay as they are.
    assert_eq!(rows[5][col("note")], "indented");
    assert_eq!(rows[1][col("created")], all[0].created.clone().unwrap());
    assert_eq!(rows[1][col("prefix")], "p ");
    // No cell a spreadsheet would evaluate.
    for row in &rows[1..] {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[test]
fn csv_of_foreign_annotations() {
    let a = Annotation::from_serde(json!({
        "@context": ANNO_CONTEXT, "id": "https://example.org/anno1", "type": "Annotation",
        "body": "https://example.org/post1", "target": "https://example.com/page1"
    }))
    .unwrap();
    let rows = read_csv(&to_csv(&[a]));
    assert_eq!(rows[1][0], "https://example.org/anno1");
    assert_eq!(
        rows[1][CSV_COLUMNS.iter().position(|c| *c == "source").unwrap()],
        "https://example.com/page1"
    );
    assert_eq!(to_csv(&[]), CSV_COLUMNS.join(",") + "\r\n");
}
