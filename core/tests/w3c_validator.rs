//! Every kind of annotation factmark writes passes the W3C MUST assertions (the WPT
//! annotation-model suite, run by `shared/w3c-annotation-model/validate.py`).
//!
//! Needs `python3` with the `jsonschema` package (4.18+); `cargo xtask test` installs it. The
//! shared folder is `<repo>/../shared`, or `$FACTMARK_SHARED_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;

use factmark_core::export;
use factmark_core::import::parse_import;
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

fn validator() -> PathBuf {
    let script = shared_dir().join("w3c-annotation-model/validate.py");
    assert!(
        script.is_file(),
        "W3C validator not found at {}; set FACTMARK_SHARED_DIR to the shared folder",
        script.display()
    );
    let probe = Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output();
    match probe {
        Err(e) => {
            panic!("python3 is needed to run the W3C validator but could not be started: {e}")
        }
        Ok(out) if !out.status.success() => panic!(
            "the W3C validator needs the Python package jsonschema (4.18+): run \
             `python3 -m pip install jsonschema` (cargo xtask test does this)\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Ok(_) => script,
    }
}

/// Runs the validator; returns (exit code, passed, failed, full output).
fn validate(files: &[PathBuf]) -> (i32, usize, usize, String) {
    let out = Command::new("python3")
        .arg(validator())
        .args(files)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout.lines().last().unwrap_or("");
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        summary.ends_with(" failed") && numbers.len() == 2,
        "unexpected validator output:\n{text}"
    );
    (
        out.status.code().unwrap_or(-1),
        numbers[0],
        numbers[1],
        text,
    )
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, value: &impl serde::Serialize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

const PAGE: &str = "https://news.example/africa/mali-algeria-escalation";

fn flag(
    n: u8,
    flag: Flag,
    exact: &str,
    position: Option<(usize, usize)>,
    note: Option<&str>,
    evidence: &[&str],
) -> Annotation {
    Annotation::new_flag(NewFlag {
        source: PAGE,
        selectors: Selectors {
            quote: TextQuoteSelector {
                exact: exact.into(),
                prefix: Some("before ".into()),
                suffix: Some(" after".into()),
            },
            position: position.map(|(start, end)| TextPositionSelector { start, end }),
        },
        flag,
        note,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        id: new_id([n; 16]),
        now: rfc3339_from_unix_ms(1_735_787_045_678 + i64::from(n) * 60_000),
    })
    .unwrap()
}

fn varied_set() -> Vec<(&'static str, Annotation)> {
    let mut set = vec![
        (
            "plain-unverified",
            flag(
                1,
                Flag::Unverified,
                "troops crossed the border",
                Some((120, 145)),
                None,
                &[],
            ),
        ),
        (
            "fabricated-no-position",
            flag(
                2,
                Flag::Fabricated,
                "a quote without position",
                None,
                None,
                &[],
            ),
        ),
        (
            "note-emoji-rtl-html",
            flag(
                3,
                Flag::Fabricated,
                "الجيش عبر الحدود 🚩",
                Some((0, 18)),
                Some("<script>alert('x')</script> & \"quotes\" 👩🏽‍💻 — نص عربي\nsecond line\u{200f}"),
                &[
                    "https://factcheck.example/a?x=1&y=2#frag",
                    "http://archive.example/web/2025/https://news.example/",
                ],
            ),
        ),
        (
            "many-evidence",
            flag(
                4,
                Flag::Unverified,
                "𠀀𠀁 non-BMP CJK and e\u{301} combining",
                Some((5, 40)),
                Some("=HYPERLINK(\"http://evil\") is only text here"),
                &(0..MAX_EVIDENCE)
                    .map(|i| Box::leak(format!("https://e{i}.example/").into_boxed_str()) as &str)
                    .collect::<Vec<_>>(),
            ),
        ),
    ];

    let mut edited = flag(
        5,
        Flag::Unverified,
        "edited later",
        Some((10, 22)),
        Some("first note"),
        &[],
    );
    edited.set_flag(Flag::Fabricated);
    edited.set_note(Some("second thoughts")).unwrap();
    edited
        .set_evidence(vec!["https://proof.example/1".into()])
        .unwrap();
    edited.touch(rfc3339_from_unix_ms(1_735_800_000_000));
    set.push(("edited", edited));

    let mut note_removed = flag(
        6,
        Flag::Unverified,
        "note removed",
        None,
        Some("temporary"),
        &["https://x.example"],
    );
    note_removed.set_note(None).unwrap();
    note_removed.set_evidence(Vec::new()).unwrap();
    note_removed.touch(rfc3339_from_unix_ms(1_735_800_000_001));
    set.push(("note-removed", note_removed));

    let mut from_server = flag(
        7,
        Flag::Fabricated,
        "server id",
        Some((1, 10)),
        Some("with creator"),
        &[],
    );
    from_server.id = "https://annotations.example/anno/42".into();
    from_server.creator = Some(via_serde::to_core(
        json!({"id": "https://annotations.example/users/ama", "type": "Person", "name": "Ama"}),
    ));
    set.push(("server-assigned", from_server));

    let mut reanchored = flag(
        8,
        Flag::Unverified,
        "moved passage",
        Some((100, 113)),
        None,
        &[],
    );
    reanchored
        .set_selectors(Selectors {
            quote: TextQuoteSelector {
                exact: "moved passage".into(),
                prefix: None,
                suffix: None,
            },
            position: Some(TextPositionSelector {
                start: 300,
                end: 313,
            }),
        })
        .unwrap();
    set.push(("reanchored", reanchored));

    // A Hypothesis annotation the reader then flagged: factmark writes it too.
    let mut hypothesis = Annotation::from_serde(json!({
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "id": "https://hypothes.is/a/4pvVWs0TEe6V3W9vgIx0Yw",
        "created": "2024-01-23T10:11:12.345678+00:00",
        "creator": "acct:reader@hypothes.is",
        "motivation": "commenting",
        "body": [{"type": "TextualBody", "value": "Source?", "format": "text/markdown"}],
        "target": [{"source": PAGE, "selector": [
            {"type": "TextPositionSelector", "start": 1200, "end": 1225},
            {"type": "TextQuoteSelector", "exact": "troops crossed the border"}]}]
    }))
    .unwrap();
    hypothesis.set_flag(Flag::Unverified);
    hypothesis
        .set_evidence(vec!["https://factcheck.example/h".into()])
        .unwrap();
    hypothesis.touch(rfc3339_from_unix_ms(1_735_800_000_002));
    set.push(("hypothesis-flagged", hypothesis));
    set
}

#[test]
fn everything_factmark_writes_passes_the_w3c_must_assertions() {
    let dir = out_dir("w3c-validator");
    let set = varied_set();
    let annotations: Vec<Annotation> = set.iter().map(|(_, a)| a.clone()).collect();
    let mut files: Vec<PathBuf> = set
        .iter()
        .map(|(name, a)| write(&dir, &format!("{name}.json"), a))
        .collect();
    let collection = dir.join("collection.jsonld");
    std::fs::write(&collection, export::to_jsonld_string(&annotations)).unwrap();
    files.push(collection.clone());
    files.push(write(
        &dir,
        "labelled-collection.json",
        &export::collection(&annotations, Some("Fact-check: Mali")),
    ));
    files.push(write(&dir, "array.json", &annotations));

    let (code, passed, failed, output) = validate(&files);
    assert_eq!(
        (code, failed),
        (0, 0),
        "the W3C validator failed:\n{output}"
    );
    let count = set.len() * 4; // each on its own, in two collections, in the array
    assert!(
        passed >= count && passed % count == 0,
        "the validator did not see every annotation:\n{output}"
    );

    // The exported collection reads back as the same annotations.
    let back = parse_import(&std::fs::read_to_string(&collection).unwrap());
    assert!(back.refused.is_empty(), "{:?}", back.refused);
    assert_eq!(back.accepted, annotations);
}

/// Why evidence links are Specific Resources: the shape other tools sometimes use, an External
/// Web Resource with a purpose, breaks a MUST (factmark still reads it).
#[test]
fn evidence_as_web_resource_with_purpose_would_fail_the_validator() {
    let dir = out_dir("w3c-validator-ewr");
    let mut v = varied_set()[2].1.to_serde(); // several bodies: an array
    v["body"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "https://factcheck.example/a", "purpose": "linking"}));
    assert_eq!(
        Annotation::from_serde(v.clone()).unwrap().evidence().last(),
        Some(&"https://factcheck.example/a")
    );
    let (code, _, failed, output) = validate(&[write(&dir, "ewr-purpose.json", &v)]);
    assert_eq!((code, failed), (1, 1), "{output}");
    assert!(output.contains("purpose"), "{output}");

    let ours: Value = varied_set()[2].1.to_serde();
    let (code, _, failed, output) = validate(&[write(&dir, "ours.json", &ours)]);
    assert_eq!((code, failed), (0, 0), "{output}");
}
