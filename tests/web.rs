//! Browser tests (wasm-bindgen-test in headless Chromium): the page-text mapping, ranges,
//! highlights, local storage under corruption and quota, and the mounted widget.
//!
//! Run: CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p factmark
//! Fixtures are appended to the page and removed; nothing replaces document.body.
#![cfg(target_arch = "wasm32")]

use factmark::config::Config;
use factmark::dom::highlight::Highlights;
use factmark::dom::text::PageText;
use factmark::store::{LocalStore, Problem, Store, StoreError};
use factmark::widget;
use factmark_core::anchor::{describe, Span};
use factmark_core::model::{Annotation, Flag, NewFlag};
use factmark_core::text::Text;
use gloo_timers::future::TimeoutFuture;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Document, Element, Storage};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

fn storage() -> Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// A fixture appended to <body>; removed when dropped.
struct Fixture(Element);

impl Fixture {
    fn new(id: &str, html: &str) -> Fixture {
        let el = document().create_element("div").unwrap();
        el.set_id(id);
        el.set_inner_html(html);
        document().body().unwrap().append_child(&el).unwrap();
        Fixture(el)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.0.remove();
    }
}

fn flag_on(text: &Text, source: &str, start: usize, end: usize, flag: Flag, n: u8) -> Annotation {
    Annotation::new_flag(NewFlag {
        source,
        selectors: describe(text, Span { start, end }).unwrap(),
        flag,
        note: Some("checked"),
        evidence: vec!["https://example.org/check".into()],
        id: factmark_core::model::new_id([n; 16]),
        now: "2026-11-20T10:00:00Z".into(),
    })
    .unwrap()
}

// ----- page text -------------------------------------------------------------------------------

#[wasm_bindgen_test]
fn text_skips_what_readers_cannot_see_or_select() {
    let fx = Fixture::new(
        "fx-skip",
        "<p>One <b>two</b></p><script>var hidden = 1;</script><style>p { color: red }</style>\
         <noscript>no script</noscript><template>tpl</template><p hidden>gone</p>\
         <div style=\"display:none\">none <span>nested</span></div><textarea>typed</textarea>\
         <p aria-hidden=\"true\">decor</p><p hidden=\"until-found\">found</p>\
         <factmark-widget>widget text</factmark-widget><p>three</p>",
    );
    let page = PageText::read(&fx.0).unwrap();
    assert_eq!(page.text().as_str(), "One twodecorfoundthree");
}

#[wasm_bindgen_test]
fn ranges_round_trip_through_offsets_with_non_bmp_text() {
    // 🦀 and 😀 take two UTF-16 units each; é is one code point here.
    let fx = Fixture::new("fx-range", "<p>a🦀b<em>cé😀d</em>e</p><p>f😀</p>");
    let page = PageText::read(&fx.0).unwrap();
    assert_eq!(page.text().as_str(), "a🦀bcé😀def😀");
    let len = page.text().len();
    assert_eq!(len, 10);
    for start in 0..len {
        for end in start + 1..=len {
            let span = Span { start, end };
            let range = page.range(span).expect("a range");
            assert_eq!(
                String::from(range.to_string()),
                page.text().slice(start, end),
                "{start}..{end}"
            );
            assert_eq!(page.span_of(&range), Some(span), "back from {start}..{end}");
        }
    }
}

#[wasm_bindgen_test]
fn element_boundaries_map_to_the_next_visible_text() {
    let fx = Fixture::new(
        "fx-elements",
        "<p id=\"p1\">first</p><script>x</script><p id=\"p2\">second</p>",
    );
    let page = PageText::read(&fx.0).unwrap();
    let range = document().create_range().unwrap();
    // From before <p id=p2> (an element boundary) to the end of the root.
    let p2 = document().get_element_by_id("p2").unwrap();
    range.set_start_before(&p2).unwrap();
    range.set_end(&fx.0, fx.0.child_nodes().length()).unwrap();
    assert_eq!(page.span_of(&range), Some(Span { start: 5, end: 11 }));
    // A range inside the script maps to nothing.
    let script = fx.0.query_selector("script").unwrap().unwrap();
    range.select_node_contents(&script).unwrap();
    assert_eq!(page.span_of(&range), None);
}

