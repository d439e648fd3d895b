//! The annotation model: foreign annotations survive a read-modify-write round trip, factmark's
//! own annotations have the documented shape, and every validation error names its field.

use std::path::PathBuf;

use factmark_core::model::*;
use serde_json::{json, Value};

#[path = "support/via_serde.rs"]
mod via_serde;
use via_serde::ViaSerde;

fn shared_dir() -> PathBuf {
    match std::env::var_os("FACTMARK_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

const NOW: &str = "2025-03-04T05:06:07.890Z";
const LATER: &str = "2025-03-05T08:00:00.000Z";
const PAGE: &str = "https://news.example/africa/mali-algeria-escalation";

fn selectors(exact: &str, position: Option<(usize, usize)>) -> Selectors {
    Selectors {
        quote: TextQuoteSelector {
            exact: exact.into(),
            prefix: Some("officials said that ".into()),
            suffix: Some(" on Tuesday.".into()),
        },
        position: position.map(|(start, end)| TextPositionSelector { start, end }),
    }
}

fn new_flag(note: Option<&str>, evidence: &[&str]) -> Result<Annotation, ValidationError> {
    Annotation::new_flag(NewFlag {
        source: PAGE,
        selectors: selectors("troops crossed the border", Some((120, 145))),
        flag: Flag::Unverified,
        note,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        id: new_id([7; 16]),
        now: NOW.into(),
    })
}

fn hypothesis() -> Value {
    json!({
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "id": "https://hypothes.is/a/4pvVWs0TEe6V3W9vgIx0Yw",
        "created": "2024-01-23T10:11:12.345678+00:00",
        "modified": "2024-01-23T10:15:00.000001+00:00",
        "creator": "acct:reader@hypothes.is",
        "motivation": "commenting",
        "body": [
            {"type": "TextualBody", "value": "Source? **Nobody** else reports this.", "format": "text/markdown",
             "language": "en"},
            {"type": "TextualBody", "purpose": "tagging", "value": "needs-source"}
        ],
        "target": [{
            "source": PAGE,
            "scope": ["https://news.example/amp/mali"],
            "selector": [
                {"type": "RangeSelector", "startContainer": "/main[1]/article[1]/p[3]", "startOffset": 0,
                 "endContainer": "/main[1]/article[1]/p[3]", "endOffset": 25},
                {"type": "TextPositionSelector", "start": 1200, "end": 1225},
                {"type": "TextQuoteSelector", "exact": "troops crossed the border", "prefix": "officials said that ",
                 "suffix": " on Tuesday.", "x-hypothesis-hint": 3}
            ]
        }],
        "hypothesis:group": "__world__",
        "permissions": {"read": ["group:__world__"]}
    })
}

fn recogito() -> Value {
    json!({
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": "#a88b22d0-6106-4872-9435-c78b5e89fede",
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "value": "Check against the ministry statement", "purpose": "commenting",
             "creator": {"id": "https://recogito.example/u/ama", "name": "Ama"}, "created": "2024-05-01T12:00:00Z"},
            {"type": "TextualBody", "purpose": "tagging", "value": "Place"}
        ],
        "target": {
            "selector": [
                {"type": "TextQuoteSelector", "exact": "Kidal"},
                {"type": "TextPositionSelector", "start": 38, "end": 43}
            ]
        }
    })
}

#[test]
fn spec_samples_parse_and_round_trip_unchanged() {
    let dir = shared_dir().join("w3c-annotation-model/tools/samples");
    let mut seen = 0;
    for entry in
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let a = Annotation::from_serde(original.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            a.to_serde(),
            original,
            "{} changed on a round trip",
            path.display()
        );
        // And through text, as storage does.
        let text = serde_json::to_string(&a).unwrap();
        let again: Annotation = serde_json::from_str(&text).unwrap();
        assert_eq!(again, a, "{}", path.display());
        seen += 1;
    }
    assert_eq!(
        seen,
        20,
        "expected the 20 examples of the spec in {}",
        dir.display()
    );
}

