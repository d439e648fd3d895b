//! core's JSON module against serde_json (preserve_order), which it replaces
//! in the widget: same text written, same documents accepted, same meaning.

use factmark_core::json::{self, Map, Number, Value};
use proptest::prelude::*;

/// One generated structure, built into both our Value and serde_json's.
#[derive(Debug, Clone)]
enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

impl Tree {
    fn ours(&self) -> Value {
        match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::from(*b),
            Tree::Int(n) => Value::from(*n),
            Tree::UInt(n) => Value::from(*n),
            Tree::Float(f) => Value::from(*f),
            Tree::Str(s) => Value::from(s.as_str()),
            Tree::Arr(items) => Value::Array(items.iter().map(Tree::ours).collect()),
            Tree::Obj(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.ours())).collect())
            }
        }
    }
    fn serde(&self) -> serde_json::Value {
        match self {
            Tree::Null => serde_json::Value::Null,
            Tree::Bool(b) => serde_json::Value::from(*b),
            Tree::Int(n) => serde_json::Value::from(*n),
            Tree::UInt(n) => serde_json::Value::from(*n),
            Tree::Float(f) => serde_json::Value::from(*f),
            Tree::Str(s) => serde_json::Value::from(s.as_str()),
            Tree::Arr(items) => serde_json::Value::Array(items.iter().map(Tree::serde).collect()),
            Tree::Obj(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.serde()))
                    .collect(),
            ),
        }
    }
}

/// Strings rich in what needs escaping: quotes, backslashes, control
/// characters, DEL, '/', non-ASCII and non-BMP characters.
fn text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '"',
        '\\',
        '/',
        '\n',
        '\r',
        '\t',
        '\u{0}',
        '\u{8}',
        '\u{c}',
        '\u{1f}',
        '\u{7f}',
        'é',
        '\u{2028}',
        '\u{10000}',
        '😀',
        'a',
        ' ',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..8)
        .prop_map(|chars| chars.into_iter().collect())
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1_000_000i64..1_000_000).prop_map(|n| n as f64 / 8.0),
        (-30i32..30, -9i64..9).prop_map(|(e, m)| m as f64 * 10f64.powi(e)),
        Just(0.0),
        Just(-0.0),
        Just(1e16),
        Just(1e15),
        Just(1e-5),
        Just(1e-6),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let keys = prop_oneof![
        text(),
        prop::sample::select(vec!["a", "b", "id", ""]).prop_map(String::from)
    ];
    let leaf = prop_oneof![
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        any::<i64>().prop_map(Tree::Int),
        any::<u64>().prop_map(Tree::UInt),
        float().prop_map(Tree::Float),
        text().prop_map(Tree::Str),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Arr),
            // Repeated keys ("a", "b") exercise the later-value-wins rule.
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(Tree::Obj),
        ]
    })
}

/// Same meaning: same structure, same object order, numbers equal. serde_json
/// (without `float_roundtrip`) may round a long decimal a few ULP off, so floats it
/// parsed may differ by up to 4 units in the last place. Our own parse is
/// checked exact elsewhere.
fn same_meaning(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as S;
    match (ours, theirs) {
        (Value::Null, S::Null) => true,
        (Value::Bool(a), S::Bool(b)) => a == b,
        (Value::String(a), S::String(b)) => a == b,
        (Value::Number(a), S::Number(b)) => {
            if let Some(b) = b.as_u64() {
                a.as_u64() == Some(b)
            } else if let Some(b) = b.as_i64() {
                a.as_i64() == Some(b)
            } else {
                let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                a == b || (a.signum() == b.signum() && a.to_bits().abs_diff(b.to_bits()) <= 4)
            }
        }
        (Value::Array(a), S::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_meaning(x, y))
        }
        (Value::Object(a), S::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_meaning(va, vb))
        }
        _ => false,
    }
}

fn all_numbers_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        Value::Array(items) => items.iter().all(all_numbers_finite),
        Value::Object(map) => map.values().all(all_numbers_finite),
        _ => true,
    }
}