#[wasm_bindgen_test]
fn caret_offsets_count_code_points() {
    let fx = Fixture::new("fx-caret", "<p>😀😀x</p>");
    let page = PageText::read(&fx.0).unwrap();
    let node =
        fx.0.query_selector("p")
            .unwrap()
            .unwrap()
            .first_child()
            .unwrap();
    assert_eq!(
        page.offset_at(&node, 4),
        Some(2),
        "after two emoji (4 UTF-16 units)"
    );
}

// ----- highlights ------------------------------------------------------------------------------

fn registered(name: &str) -> Option<web_sys::Highlight> {
    let css = js_sys::Reflect::get(&js_sys::global(), &"CSS".into()).unwrap();
    let registry: web_sys::HighlightRegistry = js_sys::Reflect::get(&css, &"highlights".into())
        .unwrap()
        .unchecked_into();
    registry.get(name)
}

#[wasm_bindgen_test]
fn highlights_register_one_highlight_per_flag() {
    let fx = Fixture::new("fx-hl", "<p>alpha beta gamma</p>");
    let page = PageText::read(&fx.0).unwrap();
    let layer = document().create_element("div").unwrap();
    let mut highlights = Highlights::install(&document(), layer);
    assert!(highlights.uses_registry(), "Chromium has CSS.highlights");
    let a = page.range(Span { start: 0, end: 5 }).unwrap();
    let b = page.range(Span { start: 6, end: 10 }).unwrap();
    let c = page.range(Span { start: 11, end: 16 }).unwrap();
    highlights.replace([
        (Flag::Fabricated, &a),
        (Flag::Unverified, &b),
        (Flag::Fabricated, &c),
    ]);
    let fabricated = registered("factmark-fabricated").expect("registered");
    let unverified = registered("factmark-unverified").expect("registered");
    assert_eq!(fabricated.size(), 2);
    assert_eq!(unverified.size(), 1);
    assert!(fabricated.has(a.unchecked_ref()));
    assert!(
        fabricated.priority() > unverified.priority(),
        "fabricated paints over unverified"
    );
    // The article is untouched: highlights add no elements.
    assert_eq!(fx.0.inner_html(), "<p>alpha beta gamma</p>");
    highlights.replace([(Flag::Unverified, &c)]);
    assert_eq!(fabricated.size(), 0);
    assert_eq!(unverified.size(), 1);
    highlights.uninstall();
    assert!(registered("factmark-fabricated").is_none());
    assert!(registered("factmark-unverified").is_none());
}

#[wasm_bindgen_test]
fn text_skips_elements_hidden_by_a_style_sheet() {
    let fx = Fixture::new(
        "fx-css-hidden",
        "<style>.fx-gone { display: none } .fx-shown { display: contents }</style>\
         <p>kept <span class=\"fx-gone\">gone <b>too</b></span>here</p>\
         <p class=\"fx-shown\">contents</p><p style=\"visibility:hidden\">invisible</p>",
    );
    let page = PageText::read(&fx.0).unwrap();
    // visibility:hidden text still has a box and can be selected; display:none text cannot.
    assert_eq!(page.text().as_str(), "kept herecontentsinvisible");
    assert_eq!(page.node_count(), 4);
}