#[test]
fn spec_sample_shapes_are_understood() {
    let sample = |n: u32| -> Annotation {
        let path = shared_dir().join(format!(
            "w3c-annotation-model/tools/samples/example{n}.json"
        ));
        Annotation::from_serde(
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap(),
        )
        .unwrap()
    };
    let a = sample(1);
    assert_eq!(a.body, vec![Body::Iri("http://example.org/post1".into())]);
    assert_eq!(a.source(), Some("http://example.com/page1"));
    assert_eq!(a.flag(), None);
    assert_eq!(a.selectors(), None);
    // bodyValue is the note.
    assert_eq!(sample(6).note(), Some("Comment text"));
    assert_eq!(sample(7).note(), Some("Comment text"));
    let a = sample(14);
    assert_eq!(a.created.as_deref(), Some("2015-01-28T12:00:00Z"));
    assert_eq!(a.updated(), Some("2015-01-29T09:00:00Z"));
    assert_eq!(
        a.extra["generator"],
        via_serde::to_core(json!("http://example.org/client1"))
    );
    let a = sample(18);
    assert_eq!(a.motivation, vec!["bookmarking".to_string()]);
    assert_eq!(
        a.note(),
        None,
        "tagging and describing bodies are not the reader's note"
    );
}

#[test]
fn new_flag_has_the_documented_shape() {
    let a = new_flag(
        Some("  The ministry denied this.  "),
        &["https://factcheck.example/mali", " http://b.example/x "],
    )
    .unwrap();
    let v = a.to_serde();
    assert_eq!(
        v,
        json!({
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": "urn:uuid:07070707-0707-4707-8707-070707070707",
            "type": "Annotation",
            "motivation": "assessing",
            "created": NOW,
            "body": [
                {"type": "TextualBody", "purpose": "assessing", "value": "unverified"},
                {"type": "TextualBody", "purpose": "commenting", "value": "The ministry denied this.",
                 "format": "text/plain"},
                {"type": "SpecificResource", "purpose": "linking", "source": "https://factcheck.example/mali"},
                {"type": "SpecificResource", "purpose": "linking", "source": "http://b.example/x"}
            ],
            "target": {
                "type": "SpecificResource",
                "source": PAGE,
                "selector": [
                    {"type": "TextQuoteSelector", "exact": "troops crossed the border",
                     "prefix": "officials said that ", "suffix": " on Tuesday."},
                    {"type": "TextPositionSelector", "start": 120, "end": 145}
                ],
                "state": {"type": "TimeState", "sourceDate": NOW}
            }
        })
    );
    assert_eq!(a.flag(), Some(Flag::Unverified));
    assert_eq!(a.note(), Some("The ministry denied this."));
    assert_eq!(
        a.evidence(),
        vec!["https://factcheck.example/mali", "http://b.example/x"]
    );
    assert_eq!(a.source(), Some(PAGE));
    assert_eq!(a.quote(), Some("troops crossed the border"));
    assert_eq!(
        a.selectors(),
        Some(selectors("troops crossed the border", Some((120, 145))))
    );
    assert_eq!(Annotation::from_serde(v).unwrap(), a);
}

#[test]
fn editing_a_flag() {
    let mut a = new_flag(None, &[]).unwrap();
    assert_eq!(a.note(), None);
    assert!(a.evidence().is_empty());
    a.set_flag(Flag::Fabricated);
    a.set_note(Some("Photo is from 2012 👀 — مصدر")).unwrap();
    a.set_evidence(vec![
        "https://a.example/1".into(),
        "https://a.example/1".into(),
        "  ".into(),
    ])
    .unwrap();
    a.touch(LATER.into());
    assert_eq!(a.flag(), Some(Flag::Fabricated));
    assert_eq!(a.note(), Some("Photo is from 2012 👀 — مصدر"));
    assert_eq!(a.evidence(), vec!["https://a.example/1"]);
    assert_eq!(a.updated(), Some(LATER));
    assert_eq!(
        a.motivation,
        vec!["assessing".to_string()],
        "the motivation is not repeated"
    );
    let flags = a
        .body
        .iter()
        .filter(|b| matches!(b, Body::Textual(t) if t.purpose == ["assessing"]))
        .count();
    assert_eq!(flags, 1);
    a.validate().unwrap();

    // Removing the note and the evidence leaves just the flag.
    a.set_note(Some("   ")).unwrap();
    a.set_evidence(Vec::new()).unwrap();
    assert_eq!(a.note(), None);
    assert_eq!(a.body.len(), 1);

    // A refused edit changes nothing.
    let before = a.clone();
    assert_eq!(
        a.set_note(Some(&"x".repeat(MAX_NOTE_CHARS + 1)))
            .unwrap_err()
            .field,
        "note"
    );
    assert_eq!(
        a.set_evidence(vec![
            "https://ok.example".into(),
            "javascript:alert(1)".into()
        ])
        .unwrap_err()
        .field,
        "evidence[1]"
    );
    assert_eq!(a, before);
    // Exactly at the limit is fine (the limit counts code points, not bytes).
    a.set_note(Some(&"é".repeat(MAX_NOTE_CHARS))).unwrap();
    a.validate().unwrap();
}