/// Random edits of a valid document: insert, delete or replace one char with
/// one of JSON's syntax characters or a few troublemakers.
fn mutate(doc: &str, edits: &[(usize, u8, usize)]) -> String {
    const POOL: &[&str] = &[
        "{", "}", "[", "]", ",", ":", "\"", "\\", "0", "1", "-", "+", ".", "e", "E", " ", "\n",
        "\t", "\u{b}", "\u{a0}", "\u{0}", "u", "n", "t", "f", "\\u", "\\uD800", "\\uDC00", "/",
        "/*", "NaN", "Infinity", "\u{feff}", "x", "00", "1e400", "é",
    ];
    let mut s = doc.to_owned();
    for &(at, kind, pick) in edits {
        let boundaries: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        let at = boundaries[at % boundaries.len()];
        let next = boundaries.iter().copied().find(|&b| b > at);
        let insert = POOL[pick % POOL.len()];
        match (kind % 3, next) {
            (0, _) | (_, None) => s.insert_str(at, insert),
            (1, Some(end)) => s.replace_range(at..end, ""),
            (_, Some(end)) => s.replace_range(at..end, insert),
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn writes_what_serde_json_writes(t in tree()) {
        let (ours, theirs) = (t.ours(), t.serde());
        prop_assert_eq!(json::to_string(&ours), serde_json::to_string(&theirs).unwrap());
        prop_assert_eq!(json::to_string_pretty(&ours), serde_json::to_string_pretty(&theirs).unwrap());
        let mut pushed = String::from("x");
        json::push_value(&mut pushed, &ours);
        prop_assert_eq!(&pushed[1..], serde_json::to_string(&theirs).unwrap());
    }

    #[test]
    fn reads_serde_json_text_back_unchanged(t in tree()) {
        let theirs = t.serde();
        for text in [serde_json::to_string(&theirs).unwrap(), serde_json::to_string_pretty(&theirs).unwrap()] {
            let parsed = json::from_str(&text).unwrap();
            // Numbers keep their literal, so even floats come back byte for byte.
            prop_assert_eq!(json::to_string(&parsed), serde_json::to_string(&theirs).unwrap());
            prop_assert_eq!(&parsed, &t.ours());
            prop_assert!(same_meaning(&parsed, &theirs));
        }
    }

    #[test]
    fn floats_parse_to_the_same_f64(f in float()) {
        let text = serde_json::to_string(&f).unwrap();
        prop_assert_eq!(json::from_str(&text).unwrap().as_f64(), Some(f));
        prop_assert_eq!(json::to_string(&Value::from(f)), text);
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts(
        t in tree(),
        pretty in any::<bool>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..4),
    ) {
        let theirs = t.serde();
        let doc = if pretty {
            serde_json::to_string_pretty(&theirs).unwrap()
        } else {
            serde_json::to_string(&theirs).unwrap()
        };
        let mutated = mutate(&doc, &edits);
        let ours = json::from_str(&mutated);
        match serde_json::from_str::<serde_json::Value>(&mutated) {
            Ok(theirs) => {
                let ours = ours.map_err(|e| TestCaseError::fail(format!("{mutated:?}: we refused: {e}")))?;
                prop_assert!(same_meaning(&ours, &theirs), "{:?}: {:?} vs {:?}", mutated, ours, theirs);
            }
            // The one divergence, serde_json's and not RFC 8259's: without
            // `float_roundtrip` it can overflow on a literal just below f64::MAX
            // ("1.797693134862315700e+308") and call it out of range. We parse
            // floats exactly, so accept it when every number is a finite f64.
            Err(e) if e.to_string().starts_with("number out of range") && ours.is_ok() => {
                prop_assert!(all_numbers_finite(ours.as_ref().unwrap()), "{:?}", mutated);
            }
            // Refused with serde_json's words at serde_json's position, except
            // after serde_json's "number out of range": it may stop mid-exponent
            // ("1e00030214974836480") where we point after the number, or (as
            // above) on a float near f64::MAX that we take, and then we refuse
            // something later in the document.
            Err(e) => {
                let ours = ours.map(|_| ()).map_err(|e| e.to_string());
                if e.to_string().starts_with("number out of range") {
                    prop_assert!(ours.is_err(), "{:?}", mutated);
                } else {
                    prop_assert_eq!(ours, Err(e.to_string()), "{:?}", mutated);
                }
            }
        }
    }

    #[test]
    fn refuses_exactly_the_literals_no_f64_holds(
        int in "[1-9][0-9]{0,3}|0",
        frac in "(\\.[0-9]{1,20})?",
        exp in -400i32..400,
        near_max in prop::sample::select(vec!["", "1.79769313486231570", "1.797693134862315807937", "1.7976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720709633028641669288791094655554785194040263065748867150582068190890200070838367627385484581771153176447573027006985557136695962284291481986083493647529271907416844436551070434271155969950809304288017790417449779"]),
    ) {
        let literal = if near_max.is_empty() {
            format!("{int}{frac}e{exp}")
        } else {
            format!("{near_max}{}e{}", &frac.get(1..).unwrap_or(""), 308 + exp.signum())
        };
        let exact: f64 = literal.parse().unwrap();
        prop_assert_eq!(json::from_str(&literal).is_ok(), exact.is_finite(), "{}", literal);
        if exact.is_finite() {
            prop_assert_eq!(json::from_str(&literal).unwrap().as_f64(), Some(exact));
        }
    }

    #[test]
    fn serde_bridge_round_trips(t in tree()) {
        let ours = t.ours();
        // Our Serialize through serde_json's writer, and our Deserialize from serde_json's reader.
        prop_assert_eq!(serde_json::to_string(&ours).unwrap(), json::to_string(&ours));
        let back: Value = serde_json::from_str(&json::to_string(&ours)).unwrap();
        prop_assert!(same_meaning(&back, &t.serde()), "{:?} vs {:?}", back, ours);
        let back: Value = serde_json::from_value(t.serde()).unwrap();
        prop_assert_eq!(back, ours);
    }
}

fn err(s: &str) -> json::Error {
    json::from_str(s).expect_err(s)
}

#[test]
fn every_error_has_its_message() {
    let cases = [
        ("", "EOF while parsing a value"),
        ("   ", "EOF while parsing a value"),
        ("x", "expected value"),
        ("+1", "expected value"),
        (".5", "expected value"),
        ("NaN", "expected value"),
        ("Infinity", "expected value"),
        ("-Infinity", "invalid number"),
        ("01", "invalid number"),
        ("-01", "invalid number"),
        ("1.", "EOF while parsing a value"),
        ("1.e5", "invalid number"),
        ("1e", "EOF while parsing a value"),
        ("1e+", "EOF while parsing a value"),
        ("-", "EOF while parsing a value"),
        ("1e400", "number out of range"),
        ("tru", "EOF while parsing a value"),
        ("trux", "expected ident"),
        ("\"abc", "EOF while parsing a string"),
        ("\"\\x\"", "invalid escape"),
        ("\"\\u12G4\"", "invalid escape"),
        ("\"\\uD800\"", "unexpected end of hex escape"),
        ("\"\\uD800\\u0041\"", "lone leading surrogate in hex escape"),
        ("\"\\uDC00\"", "lone leading surrogate in hex escape"),
        (
            "\"a\u{1}b\"",
            "control character (\\u0000-\\u001F) found while parsing a string",
        ),
        (
            "\"a\nb\"",
            "control character (\\u0000-\\u001F) found while parsing a string",
        ),
        ("1 2", "trailing characters"),
        ("{} x", "trailing characters"),
        ("{1: 2}", "key must be a string"),
        ("{\"a\" 2}", "expected `:`"),
        ("[1 2]", "expected `,` or `]`"),
        ("{\"a\": 1 \"b\": 2}", "expected `,` or `}`"),
        ("[1,]", "trailing comma"),
        ("{\"a\": 1,}", "trailing comma"),
        ("[1", "EOF while parsing a list"),
        ("{\"a\": 1", "EOF while parsing an object"),
        ("{\"a\"", "EOF while parsing an object"),
        ("[1] // comment", "trailing characters"),
        ("/* c */ 1", "expected value"),
        ("\u{feff}1", "expected value"),
        ("\u{b}1", "expected value"),
        ("\u{a0}1", "expected value"),
    ];
    for (input, message) in cases {
        let e = err(input);
        assert_eq!(e.message(), message, "for {input:?}");
        assert!(e.to_string().starts_with(message), "{e}");
        assert!(
            serde_json::from_str::<serde_json::Value>(input).is_err(),
            "serde_json accepts {input:?}"
        );
    }
}

#[test]
fn errors_carry_line_and_column() {
    let e = err("{\n  \"a\": 1,\n  \"b\" 2\n}");
    assert_eq!((e.line(), e.column()), (3, 7));
    assert_eq!(e.to_string(), "expected `:` at line 3 column 7");

    let e = err("[1, 2]\n  x");
    assert_eq!(e.to_string(), "trailing characters at line 2 column 3");

    let e = err("[\"ok\", \"bad\u{1}\"]");
    assert_eq!(
        e.to_string(),
        "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 12"
    );

    let e = err("[1,");
    assert_eq!(
        e.to_string(),
        "EOF while parsing a value at line 1 column 3"
    );

    // Same positions as serde_json reports.
    for input in [
        "{\n  \"a\": 1,\n  \"b\" 2\n}",
        "[1, 2]\n  x",
        "x",
        "[1 2]",
        "\"\\q\"",
    ] {
        let theirs = serde_json::from_str::<serde_json::Value>(input).unwrap_err();
        let ours = err(input);
        assert_eq!(
            (ours.line(), ours.column()),
            (theirs.line(), theirs.column()),
            "for {input:?}"
        );
        assert_eq!(ours.to_string(), theirs.to_string(), "for {input:?}");
    }
}

#[test]
fn duplicate_keys_later_value_wins_at_first_position() {
    let v = json::from_str(r#"{"a": 1, "b": 2, "a": 3, "c": 4, "b": 5}"#).unwrap();
    assert_eq!(json::to_string(&v), r#"{"a":3,"b":5,"c":4}"#);
    let theirs: serde_json::Value =
        serde_json::from_str(r#"{"a": 1, "b": 2, "a": 3, "c": 4, "b": 5}"#).unwrap();
    assert_eq!(json::to_string(&v), serde_json::to_string(&theirs).unwrap());

    // Large objects take the sort-based path: same rule.
    let mut doc = String::from("{");
    for i in 0..100 {
        doc.push_str(&format!("\"k{}\": {i},", i % 40));
    }
    doc.push_str("\"k0\": \"last\"}");
    let ours = json::from_str(&doc).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        json::to_string(&ours),
        serde_json::to_string(&theirs).unwrap()
    );
    assert_eq!(ours.as_object().unwrap().len(), 40);
    assert_eq!(ours["k0"], Value::from("last"));
    assert_eq!(ours["k39"], Value::from(79u64));
    assert_eq!(ours["k19"], Value::from(99u64));
}

fn nested(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

#[test]
fn nesting_limit_is_serde_jsons() {
    // serde_json allows 127 levels and refuses the 128th; so do we.
    assert!(json::from_str(&nested(127)).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&nested(127)).is_ok());
    for depth in [128, 129] {
        assert_eq!(err(&nested(depth)).message(), "recursion limit exceeded");
        assert!(serde_json::from_str::<serde_json::Value>(&nested(depth)).is_err());
    }
    let objects = "{\"a\":".repeat(200) + "1" + &"}".repeat(200);
    assert_eq!(err(&objects).message(), "recursion limit exceeded");
    // Deep hostile input is refused without overflowing the stack.
    assert_eq!(
        err(&"[".repeat(100_000)).message(),
        "recursion limit exceeded"
    );
    assert_eq!(
        err(&"{\"\":".repeat(100_000)).message(),
        "recursion limit exceeded"
    );
}

#[test]
fn object_with_100000_keys_parses() {
    let mut doc = String::from("{");
    for i in 0..100_000 {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!("\"key{i}\":{i}"));
    }
    doc.push('}');
    let v = json::from_str(&doc).unwrap();
    let map = v.as_object().unwrap();
    assert_eq!(map.len(), 100_000);
    assert_eq!(map.keys().next().unwrap(), "key0");
    assert_eq!(v["key99999"].as_u64(), Some(99_999));

    // Same size, every key twice: later values win, first positions kept.
    let mut twice = doc[..doc.len() - 1].to_owned() + ",";
    for i in 0..100_000 {
        twice.push_str(&format!("\"key{i}\":\"again\","));
    }
    twice.pop();
    twice.push('}');
    let v = json::from_str(&twice).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 100_000);
    assert_eq!(
        v.as_object().unwrap().iter().nth(5).unwrap(),
        (&"key5".to_owned(), &Value::from("again"))
    );
}

#[test]
fn surrogate_pairs_combine() {
    assert_eq!(
        json::from_str(r#""\ud83d\ude00""#).unwrap(),
        Value::from("😀")
    );
    assert_eq!(
        json::from_str(r#""\uD834\uDD1E x""#).unwrap(),
        Value::from("𝄞 x")
    );
    assert_eq!(
        json::from_str(r#""\u00e9\u0000\/""#).unwrap(),
        Value::from("é\u{0}/")
    );
    assert_eq!(
        json::from_str(r#""\b\f\n\r\t\"\\""#).unwrap(),
        Value::from("\u{8}\u{c}\n\r\t\"\\")
    );
    // Raw non-BMP text is kept as is and written unescaped.
    let v = json::from_str("\"😀\"").unwrap();
    assert_eq!(json::to_string(&v), "\"😀\"");
    assert!(json::from_str(r#""\ud83d""#).is_err());
    assert!(json::from_str(r#""\ud83d\ud83d""#).is_err());
    assert!(json::from_str(r#""\ude00\ud83d""#).is_err());
    assert!(json::from_str(r#""\ud83d\u"#).is_err());
}

#[test]
fn index_semantics() {
    let mut v = json::from_str(r#"{"a": [10, {"b": true}], "n": null}"#).unwrap();
    assert_eq!(v["a"][0], Value::from(10u64));
    assert_eq!(v["a"][1]["b"], Value::Bool(true));
    assert!(v["missing"].is_null());
    assert!(v["a"]["not an object"].is_null());
    assert!(v["a"][7].is_null());
    assert!(v["n"][0].is_null());
    assert_eq!(v.get("a").and_then(|a| a.get("b")), None);

    v["n"]["deep"] = Value::from("made");
    assert_eq!(json::to_string(&v["n"]), r#"{"deep":"made"}"#);
    v["new"] = Value::from(1u32);
    assert_eq!(v.as_object().unwrap().keys().last().unwrap(), "new");
    v["a"][0] = Value::from(-3i64);
    assert_eq!(v["a"][0].as_i64(), Some(-3));
    let taken = v["a"].take();
    assert!(v["a"].is_null());
    assert_eq!(taken.as_array().unwrap().len(), 2);
    if let Some(m) = v.get_mut("new") {
        *m = Value::Bool(false);
    }
    assert_eq!(v["new"].as_bool(), Some(false));
}

#[test]
#[should_panic]
fn index_mut_by_key_on_a_non_object_panics() {
    let mut v = Value::from(1u64);
    v["a"] = Value::Null;
}

#[test]
#[should_panic]
fn index_mut_out_of_range_panics() {
    let mut v = Value::Array(vec![]);
    v[0] = Value::Null;
}

#[test]
#[should_panic]
fn index_mut_by_position_on_a_non_array_panics() {
    let mut v = Value::Null;
    v[0] = Value::Null;
}

#[test]
fn map_keeps_insertion_order_and_compares_without_it() {
    let mut m = Map::new();
    assert!(m.is_empty());
    m.insert("z".into(), 1u64.into());
    m.insert("a".into(), 2u64.into());
    m.insert("m".into(), 3u64.into());
    assert_eq!(m.insert("a".into(), 20u64.into()), Some(Value::from(2u64)));
    assert_eq!(
        m.keys().map(String::as_str).collect::<Vec<_>>(),
        ["z", "a", "m"]
    );
    assert_eq!(
        m.values().filter_map(Value::as_u64).collect::<Vec<_>>(),
        [1, 20, 3]
    );
    assert!(m.contains_key("m"));
    assert_eq!(m.shift_remove("z"), Some(Value::from(1u64)));
    assert_eq!(m.remove("nope"), None);
    assert_eq!(m.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "m"]);

    let reversed: Map = m
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(reversed, m);
    assert_ne!(
        json::to_string(&reversed.clone().into()),
        json::to_string(&m.clone().into())
    );
    let mut different = m.clone();
    *different.get_mut("a").unwrap() = Value::from(0u64);
    assert_ne!(different, m);
    different.shift_remove("a");
    assert_ne!(different, m);

    for (_, v) in &mut m {
        *v = Value::from(7u64);
    }
    for v in m.values_mut() {
        assert_eq!(v.as_u64(), Some(7));
    }
    let mut seen = Vec::new();
    for (k, _) in &m {
        seen.push(k.clone());
    }
    assert_eq!(seen, ["a", "m"]);

    m.extend([
        ("b".to_owned(), Value::Null),
        ("a".to_owned(), Value::from(1u64)),
    ]);
    assert_eq!(
        json::to_string(&m.clone().into()),
        r#"{"a":1,"m":7,"b":null}"#
    );
    m.retain(|k, _| k != "m");
    let owned: Vec<(String, Value)> = m.into_iter().collect();
    assert_eq!(
        owned,
        [
            ("a".to_owned(), Value::from(1u64)),
            ("b".to_owned(), Value::Null)
        ]
    );

    let collected: Map = [("x", 1u64), ("y", 2), ("x", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
    assert_eq!(json::to_string(&collected.into()), r#"{"x":3,"y":2}"#);
}

#[test]
fn out_of_range_is_decided_at_the_exact_boundary() {
    let half_way = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    assert_eq!(
        json::from_str(half_way).unwrap_err().message(),
        "number out of range"
    );
    let below = half_way.replace("7792", "7791");
    assert_eq!(json::from_str(&below).unwrap().as_f64(), Some(f64::MAX));
    assert_eq!(
        json::from_str("1.7976931348623158e308").unwrap().as_f64(),
        Some(f64::MAX)
    );
    assert_eq!(json::from_str("0.00001e313").unwrap().as_f64(), Some(1e308));
    assert!(json::from_str("0.1e310").is_err());
    assert!(json::from_str("1e99999999999999999999999").is_err());
    assert_eq!(
        json::from_str("1e-99999999999999999999999")
            .unwrap()
            .as_f64(),
        Some(0.0)
    );
    assert_eq!(json::from_str("0e99999").unwrap().as_f64(), Some(0.0));
    assert_eq!(json::from_str("-0.000e400").unwrap().as_f64(), Some(-0.0));
}

#[test]
fn numbers_keep_their_literal() {
    let v = json::from_str("[1.50e+2, 12, 1.0, -0.5, -0, 18446744073709551615, -9223372036854775808, 100000000000000000000]").unwrap();
    assert_eq!(
        json::to_string(&v),
        "[1.50e+2,12,1.0,-0.5,-0,18446744073709551615,-9223372036854775808,100000000000000000000]"
    );
    assert_eq!(v[0].as_f64(), Some(150.0));
    assert_eq!(v[0].as_u64(), None);
    assert_eq!(v[1].as_u64(), Some(12));
    assert_eq!(v[1].as_i64(), Some(12));
    assert_eq!(v[2].as_u64(), None);
    assert_eq!(v[2].as_f64(), Some(1.0));
    assert_eq!(v[3].as_f64(), Some(-0.5));
    assert_eq!(v[3].as_i64(), None);
    assert_eq!(v[4].as_i64(), None);
    assert_eq!(v[5].as_u64(), Some(u64::MAX));
    assert_eq!(v[5].as_i64(), None);
    assert_eq!(v[6].as_i64(), Some(i64::MIN));
    assert_eq!(v[7].as_u64(), None);
    assert_eq!(v[7].as_f64(), Some(1e20));

    // Equal literals or equal decimal values.
    assert_eq!(v[0], Value::from(150.0));
    assert_eq!(v[4], Value::from(0u64));
    assert_eq!(
        json::from_str("[1e2, 0.5]").unwrap(),
        json::from_str("[100, 5E-1]").unwrap()
    );
    assert_ne!(
        json::from_str("1.5").unwrap(),
        json::from_str("15").unwrap()
    );
    assert_ne!(json::from_str("-1").unwrap(), json::from_str("1").unwrap());
    assert_eq!(v[2], Value::from(1u64));
    assert_ne!(v[1], Value::from(13u64));
    assert_eq!(Number::from(5u32), Number::from(5i64));
    assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
    assert_eq!(Number::from_f64(f64::NAN), None);
    assert_eq!(Value::from(f64::INFINITY), Value::Null);
    assert_eq!(json::to_string(&Value::from(3.0)), "3.0");
    assert_eq!(
        json::to_string(&Value::from(1e300)),
        serde_json::to_string(&1e300).unwrap()
    );
    assert_eq!(Value::from(usize::MAX).as_u64(), Some(usize::MAX as u64));
}

#[test]
fn writer_escapes_only_what_serde_json_escapes() {
    let s = "\"\\/\u{7f}é😀\u{0}\u{1f}\u{8}\u{c}\n\r\t";
    let mut out = String::new();
    json::push_string(&mut out, s);
    assert_eq!(out, "\"\\\"\\\\/\u{7f}é😀\\u0000\\u001f\\b\\f\\n\\r\\t\"");
    assert_eq!(out, serde_json::to_string(s).unwrap());
    let empty = json::from_str("{\"a\": [], \"b\": {}, \"c\": [{}]}").unwrap();
    assert_eq!(
        json::to_string_pretty(&empty),
        "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    {}\n  ]\n}"
    );
    assert_eq!(format!("{empty}"), json::to_string(&empty));
    assert_eq!(format!("{empty:#}"), json::to_string_pretty(&empty));
}

#[test]
fn whitespace_is_only_the_four_json_kinds() {
    assert_eq!(
        json::from_str(" \t\r\n[ 1 ,\t2\r\n]\n ").unwrap(),
        Value::Array(vec![1u64.into(), 2u64.into()])
    );
}

#[test]
fn extending_a_large_map_keeps_the_rules() {
    let mut m: Map = (0..100)
        .map(|i| (format!("k{i}"), Value::from(i as u64)))
        .collect();
    m.extend([
        ("k5".to_owned(), Value::Null),
        ("new".to_owned(), Value::Bool(true)),
    ]);
    assert_eq!(m.len(), 101);
    assert_eq!(m.iter().nth(5), Some((&"k5".to_owned(), &Value::Null)));
    m.extend((0..50).map(|i| (format!("k{}", i * 3), Value::from("x"))));
    assert_eq!(m.len(), 151 - 34);
    assert_eq!(m["k3"], Value::from("x"));
    assert_eq!(m.keys().last().unwrap(), "k147");
}

#[test]
fn works_as_a_flattened_serde_field() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Doc {
        id: String,
        #[serde(flatten)]
        extra: Map,
    }
    let text = r#"{"id":"x","z":[1,{"a":null}],"b":"two"}"#;
    let doc: Doc = serde_json::from_str(text).unwrap();
    assert_eq!(doc.id, "x");
    assert_eq!(
        json::to_string(&Value::Object(doc.extra.clone())),
        r#"{"z":[1,{"a":null}],"b":"two"}"#
    );
    assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    assert!(serde_json::from_str::<Map>("[1]").is_err());
}