#[wasm_bindgen_test]
fn inline_elements_hidden_by_their_own_attributes_are_skipped() {
    let fx = Fixture::new(
        "fx-inline-hidden",
        "<style>.fx-off { display: none } #fx-gone-id { display: none } \
         .fx-teaser em { display: none }</style>\
         <p>one <span class=\"fx-off\">a</span><em hidden>b</em><a href=\"#\" class=\"fx-off\">c</a>\
         <b style=\"display:none\">d</b><i id=\"fx-gone-id\">e</i> two <a href=\"#\">link</a> \
         <em>em <strong>strong</strong></em></p>\
         <div class=\"fx-off\"><em>under a hidden parent</em></div>\
         <p class=\"fx-teaser\">teaser <em>bare</em></p>",
    );
    let page = PageText::read(&fx.0).unwrap();
    // A bare <em> (no attribute) in a visible parent is not asked about: a page that hides one
    // only through a rule about its type and ancestors ("hide every em of a teaser") keeps it.
    assert_eq!(page.text().as_str(), "one  two link em strongteaser bare");
}

#[wasm_bindgen_test]
fn comments_and_nested_markup_leave_the_text_and_its_nodes_aligned() {
    let fx = Fixture::new(
        "fx-comments",
        "<p>a<!-- a comment -->b <em>c<b>d</b></em>😀<span></span>e</p>",
    );
    let page = PageText::read(&fx.0).unwrap();
    assert_eq!(page.text().as_str(), "ab cd😀e");
    assert_eq!(page.node_count(), 6);
    let range = page.range(Span { start: 1, end: 6 }).unwrap();
    assert_eq!(String::from(range.to_string()), "b cd😀");
}

#[wasm_bindgen_test]
fn ranges_made_in_bulk_match_ranges_made_one_by_one() {
    let fx = Fixture::new("fx-bulk", "<p>a🦀b<i>cé</i></p><p>😀def<b>gh</b></p>");
    let page = PageText::read(&fx.0).unwrap();
    let len = page.text().len();
    let mut spans = Vec::new();
    for start in 0..len {
        for end in start + 1..=len {
            spans.push(Some(Span { start, end }));
        }
    }
    spans.push(None);
    spans.push(Some(Span {
        start: 0,
        end: len + 1,
    }));
    let (list, made) = page.ranges(spans.iter().copied());
    assert_eq!(list.length() as usize, spans.len());
    for (i, span) in spans.iter().enumerate() {
        let one = span.and_then(|s| page.range(s));
        assert_eq!(made[i], one.is_some(), "{span:?}");
        let bulk = list.get(i as u32);
        match one {
            None => assert!(bulk.is_null(), "{span:?}"),
            Some(one) => {
                let bulk: web_sys::Range = bulk.unchecked_into();
                assert_eq!(
                    String::from(bulk.to_string()),
                    String::from(one.to_string())
                );
                assert!(bulk
                    .start_container()
                    .unwrap()
                    .is_same_node(Some(&one.start_container().unwrap())));
                assert!(bulk
                    .end_container()
                    .unwrap()
                    .is_same_node(Some(&one.end_container().unwrap())));
                assert_eq!(bulk.start_offset().unwrap(), one.start_offset().unwrap());
                assert_eq!(bulk.end_offset().unwrap(), one.end_offset().unwrap());
            }
        }
    }
}