#[test]
fn updating_selectors_after_reanchoring() {
    let mut a = Annotation::from_serde(hypothesis()).unwrap();
    let new = selectors("troops crossed the border", Some((1300, 1325)));
    a.set_selectors(new.clone()).unwrap();
    assert_eq!(a.selectors(), Some(new));
    let v = a.to_serde();
    let sel = &v["target"]["selector"];
    assert_eq!(sel[0]["type"], "RangeSelector", "other selectors stay");
    assert_eq!(
        sel[2]["x-hypothesis-hint"], 3,
        "unknown selector properties stay"
    );
    assert_eq!(
        a.set_selectors(selectors("", None)).unwrap_err().field,
        "selector.exact"
    );
}

#[test]
fn hypothesis_annotation_keeps_everything_through_an_edit() {
    let original = hypothesis();
    let mut a = Annotation::from_serde(original.clone()).unwrap();
    // The one-element target list comes back as a single object: the same thing in JSON-LD.
    let mut same = original.clone();
    same["target"] = original["target"][0].clone();
    assert_eq!(a.to_serde(), same);
    assert_eq!(a.flag(), None);
    assert_eq!(a.note(), Some("Source? **Nobody** else reports this."));
    assert_eq!(a.source(), Some(PAGE));
    assert_eq!(
        a.selectors().unwrap().position,
        Some(TextPositionSelector {
            start: 1200,
            end: 1225
        })
    );

    a.set_flag(Flag::Unverified);
    a.set_note(Some("Nobody else reports this.")).unwrap();
    a.set_evidence(vec!["https://factcheck.example/1".into()])
        .unwrap();
    a.touch(LATER.into());
    a.validate().unwrap();

    let mut expected = original;
    expected["motivation"] = json!(["commenting", "assessing"]);
    expected["modified"] = json!(LATER);
    expected["body"] = json!([
        {"type": "TextualBody", "purpose": "assessing", "value": "unverified"},
        {"type": "TextualBody", "value": "Nobody else reports this.", "format": "text/plain", "language": "en"},
        {"type": "TextualBody", "purpose": "tagging", "value": "needs-source"},
        {"type": "SpecificResource", "purpose": "linking", "source": "https://factcheck.example/1"}
    ]);
    expected["target"] = expected["target"][0].clone();
    assert_eq!(a.to_serde(), expected);
}

#[test]
fn recogito_annotation_round_trips_and_gets_its_page() {
    let original = recogito();
    let mut a = Annotation::from_serde(original.clone()).unwrap();
    assert_eq!(a.to_serde(), original);
    assert_eq!(a.source(), None, "RecogitoJS leaves the page implied");
    assert_eq!(a.note(), Some("Check against the ministry statement"));
    assert_eq!(a.quote(), Some("Kidal"));
    a.fill_missing_source(PAGE);
    assert_eq!(a.source(), Some(PAGE));
    a.set_note(Some("Checked: matches the statement")).unwrap();
    let v = a.to_serde();
    assert_eq!(
        v["body"][0]["creator"]["name"], "Ama",
        "unknown body properties stay"
    );
    assert_eq!(v["body"][0]["created"], "2024-05-01T12:00:00Z");
    assert_eq!(v["body"][0]["purpose"], "commenting");
}