#[wasm_bindgen_test]
fn a_range_set_paints_by_id_in_one_call() {
    use factmark::dom::highlight::{prepare_page, RangeSet};
    let fx = Fixture::new("fx-set", "<p>alpha beta gamma delta</p>");
    let page = PageText::read(&fx.0).unwrap();
    let spans = [
        Some(Span { start: 0, end: 5 }),
        None,
        Some(Span { start: 6, end: 10 }),
        Some(Span { start: 11, end: 16 }),
    ];
    let (list, made) = page.ranges(spans);
    let ids = ["a", "b", "c", "d"];
    // The ids are in order already; each keeps its index in the list when it holds a range.
    let by_id = ids
        .iter()
        .zip(0u32..)
        .filter(|&(_, i)| made[i as usize])
        .map(|(id, i)| (id.to_string(), i))
        .collect();
    let mut set = RangeSet::from_sorted(list, by_id);
    assert_eq!(set.len(), 3);
    assert!(set.get("b").is_none() && !set.contains("b"));
    assert_eq!(String::from(set.get("c").unwrap().to_string()), "beta");

    let sheets = || document().adopted_style_sheets().length();
    let before = sheets();
    prepare_page(&document());
    prepare_page(&document());
    assert_eq!(
        sheets(),
        before + 1,
        "the page sheet is adopted once, ahead of mounting"
    );
    let layer = document().create_element("div").unwrap();
    let mut highlights = Highlights::install(&document(), layer);
    assert_eq!(sheets(), before + 1, "installing reuses the prepared sheet");
    highlights.replace_from(
        &set,
        [
            (Flag::Fabricated, "a"),
            (Flag::Unverified, "b"),
            (Flag::Unverified, "c"),
            (Flag::Fabricated, "d"),
            (Flag::Fabricated, "no such id"),
        ],
    );
    let fabricated = registered("factmark-fabricated").unwrap();
    let unverified = registered("factmark-unverified").unwrap();
    assert_eq!((fabricated.size(), unverified.size()), (2, 1));
    assert!(fabricated.has(set.get("d").unwrap().unchecked_ref()));

    // Replacing one range and removing another.
    let e = page.range(Span { start: 17, end: 22 }).unwrap();
    set.insert("c".into(), &e);
    set.remove("a");
    highlights.replace_from(&set, ids.iter().map(|id| (Flag::Unverified, *id)));
    assert_eq!((fabricated.size(), unverified.size()), (0, 2));
    assert!(unverified.has(e.unchecked_ref()));
    highlights.uninstall();
    assert_eq!(sheets(), before, "unmounting takes the page sheet away");
}

// ----- local storage ---------------------------------------------------------------------------

struct Keys(Vec<String>);

impl Drop for Keys {
    fn drop(&mut self) {
        for key in &self.0 {
            let _ = storage().remove_item(key);
        }
    }
}

/// Fills the real localStorage until the browser refuses even small values. Dropping the
/// result removes the filler and `key`.
fn fill_storage(key: &str) -> Keys {
    let mut filler = Keys(vec![key.to_string()]);
    let mut size = 1 << 20;
    while size >= 16 {
        let value = "x".repeat(size);
        loop {
            let name = format!("factmark-test-fill-{}", filler.0.len());
            match storage().set_item(&name, &value) {
                Ok(()) => filler.0.push(name),
                Err(e) if factmark::store::local::is_quota_error(&e) => break,
                Err(e) => panic!("unexpected storage error {e:?}"),
            }
        }
        size /= 8;
    }
    filler
}

fn stored_json(key: &str) -> Option<Value> {
    storage()
        .get_item(key)
        .unwrap()
        .map(|s| serde_json::from_str(&s).expect("stored JSON"))
}

#[wasm_bindgen_test]
fn corrupt_value_is_moved_to_quarantine_and_never_overwritten() {
    let source = "urn:test:corrupt";
    let _keys = Keys(vec![
        format!("factmark:v1:{source}"),
        format!("factmark:v1:quarantine:{source}"),
    ]);
    storage()
        .set_item(&format!("factmark:v1:{source}"), "[{\"broken\": ")
        .unwrap();
    let mut store = LocalStore::open(source).unwrap();
    assert!(store.load().is_empty());
    let problems = store.take_problems();
    assert!(
        matches!(
            problems.as_slice(),
            [Problem::Quarantined {
                whole_value: true,
                ..
            }]
        ),
        "{problems:?}"
    );
    let quarantine = stored_json(&format!("factmark:v1:quarantine:{source}")).unwrap();
    assert_eq!(
        quarantine[0]["raw"], "[{\"broken\": ",
        "the unreadable text is kept verbatim"
    );
    assert!(quarantine[0]["reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    // Saving now writes a clean list.
    let text = Text::new("some page text to flag");
    let a = flag_on(&text, source, 0, 4, Flag::Unverified, 1);
    store.save(std::slice::from_ref(&a)).unwrap();
    let stored = stored_json(&format!("factmark:v1:{source}")).unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 1);
}

#[wasm_bindgen_test]
fn invalid_entries_are_set_aside_valid_ones_load_and_quarantine_is_appended() {
    let source = "urn:test:invalid";
    let key = format!("factmark:v1:{source}");
    let qkey = format!("factmark:v1:quarantine:{source}");
    let _keys = Keys(vec![key.clone(), qkey.clone()]);
    let text = Text::new("the plant would cut water bills by 80 percent");
    let good = flag_on(&text, source, 4, 9, Flag::Fabricated, 2);
    let bad = serde_json::json!({ "type": "Annotation", "id": "x", "target": 5 });
    let list = Value::Array(vec![serde_json::to_value(&good).unwrap(), bad.clone()]);
    storage().set_item(&key, &list.to_string()).unwrap();
    storage()
        .set_item(&qkey, "[{\"reason\":\"earlier\",\"raw\":\"old\"}]")
        .unwrap();

    let mut store = LocalStore::open(source).unwrap();
    let loaded = store.load();
    assert_eq!(loaded, vec![good.clone()]);
    let problems = store.take_problems();
    assert!(
        matches!(
            problems.as_slice(),
            [Problem::Quarantined {
                entries: 1,
                whole_value: false,
                ..
            }]
        ),
        "{problems:?}"
    );
    let quarantine = stored_json(&qkey).unwrap();
    let items = quarantine.as_array().unwrap();
    assert_eq!(items.len(), 2, "appended to what was there");
    assert_eq!(items[0]["raw"], "old");
    assert_eq!(items[1]["value"], bad);
    // The main key now holds only what loads.
    assert_eq!(
        stored_json(&key).unwrap(),
        Value::Array(vec![serde_json::to_value(&good).unwrap()])
    );
}

#[wasm_bindgen_test]
fn unreadable_quarantine_is_wrapped_not_replaced() {
    let source = "urn:test:oldquarantine";
    let key = format!("factmark:v1:{source}");
    let qkey = format!("factmark:v1:quarantine:{source}");
    let _keys = Keys(vec![key.clone(), qkey.clone()]);
    storage().set_item(&key, "not json").unwrap();
    storage().set_item(&qkey, "also not json").unwrap();
    let mut store = LocalStore::open(source).unwrap();
    store.load();
    let quarantine = stored_json(&qkey).unwrap();
    assert_eq!(quarantine[0]["raw"], "also not json");
    assert_eq!(quarantine[1]["raw"], "not json");
}

#[wasm_bindgen_test]
fn quota_exceeded_changes_nothing_stored() {
    let source = "urn:test:quota";
    let key = format!("factmark:v1:{source}");
    let text = Text::new("a passage that a reader flags while storage is full");
    let first = flag_on(&text, source, 2, 9, Flag::Unverified, 3);
    let mut store = LocalStore::open(source).unwrap();
    store.save(std::slice::from_ref(&first)).unwrap();
    let before = storage().get_item(&key).unwrap();

    let filler = fill_storage(&key);

    let second = flag_on(&text, source, 10, 20, Flag::Fabricated, 4);
    let result = store.save(std::slice::from_ref(&second));
    assert_eq!(result, Err(StoreError::QuotaExceeded));
    assert_eq!(
        storage().get_item(&key).unwrap(),
        before,
        "what was stored is intact"
    );
    drop(filler);
}

// ----- the mounted widget ----------------------------------------------------------------------

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn mounted_widget_imports_anchors_and_reanchors_after_edits() {
    let source = "urn:test:widget";
    let _keys = Keys(vec![
        format!("factmark:v1:{source}"),
        format!("factmark:v1:quarantine:{source}"),
    ]);
    let fx = Fixture::new(
        "fx-widget",
        "<p id=\"w1\">Officials said the convoy reached the border on Monday.</p>\
         <p id=\"w2\">Sources close to the ministry deny any deployment.</p>",
    );
    let w = mount_on("#fx-widget", source);
    let host = document()
        .query_selector("factmark-widget")
        .unwrap()
        .expect("host appended");
    assert!(host.shadow_root().is_some());

    let page = PageText::read(&fx.0).unwrap();
    let whole = page.text().as_str().to_string();
    let at = |s: &str| whole.chars().count() - whole[whole.find(s).unwrap()..].chars().count();
    let start = at("reached the border");
    let a = flag_on(
        page.text(),
        source,
        start,
        start + "reached the border".len(),
        Flag::Fabricated,
        5,
    );
    let other_page = flag_on(page.text(), "urn:elsewhere", 0, 9, Flag::Unverified, 6);
    let json = Value::Array(vec![
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&other_page).unwrap(),
        serde_json::json!({ "nope": 1 }),
    ])
    .to_string();
    let report = w.import(&json);
    assert_eq!(report.added, 1);
    assert_eq!(
        report.refused.len(),
        2,
        "another page's annotation and an invalid item"
    );
    assert_eq!(w.stats().anchored, 1);
    assert_eq!(registered("factmark-fabricated").unwrap().size(), 1);
    let anchors = w.anchors_js();
    let first = js_sys::Array::from(&anchors).get(0);
    assert_eq!(
        get(&first, "status").as_string().as_deref(),
        Some("anchored")
    );
    assert_eq!(
        get(&first, "text").as_string().as_deref(),
        Some("reached the border")
    );

    // The page inserts text before the passage: re-anchored (debounced), same passage.
    let p1 = document().get_element_by_id("w1").unwrap();
    p1.insert_adjacent_html("afterbegin", "<b>Update:</b> ")
        .unwrap();
    TimeoutFuture::new(400).await;
    let first = js_sys::Array::from(&w.anchors_js()).get(0);
    assert_eq!(
        get(&first, "text").as_string().as_deref(),
        Some("reached the border")
    );
    assert_eq!(
        get(&first, "start").as_f64(),
        Some((start + "Update: ".len()) as f64)
    );

    // The passage is removed: an orphan, listed, not dropped.
    p1.set_text_content(Some("Officials gave no details."));
    TimeoutFuture::new(400).await;
    let stats = w.stats();
    assert_eq!((stats.total, stats.orphan), (1, 1));
    assert_eq!(registered("factmark-fabricated").unwrap().size(), 0);

    // Stored across a remount; unmount removes host and highlights.
    assert!(widget::unmount());
    assert!(document()
        .query_selector("factmark-widget")
        .unwrap()
        .is_none());
    let w = mount_on("#fx-widget", source);
    assert_eq!(w.stats().total, 1);
    assert!(w.delete(&a.id));
    assert_eq!(w.stats().total, 0);
    widget::unmount();
}