#[test]
fn unknown_properties_survive_at_every_level() {
    let original = json!({
        "@context": ["http://www.w3.org/ns/anno.jsonld", {"fc": "https://factcheck.example/ns#"}],
        "id": "https://annotations.example/anno/9",
        "type": "Annotation",
        "motivation": ["assessing", "commenting"],
        "fc:reviewStatus": "draft",
        "generator": {"id": "https://factcheck.example/tool", "type": "Software"},
        "body": [
            {"type": "TextualBody", "purpose": "assessing", "value": "fabricated", "fc:confidence": 0.9},
            {"type": "SpecificResource", "purpose": ["linking", "describing"],
             "source": {"id": "https://archive.example/x", "type": "Text", "format": "text/html"},
             "fc:archived": true},
            {"type": "Choice", "items": [{"id": "https://e.example/1"}]},
            {"type": ["TextualBody", "fc:Verdict"], "value": "kept", "purpose": "describing"},
            {"id": "https://evidence.example/legacy", "purpose": "linking", "fc:note": "old shape"}
        ],
        "target": [
            {"type": "SpecificResource", "source": PAGE, "fc:section": "world",
             "selector": {"type": "TextQuoteSelector", "exact": "a quote", "fc:x": [1, 2],
                          "refinedBy": {"type": "TextPositionSelector", "start": 0, "end": 1, "fc:y": null}},
             "state": [{"type": "TimeState", "sourceDateStart": "2025-01-01T00:00:00Z",
                        "sourceDateEnd": "2025-01-02T00:00:00Z", "cached": "https://archive.example/x",
                        "fc:z": "kept"},
                       {"type": "HttpRequestState", "value": "Accept: text/html"}],
             "styleClass": "red"},
            {"type": "SpecificResource", "source": PAGE,
             "selector": {"type": "FragmentSelector", "value": "para5",
                          "conformsTo": "http://tools.ietf.org/rfc/rfc3987",
                          "refinedBy": {"type": "TextQuoteSelector", "exact": "inner quote"}}},
            "https://news.example/other"
        ]
    });
    let mut a = Annotation::from_serde(original.clone()).unwrap();
    assert_eq!(a.to_serde(), original);
    assert_eq!(a.flag(), Some(Flag::Fabricated));
    assert_eq!(
        a.evidence(),
        vec![
            "https://archive.example/x",
            "https://evidence.example/legacy"
        ]
    );
    assert_eq!(a.quote(), Some("a quote"));
    assert_eq!(
        a.selectors().unwrap().position,
        None,
        "a position inside refinedBy is not the page position"
    );
    let Target::Specific(t) = &a.target[0] else {
        panic!("first target is a SpecificResource")
    };
    let StateKind::Time(ts) = &t.state[0].kind else {
        panic!("a TimeState")
    };
    assert_eq!(ts.cached, vec!["https://archive.example/x".to_string()]);
    assert_eq!(t.selector[0].refined_by.len(), 1);

    // Keeping an evidence link keeps its body as it was.
    a.set_evidence(vec![
        "https://new.example/".into(),
        "https://archive.example/x".into(),
    ])
    .unwrap();
    a.set_flag(Flag::Unverified);
    let v = a.to_serde();
    assert_eq!(v["fc:reviewStatus"], "draft");
    assert_eq!(v["body"][0]["fc:confidence"], 0.9);
    assert_eq!(
        v["body"][1]["type"], "Choice",
        "non-evidence bodies stay in place"
    );
    assert_eq!(v["body"][3]["source"], "https://new.example/");
    let written = serde_json::to_string(&a.body[2]).unwrap();
    assert_eq!(
        written.matches("\"type\"").count(),
        1,
        "one type key: {written}"
    );
    assert_eq!(v["body"][2]["type"], json!(["TextualBody", "fc:Verdict"]));
    assert_eq!(v["body"][4]["fc:archived"], true);
    assert_eq!(v["target"][0]["selector"]["refinedBy"]["fc:y"], Value::Null);
    assert_eq!(v["target"][0]["state"][0]["fc:z"], "kept");
    assert_eq!(
        v["target"][1]["selector"]["refinedBy"]["exact"],
        "inner quote"
    );
}