#[wasm_bindgen_test]
async fn ui_notes_are_text_and_the_host_is_the_only_page_change() {
    let source = "urn:test:ui";
    let _keys = Keys(vec![format!("factmark:v1:{source}")]);
    let fx = Fixture::new(
        "fx-ui",
        "<p>The minister said the dam was finished in 2019.</p>",
    );
    let before = fx.0.inner_html();
    let w = mount_on("#fx-ui", source);
    // Select "the dam was finished" and flag it through the API, with a hostile note.
    let page = PageText::read(&fx.0).unwrap();
    let start = page.text().as_str().find("the dam").unwrap();
    let range = page
        .range(Span {
            start,
            end: start + "the dam was finished".len(),
        })
        .unwrap();
    let selection = web_sys::window().unwrap().get_selection().unwrap().unwrap();
    selection.remove_all_ranges().unwrap();
    selection.add_range(&range).unwrap();
    let note = "<img src=x onerror=\"window.__pwned=1\">";
    let annotation = w
        .flag_selection(Flag::Fabricated, Some(note))
        .expect("flagged");
    assert_eq!(annotation.quote(), Some("the dam was finished"));
    assert_eq!(fx.0.inner_html(), before, "the article DOM is unchanged");

    // Open the popover: the note is shown as text.
    w.show(&annotation.id, false);
    TimeoutFuture::new(50).await;
    let shadow = document()
        .query_selector("factmark-widget")
        .unwrap()
        .unwrap()
        .shadow_root()
        .unwrap();
    let shown = shadow
        .query_selector(".fm-popover .fm-note")
        .unwrap()
        .expect("note shown");
    assert_eq!(shown.text_content().as_deref(), Some(note));
    assert!(
        shadow.query_selector(".fm-popover img").unwrap().is_none(),
        "no element from the note"
    );
    assert!(js_sys::Reflect::get(&js_sys::global(), &"__pwned".into())
        .unwrap()
        .is_undefined());
    widget::unmount();
}

#[wasm_bindgen_test]
fn overlay_draws_boxes_where_the_highlight_api_is_missing() {
    // Hide CSS.highlights for this test, as in a browser without the API.
    let css: js_sys::Object = js_sys::Reflect::get(&js_sys::global(), &"CSS".into())
        .unwrap()
        .unchecked_into();
    let original = js_sys::Object::get_own_property_descriptor(&css, &"highlights".into());
    let hidden = js_sys::Object::new();
    js_sys::Reflect::set(&hidden, &"value".into(), &JsValue::UNDEFINED).unwrap();
    js_sys::Reflect::set(&hidden, &"configurable".into(), &true.into()).unwrap();
    js_sys::Object::define_property(&css, &"highlights".into(), &hidden);

    let fx = Fixture::new("fx-overlay", "<p>first line of text</p><p>second line</p>");
    let page = PageText::read(&fx.0).unwrap();
    let layer = document().create_element("div").unwrap();
    let mut highlights = Highlights::install(&document(), layer.clone());
    let restore = || {
        js_sys::Object::define_property(
            &css,
            &"highlights".into(),
            &original.clone().unchecked_into(),
        )
    };
    if highlights.uses_registry() {
        restore();
        panic!("the registry should be unavailable");
    }
    // A passage across both paragraphs: one box per line box.
    let range = page.range(Span { start: 6, end: 26 }).unwrap();
    highlights.replace([(Flag::Fabricated, &range)]);
    let marks = layer.query_selector_all(".fm-mark--fabricated").unwrap();
    let boxes = marks.length();
    let first: web_sys::HtmlElement = marks.get(0).unwrap().unchecked_into();
    let width = first.style().get_property_value("width").unwrap();
    highlights.uninstall();
    let left_after = layer.child_element_count();
    restore();
    assert!(boxes >= 2, "one box per line, got {boxes}");
    assert!(width.ends_with("px") && width != "0px");
    assert_eq!(
        fx.0.inner_html(),
        "<p>first line of text</p><p>second line</p>"
    );
    assert_eq!(left_after, 0);
}

type Recorded = (
    std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    wasm_bindgen::closure::Closure<dyn FnMut(web_sys::CustomEvent)>,
);

/// Mounts the widget on a fixture, under its own source (its own storage key).
fn mount_on(root: &str, source: &str) -> std::rc::Rc<widget::Widget> {
    widget::mount(Config {
        root: Some(root.into()),
        source: Some(source.into()),
        ..Config::default()
    })
    .expect("mounted")
}

/// Collects the `factmark:error` messages sent on `document`.
fn record_errors() -> Recorded {
    let errors = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = errors.clone();
    let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(
        move |e: web_sys::CustomEvent| {
            sink.borrow_mut()
                .push(get(&e.detail(), "message").as_string().unwrap_or_default());
        },
    );
    document()
        .add_event_listener_with_callback("factmark:error", listener.as_ref().unchecked_ref())
        .unwrap();
    (errors, listener)
}