#[test]
fn missing_context_defaults_to_the_w3c_one() {
    let mut v = recogito();
    v.as_object_mut().unwrap().remove("@context");
    let a = Annotation::from_serde(v).unwrap();
    assert_eq!(a.context, via_serde::to_core(json!(ANNO_CONTEXT)));
}

/// A valid factmark annotation to break one field at a time.
fn valid() -> Value {
    new_flag(Some("note"), &["https://e.example/1"])
        .unwrap()
        .to_serde()
}

fn error_for(value: Value) -> ValidationError {
    match Annotation::from_serde(value.clone()) {
        Ok(_) => panic!("accepted: {value:#}"),
        Err(e) => e,
    }
}

#[test]
fn every_validation_error_names_its_field() {
    type Breaker = fn(&mut Value);
    let cases: Vec<(&str, Breaker, &str, &str)> = vec![
        (
            "not an object",
            |v| *v = json!([1]),
            "annotation",
            "JSON object",
        ),
        (
            "missing id",
            |v| {
                v.as_object_mut().unwrap().remove("id");
            },
            "id",
            "missing",
        ),
        (
            "id with a space",
            |v| v["id"] = json!("urn:uuid:a b"),
            "id",
            "spaces",
        ),
        ("empty id", |v| v["id"] = json!(""), "id", "empty"),
        ("id not a string", |v| v["id"] = json!(42), "id", "string"),
        (
            "wrong type",
            |v| v["type"] = json!("Note"),
            "type",
            "Annotation",
        ),
        (
            "missing type",
            |v| {
                v.as_object_mut().unwrap().remove("type");
            },
            "type",
            "missing",
        ),
        (
            "wrong context",
            |v| v["@context"] = json!("https://schema.org"),
            "@context",
            "anno.jsonld",
        ),
        (
            "missing target",
            |v| {
                v.as_object_mut().unwrap().remove("target");
            },
            "target",
            "missing",
        ),
        (
            "empty target list",
            |v| v["target"] = json!([]),
            "target",
            "missing",
        ),
        (
            "target a number",
            |v| v["target"] = json!(5),
            "target",
            "JSON object",
        ),
        (
            "target object says nothing",
            |v| v["target"] = json!({}),
            "target",
            "source",
        ),
        (
            "target not an IRI",
            |v| v["target"] = json!("not an iri"),
            "target",
            "IRI",
        ),
        (
            "source not absolute",
            |v| v["target"]["source"] = json!("/relative/page"),
            "target.source",
            "absolute",
        ),
        (
            "source a number",
            |v| v["target"]["source"] = json!(1),
            "target.source",
            "IRI",
        ),
        (
            "empty quote",
            |v| v["target"]["selector"][0]["exact"] = json!(""),
            "target.selector[0].exact",
            "empty",
        ),
        (
            "blank quote",
            |v| v["target"]["selector"][0]["exact"] = json!(" \n "),
            "target.selector[0].exact",
            "empty",
        ),
        (
            "quote missing",
            |v| {
                v["target"]["selector"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("exact");
            },
            "target.selector[0].exact",
            "missing",
        ),
        (
            "quote a number",
            |v| v["target"]["selector"][0]["exact"] = json!(3),
            "target.selector[0].exact",
            "string",
        ),
        (
            "quote too long",
            |v| v["target"]["selector"][0]["exact"] = json!("q".repeat(MAX_QUOTE_CHARS + 1)),
            "target.selector[0].exact",
            "limit",
        ),
        (
            "prefix too long",
            |v| v["target"]["selector"][0]["prefix"] = json!("p".repeat(MAX_CONTEXT_CHARS + 1)),
            "target.selector[0].prefix",
            "limit",
        ),
        (
            "start after end",
            |v| v["target"]["selector"][1]["start"] = json!(200),
            "target.selector[1].start",
            "after end",
        ),
        (
            "negative start",
            |v| v["target"]["selector"][1]["start"] = json!(-1),
            "target.selector[1].start",
            "non-negative",
        ),
        (
            "fractional end",
            |v| v["target"]["selector"][1]["end"] = json!(1.5),
            "target.selector[1].end",
            "non-negative",
        ),
        (
            "end missing",
            |v| {
                v["target"]["selector"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("end");
            },
            "target.selector[1].end",
            "missing",
        ),
        (
            "selector without type",
            |v| {
                v["target"]["selector"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("type");
            },
            "target.selector[0].type",
            "missing",
        ),
        (
            "selector a number",
            |v| v["target"]["selector"][0] = json!(7),
            "target.selector[0]",
            "JSON object",
        ),
        (
            "bad refinedBy",
            |v| {
                v["target"]["selector"][0]["refinedBy"] =
                    json!({"type": "TextPositionSelector", "start": 5, "end": 1})
            },
            "target.selector[0].refinedBy.start",
            "after end",
        ),
        (
            "bad sourceDate",
            |v| v["target"]["state"]["sourceDate"] = json!("last week"),
            "target.state.sourceDate",
            "RFC 3339",
        ),
        (
            "TimeState without date",
            |v| v["target"]["state"] = json!({"type": "TimeState"}),
            "target.state",
            "sourceDate",
        ),
        (
            "TimeState range backwards",
            |v| v["target"]["state"] = json!({"type": "TimeState", "sourceDateStart": "2025-01-02T00:00:00Z", "sourceDateEnd": "2025-01-01T00:00:00Z"}),
            "target.state.sourceDateStart",
            "after",
        ),
        (
            "unknown flag value",
            |v| v["body"][0]["value"] = json!("false"),
            "body[0].value",
            "unknown flag value",
        ),
        (
            "second flag",
            |v| {
                v["body"].as_array_mut().unwrap().push(
                    json!({"type": "TextualBody", "purpose": "assessing", "value": "fabricated"}),
                )
            },
            "body[3]",
            "one flag",
        ),
        (
            "note over the limit",
            |v| v["body"][1]["value"] = json!("n".repeat(MAX_NOTE_CHARS + 1)),
            "body[1].value",
            "limit",
        ),
        (
            "note not a string",
            |v| v["body"][1]["value"] = json!({"text": "x"}),
            "body[1].value",
            "string",
        ),
        (
            "javascript evidence",
            |v| v["body"][2]["source"] = json!("javascript:alert(document.cookie)"),
            "body[2].source",
            "http",
        ),
        (
            "data evidence",
            |v| v["body"][2]["source"] = json!("data:text/html;base64,PHNjcmlwdD4="),
            "body[2].source",
            "http",
        ),
        (
            "evidence without host",
            |v| v["body"][2]["source"] = json!("https:///path"),
            "body[2].source",
            "host",
        ),
        (
            "evidence with credentials",
            |v| v["body"][2]["source"] = json!("https://bank.example@evil.example/"),
            "body[2].source",
            "password",
        ),
        (
            "evidence missing source",
            |v| {
                v["body"][2].as_object_mut().unwrap().remove("source");
            },
            "body[2].source",
            "missing",
        ),
        (
            "old-shape evidence, bad URL",
            |v| v["body"][2] = json!({"id": "javascript:x()", "purpose": "linking"}),
            "body[2].id",
            "http",
        ),
        (
            "textual evidence, bad URL",
            |v| {
                v["body"][2] = json!({"type": "TextualBody", "purpose": "linking", "value": "ftp://x.example/"})
            },
            "body[2].value",
            "http",
        ),
        (
            "too much evidence",
            |v| {
                for i in 0..MAX_EVIDENCE {
                    v["body"].as_array_mut().unwrap().push(json!({"type": "SpecificResource", "purpose": "linking", "source": format!("https://e.example/{i}")}));
                }
            },
            "body",
            "at most",
        ),
        (
            "body a number",
            |v| v["body"] = json!(5),
            "body",
            "JSON object",
        ),
        (
            "body object says nothing",
            |v| v["body"][1] = json!({"format": "text/plain"}),
            "body[1]",
            "needs",
        ),
        (
            "body and bodyValue",
            |v| v["bodyValue"] = json!("text"),
            "bodyValue",
            "together",
        ),
        (
            "bad created",
            |v| v["created"] = json!("2025-02-30T00:00:00Z"),
            "created",
            "RFC 3339",
        ),
        (
            "created without zone",
            |v| v["created"] = json!("2025-01-01T00:00:00"),
            "created",
            "RFC 3339",
        ),
        (
            "created a number",
            |v| v["created"] = json!(1735787045678u64),
            "created",
            "string",
        ),
        (
            "bad modified",
            |v| v["modified"] = json!("yesterday"),
            "modified",
            "RFC 3339",
        ),
        (
            "motivation a number",
            |v| v["motivation"] = json!(1),
            "motivation",
            "string",
        ),
        (
            "blank motivation",
            |v| v["motivation"] = json!(""),
            "motivation",
            "empty",
        ),
        (
            "purpose a number",
            |v| v["body"][0]["purpose"] = json!(1),
            "body[0].purpose",
            "string",
        ),
    ];
    for (what, breaker, field, reason) in cases {
        let mut v = valid();
        breaker(&mut v);
        let err = error_for(v);
        assert_eq!(err.field, field, "{what}: {err}");
        assert!(
            err.reason.contains(reason),
            "{what}: reason {:?} should mention {reason:?}",
            err.reason
        );
        assert_eq!(err.to_string(), format!("{}: {}", err.field, err.reason));
    }
}

#[test]
fn new_flag_refuses_bad_input_with_the_field() {
    let base = || NewFlag {
        source: PAGE,
        selectors: selectors("troops crossed the border", Some((120, 145))),
        flag: Flag::Fabricated,
        note: None,
        evidence: Vec::new(),
        id: new_id([1; 16]),
        now: NOW.into(),
    };
    type Breaker = fn(&mut NewFlag<'static>);
    let cases: Vec<(Breaker, &str)> = vec![
        (
            |f| f.selectors.quote.exact = "  ".into(),
            "target.selector.exact",
        ),
        (
            |f| f.selectors.position = Some(TextPositionSelector { start: 9, end: 3 }),
            "target.selector.start",
        ),
        (|f| f.source = "", "target.source"),
        (|f| f.source = "news page", "target.source"),
        (|f| f.id = "no scheme".into(), "id"),
        (|f| f.id = "relative-id".into(), "id"),
        (|f| f.now = "now".into(), "created"),
        (
            |f| f.note = Some(Box::leak("x".repeat(MAX_NOTE_CHARS + 1).into_boxed_str())),
            "note",
        ),
        (
            |f| f.evidence = vec!["javascript:alert(1)".into()],
            "evidence[0]",
        ),
        (
            |f| f.evidence = vec!["https://ok.example".into(), "data:,x".into()],
            "evidence[1]",
        ),
        (
            |f| {
                f.evidence = (0..=MAX_EVIDENCE)
                    .map(|i| format!("https://e.example/{i}"))
                    .collect()
            },
            "evidence",
        ),
    ];
    for (breaker, field) in cases {
        let mut f = base();
        breaker(&mut f);
        let err = Annotation::new_flag(f).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
    // A flag without position, note or evidence is fine.
    let mut f = base();
    f.selectors.position = None;
    let a = Annotation::new_flag(f).unwrap();
    assert_eq!(a.selectors().unwrap().position, None);
    assert_eq!(
        a.to_serde()["target"]["selector"]["type"],
        "TextQuoteSelector"
    );
}

#[test]
fn flag_body_value_is_matched_leniently_but_written_as_is() {
    let mut v = valid();
    v["body"][0]["value"] = json!("Fabricated");
    let a = Annotation::from_serde(v.clone()).unwrap();
    assert_eq!(a.flag(), Some(Flag::Fabricated));
    assert_eq!(a.to_serde(), v);
}

#[test]
fn serde_deserialize_is_structural_and_names_the_field() {
    let err = serde_json::from_value::<Annotation>(
        json!({"id": "x", "type": "Annotation", "target": [{"source": 1}]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("target.source"), "{err}");
    // Structure only: meaning is checked by validate()/from_value().
    let a: Annotation = serde_json::from_value(json!({"id": "x", "type": "Annotation"})).unwrap();
    assert_eq!(a.validate().unwrap_err().field, "target");
}