#[wasm_bindgen_test]
async fn another_tab_writing_the_key_updates_this_page() {
    let source = "urn:test:tabs";
    let key = format!("factmark:v1:{source}");
    let _keys = Keys(vec![key.clone()]);
    let fx = Fixture::new(
        "fx-tabs",
        "<p>The spokesman confirmed the figures on Tuesday.</p>",
    );
    let w = mount_on("#fx-tabs", source);
    assert_eq!(w.stats().total, 0);
    // The other tab stores an annotation, then the browser tells this one.
    let page = PageText::read(&fx.0).unwrap();
    let a = flag_on(page.text(), source, 4, 13, Flag::Unverified, 7);
    let value = Value::Array(vec![serde_json::to_value(&a).unwrap()]).to_string();
    storage().set_item(&key, &value).unwrap();
    let init = web_sys::StorageEventInit::new();
    init.set_key(Some(&key));
    init.set_new_value(Some(&value));
    init.set_storage_area(Some(&storage()));
    let event = web_sys::StorageEvent::new_with_event_init_dict("storage", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
    assert_eq!(w.stats().total, 1);
    assert_eq!(registered("factmark-unverified").unwrap().size(), 1);
    // ...and deletes it again.
    storage().remove_item(&key).unwrap();
    init.set_new_value(None);
    let event = web_sys::StorageEvent::new_with_event_init_dict("storage", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
    assert_eq!(w.stats().total, 0);
    widget::unmount();
}

#[wasm_bindgen_test]
async fn a_flag_made_while_storage_is_full_stays_on_the_page_marked_not_saved() {
    let source = "urn:test:full";
    let key = format!("factmark:v1:{source}");
    let fx = Fixture::new(
        "fx-full",
        "<p>Experts unanimously agree that the reservoir will be dry.</p>",
    );
    let w = mount_on("#fx-full", source);
    let (errors, listener) = record_errors();

    let filler = fill_storage(&key);
    let page = PageText::read(&fx.0).unwrap();
    let range = page.range(Span { start: 0, end: 26 }).unwrap();
    let selection = web_sys::window().unwrap().get_selection().unwrap().unwrap();
    selection.remove_all_ranges().unwrap();
    selection.add_range(&range).unwrap();
    // Through `act`, as the page API and the UI do: it also sends the factmark:* events.
    let annotation = widget::act(|w| w.flag_selection(Flag::Unverified, None))
        .unwrap()
        .expect("kept in the page");
    assert_eq!(w.stats().total, 1);
    assert_eq!(
        storage().get_item(&key).unwrap(),
        None,
        "nothing could be stored"
    );
    let messages = errors.borrow().clone();
    assert!(messages.iter().any(|m| m.contains("quota")), "{messages:?}");
    // The reader sees it in the panel.
    w.toggle_panel();
    TimeoutFuture::new(20).await;
    let shadow = document()
        .query_selector("factmark-widget")
        .unwrap()
        .unwrap()
        .shadow_root()
        .unwrap();
    let badge = shadow
        .query_selector(".fm-panel .fm-warn-badge")
        .unwrap()
        .expect("not-saved badge");
    assert_eq!(badge.text_content().as_deref(), Some("Not saved"));

    // Space frees up: trying again stores it.
    drop(filler);
    w.retry_unsaved();
    let stored = stored_json(&key).expect("stored now");
    assert_eq!(stored[0]["id"], annotation.id.as_str());
    TimeoutFuture::new(20).await;
    assert!(shadow
        .query_selector(".fm-panel .fm-warn-badge")
        .unwrap()
        .is_none());
    document()
        .remove_event_listener_with_callback("factmark:error", listener.as_ref().unchecked_ref())
        .unwrap();
    let _cleanup = Keys(vec![key]);
    widget::unmount();
}
