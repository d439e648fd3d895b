//! The endpoint outbox: ordering, coalescing, what every HTTP outcome does, conflicts, merge
//! with the server's listing, persistence and quarantine of unreadable data.
//!
//! Responses are written the way factmark-server answers (201 + Location + ETag + the stored
//! annotation with the server IRI as `id` and the client id in `via`); the browser end to end
//! test runs the same flow against the real server.

use factmark_core::json::Value;
use factmark_core::model::{
    Annotation, Flag, NewFlag, Selectors, TextPositionSelector, TextQuoteSelector,
};
use factmark_core::outbox::*;

/// `serde_json::json!`, as core's JSON value.
macro_rules! json {
    ($($t:tt)+) => {
        serde_json::from_value::<Value>(serde_json::json!($($t)+)).unwrap()
    };
}

const PAGE: &str = "https://news.example/africa/mali-algeria-escalation";
const OTHER_PAGE: &str = "https://news.example/other";
const EP: &str = "http://127.0.0.1:8080/annotations/";
const TAB: &str = "tab-1";
const T0: i64 = 1_700_000_000_000;

fn flag_on(source: &str, n: u8, note: &str) -> Annotation {
    let exact = format!("passage number {n}");
    Annotation::new_flag(NewFlag {
        source,
        selectors: Selectors {
            quote: TextQuoteSelector {
                exact: exact.clone(),
                prefix: Some("before ".into()),
                suffix: Some(" after".into()),
            },
            position: Some(TextPositionSelector {
                start: 10,
                end: 10 + exact.chars().count(),
            }),
        },
        flag: Flag::Unverified,
        note: Some(note),
        evidence: vec![],
        id: format!("urn:uuid:00000000-0000-4000-8000-0000000000{n:02}"),
        now: "2025-01-02T03:04:05.000Z".into(),
    })
    .expect("valid flag")
}

fn flag(n: u8, note: &str) -> Annotation {
    flag_on(PAGE, n, note)
}

fn edited(a: &Annotation, note: &str) -> Annotation {
    let mut b = a.clone();
    b.set_note(Some(note)).unwrap();
    b.touch("2025-01-03T00:00:00.000Z".into());
    b
}

fn iri(n: u8) -> String {
    format!("{EP}srv-{n}")
}

/// The annotation as the server stores and returns it.
fn server_copy(a: &Annotation, iri: &str) -> Value {
    let mut v = a.to_value();
    v["via"] = json!(a.id);
    v["id"] = json!(iri);
    v
}

fn created(a: &Annotation, iri: &str, etag: &str) -> Outcome {
    Outcome::Response(Response {
        status: 201,
        etag: Some(etag.into()),
        location: Some(iri.into()),
        retry_after: None,
        body: server_copy(a, iri).to_string(),
    })
}

fn ok_with(a: &Annotation, iri: &str, etag: &str) -> Outcome {
    Outcome::Response(Response {
        status: 200,
        etag: Some(etag.into()),
        location: None,
        retry_after: None,
        body: server_copy(a, iri).to_string(),
    })
}

fn status(code: u16, body: &str) -> Outcome {
    Outcome::Response(Response {
        status: code,
        body: body.into(),
        ..Response::default()
    })
}

fn retry_after(code: u16, value: &str) -> Outcome {
    Outcome::Response(Response {
        status: code,
        retry_after: Some(value.into()),
        ..Response::default()
    })
}

fn offline() -> Outcome {
    Outcome::NetworkError("TypeError: Failed to fetch".into())
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An outbox in which `a` is on the server as `iri(n)` with `etag`.
fn synced(a: &Annotation, n: u8, etag: &str) -> Outbox {
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let request = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(&request, created(a, &iri(n), etag), T0, 0.5);
    assert_eq!(done.result, Settled::Done);
    assert!(outbox.is_empty());
    outbox
}

#[test]
fn a_create_is_posted_and_the_server_copy_replaces_the_local_one() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::SavedLocally);

    let request = outbox.take_next(EP, T0, TAB).expect("due now");
    assert_eq!(request.kind, RequestKind::Create);
    assert_eq!((request.method, request.url.as_str()), ("POST", EP));
    assert_eq!(header(&request, "content-type"), Some(ANNO_MEDIA_TYPE));
    assert_eq!(header(&request, "if-match"), None);
    let sent: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        sent["id"],
        json!(a.id),
        "the client id goes with the create: retries are idempotent"
    );
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Sending);
    assert_eq!(
        outbox.take_next(EP, T0, TAB),
        None,
        "an item under way is not sent twice"
    );

    let done = outbox.complete(&request, created(&a, &iri(1), "\"e1\""), T0 + 10, 0.5);
    assert!(done.reached_server);
    assert_eq!(done.result, Settled::Done);
    // The server copy comes back under the local id, without `via` pointing at itself.
    let LocalChange::Replace(local) = done.local else {
        panic!("expected the server copy, got {:?}", done.local)
    };
    assert_eq!(*local, a);
    assert!(local.extra.get("via").is_none());
    assert!(outbox.is_empty());
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Saved);
    let link = outbox.link(&a.id).unwrap();
    assert_eq!(
        (link.server_id.as_str(), link.etag.as_deref()),
        (iri(1).as_str(), Some("\"e1\""))
    );
}

#[test]
fn create_then_edit_before_sending_is_one_create_with_the_latest_body() {
    let a = flag(1, "first");
    let b = edited(&a, "second thoughts");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    outbox.save(EP, b.clone(), Some(&a), T0 + 1);
    assert_eq!(outbox.items().len(), 1);
    let request = outbox.take_next(EP, T0 + 2, TAB).unwrap();
    assert_eq!(request.kind, RequestKind::Create);
    let sent =
        Annotation::from_value(serde_json::from_str(request.body.as_deref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(sent, b);
}

#[test]
fn create_then_delete_before_sending_sends_nothing() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    outbox.save(EP, edited(&a, "x"), Some(&a), T0);
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0);
    assert!(outbox.is_empty());
    assert_eq!(outbox.take_next(EP, T0, TAB), None);
    assert_eq!(outbox.next_wakeup(EP), None);
}

#[test]
fn an_edit_of_a_saved_annotation_is_a_put_with_if_match() {
    let a = flag(1, "first");
    let mut outbox = synced(&a, 1, "\"e1\"");
    let b = edited(&a, "better note");
    outbox.save(EP, b.clone(), Some(&a), T0 + 5);
    let request = outbox.take_next(EP, T0 + 5, TAB).unwrap();
    assert_eq!((request.kind, request.method), (RequestKind::Update, "PUT"));
    assert_eq!(request.url, iri(1));
    assert_eq!(header(&request, "if-match"), Some("\"e1\""));
    assert_eq!(header(&request, "content-type"), Some(ANNO_MEDIA_TYPE));
    let done = outbox.complete(&request, ok_with(&b, &iri(1), "\"e2\""), T0 + 6, 0.5);
    assert_eq!(done.result, Settled::Done);
    assert_eq!(done.local, LocalChange::Replace(Box::new(b)));
    assert_eq!(outbox.link(&a.id).unwrap().etag.as_deref(), Some("\"e2\""));
}

#[test]
fn an_edit_made_while_the_create_is_under_way_follows_it_with_the_new_etag() {
    let a = flag(1, "first");
    let b = edited(&a, "typed while sending");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let create = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.save(EP, b.clone(), Some(&a), T0 + 1);
    assert_eq!(
        outbox.items().len(),
        2,
        "the create in flight cannot take the new body"
    );
    assert_eq!(
        outbox.take_next(EP, T0 + 1, TAB),
        None,
        "one change of an annotation at a time"
    );

    let done = outbox.complete(&create, created(&a, &iri(1), "\"e1\""), T0 + 2, 0.5);
    assert_eq!(
        done.local,
        LocalChange::Keep,
        "the local copy already holds the newer edit"
    );
    let update = outbox.take_next(EP, T0 + 2, TAB).unwrap();
    assert_eq!(update.kind, RequestKind::Update);
    assert_eq!(header(&update, "if-match"), Some("\"e1\""));
    let sent =
        Annotation::from_value(serde_json::from_str(update.body.as_deref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(sent, b);
}

#[test]
fn a_delete_made_while_the_create_is_under_way_goes_after_it() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let create = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0 + 1);
    outbox.complete(&create, created(&a, &iri(1), "\"e1\""), T0 + 2, 0.5);
    let delete = outbox.take_next(EP, T0 + 2, TAB).unwrap();
    assert_eq!(
        (delete.kind, delete.method, delete.url.as_str()),
        (RequestKind::Delete, "DELETE", iri(1).as_str())
    );
    assert_eq!(header(&delete, "if-match"), Some("\"e1\""));
    let done = outbox.complete(&delete, status(204, ""), T0 + 3, 0.5);
    assert_eq!(done.result, Settled::Done);
    assert!(outbox.is_empty());
    assert!(outbox.link(&a.id).is_none());
}

#[test]
fn deleting_an_annotation_already_gone_from_the_server_is_done() {
    let a = flag(1, "first");
    let mut outbox = synced(&a, 1, "\"e1\"");
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0);
    let delete = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(
        &delete,
        status(404, r#"{"error":"no annotation","status":404}"#),
        T0,
        0.5,
    );
    assert_eq!(done.result, Settled::Done);
    assert!(outbox.is_empty());
}

#[test]
fn network_errors_retry_with_growing_jittered_backoff_and_wake_when_online() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let mut now = T0;
    let mut waits = Vec::new();
    for attempt in 1..=4u32 {
        let request = outbox.take_next(EP, now, TAB).expect("due");
        let done = outbox.complete(&request, offline(), now, 0.0);
        assert!(!done.reached_server);
        let Settled::Again { at_ms } = done.result else {
            panic!("{:?}", done.result)
        };
        waits.push(at_ms - now);
        assert_eq!(outbox.items()[0].attempts, attempt);
        assert_eq!(
            outbox.take_next(EP, at_ms - 1, TAB),
            None,
            "not before the backoff"
        );
        assert_eq!(outbox.next_wakeup(EP), Some(at_ms));
        assert_eq!(outbox.sync_state(&a.id, EP), SyncState::SavedLocally);
        now = at_ms;
    }
    // random = 0 gives the fixed half: 0.5 s, 1 s, 2 s, 4 s.
    assert_eq!(waits, vec![500, 1000, 2000, 4000]);
    assert!(outbox.items()[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("Failed to fetch"));

    // Back online: the waiting item goes at once.
    let request = outbox.take_next(EP, now, TAB).unwrap();
    let Settled::Again { at_ms } = outbox.complete(&request, offline(), now, 0.99).result else {
        panic!()
    };
    assert!(at_ms > now + 5_000);
    outbox.wake(now + 100);
    assert!(outbox.take_next(EP, now + 100, TAB).is_some());
}

#[test]
fn backoff_doubles_up_to_a_cap_and_jitter_stays_within_the_upper_half() {
    for attempts in 1..=40u32 {
        let low = backoff_ms(attempts, 0.0);
        let high = backoff_ms(attempts, 0.999_999);
        let full = (BACKOFF_BASE_MS << (attempts - 1).min(30)).min(BACKOFF_CAP_MS);
        assert_eq!(low, full / 2, "attempt {attempts}");
        assert!(
            high <= full && high >= full - 1,
            "attempt {attempts}: {high} vs {full}"
        );
        assert!(backoff_ms(attempts, 0.5) > low && backoff_ms(attempts, 0.5) < high);
    }
    assert_eq!(backoff_ms(100, 0.0), BACKOFF_CAP_MS / 2);
    assert_eq!(
        backoff_ms(1, f64::NAN),
        backoff_ms(1, 0.5),
        "a bad random number does not break the delay"
    );
}

#[test]
fn server_errors_and_429_retry_no_sooner_than_retry_after() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);

    let request = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(&request, retry_after(429, "30"), T0, 0.0);
    assert!(done.reached_server);
    assert_eq!(done.result, Settled::Again { at_ms: T0 + 30_000 });
    // Going online again does not override the server's request.
    outbox.wake(T0 + 1);
    assert_eq!(outbox.take_next(EP, T0 + 29_999, TAB), None);
    let request = outbox.take_next(EP, T0 + 30_000, TAB).unwrap();

    // An HTTP date 2 minutes ahead.
    let now = 784_111_777_000 - 120_000; // Sun, 06 Nov 1994 08:49:37 GMT minus 2 min
    let done = outbox.complete(
        &request,
        retry_after(503, "Sun, 06 Nov 1994 08:49:37 GMT"),
        now,
        0.0,
    );
    assert_eq!(
        done.result,
        Settled::Again {
            at_ms: now + 120_000
        }
    );

    // Without Retry-After, a 5xx backs off like a network error.
    let request = outbox.take_next(EP, now + 120_000, TAB).unwrap();
    let done = outbox.complete(
        &request,
        status(500, r#"{"error":"database is locked","status":500}"#),
        now + 120_000,
        0.0,
    );
    assert_eq!(
        done.result,
        Settled::Again {
            at_ms: now + 120_000 + 2_000
        }
    );
    assert_eq!(
        outbox.items()[0].last_error.as_deref(),
        Some("HTTP 500: database is locked")
    );
    for code in [408, 425, 502, 503, 504] {
        let mut outbox = Outbox::new();
        outbox.save(EP, a.clone(), None, T0);
        let r = outbox.take_next(EP, T0, TAB).unwrap();
        assert!(
            matches!(
                outbox.complete(&r, status(code, ""), T0, 0.0).result,
                Settled::Again { .. }
            ),
            "{code}"
        );
    }
}

#[test]
fn retry_after_values() {
    assert_eq!(parse_retry_after("0", T0), Some(0));
    assert_eq!(parse_retry_after(" 120 ", T0), Some(120_000));
    assert_eq!(
        parse_retry_after("99999999999999999999", T0),
        Some(RETRY_AFTER_CAP_MS)
    );
    let date = 784_111_777; // 1994-11-06T08:49:37Z
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(date));
    assert_eq!(
        parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
        Some(date)
    );
    assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(date));
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date * 1000 + 5_000),
        Some(0),
        "past dates mean now"
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date * 1000 - 1_000),
        Some(1_000)
    );
    for bad in [
        "",
        "-5",
        "1.5",
        "soon",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
    ] {
        assert_eq!(parse_retry_after(bad, T0), None, "{bad:?}");
    }
}

#[test]
fn other_4xx_fail_with_the_servers_message_and_hold_back_only_that_annotation() {
    let a = flag(1, "first");
    let b = flag(2, "second");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    outbox.save(EP, b.clone(), None, T0);
    let first = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(first.id, a.id, "oldest first");
    let body = r#"{"error":"invalid annotation: body: too many bodies","status":400}"#;
    let done = outbox.complete(&first, status(400, body), T0, 0.5);
    let message = "HTTP 400: invalid annotation: body: too many bodies".to_string();
    assert_eq!(
        done.result,
        Settled::Failed {
            status: 400,
            message: message.clone()
        }
    );
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Failed { message });
    assert_eq!(outbox.items().len(), 2, "a refused change is kept");

    // A later edit of the failed annotation waits behind it; the other annotation goes.
    let a2 = edited(&a, "fixed?");
    let next = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(next.id, b.id);
    outbox.complete(&next, created(&b, &iri(2), "\"b1\""), T0, 0.5);
    assert_eq!(
        outbox.take_next(EP, T0 + 60_000, TAB),
        None,
        "a failed item is not retried by itself"
    );

    // The reader edits it: the failed create takes the new body and is tried again.
    outbox.save(EP, a2.clone(), Some(&a), T0 + 1);
    let again = outbox.take_next(EP, T0 + 1, TAB).unwrap();
    assert_eq!(again.kind, RequestKind::Create);
    let done = outbox.complete(&again, status(403, "forbidden by policy"), T0 + 2, 0.5);
    assert_eq!(
        done.result,
        Settled::Failed {
            status: 403,
            message: "HTTP 403: forbidden by policy".into()
        }
    );

    // Or retries it as it is.
    assert!(outbox.retry(&a.id, T0 + 3));
    let again = outbox.take_next(EP, T0 + 3, TAB).unwrap();
    assert_eq!(
        outbox
            .complete(&again, created(&a2, &iri(1), "\"a1\""), T0 + 4, 0.5)
            .result,
        Settled::Done
    );
    assert!(outbox.is_empty());
}

#[test]
fn deleting_an_annotation_whose_create_was_refused_sends_nothing() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let r = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.complete(
        &r,
        status(413, r#"{"error":"body over 65536 bytes","status":413}"#),
        T0,
        0.5,
    );
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0 + 1);
    assert!(outbox.is_empty());
}

#[test]
fn a_create_refused_after_the_reader_deleted_it_leaves_nothing_behind() {
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let r = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0 + 1);
    assert_eq!(outbox.items().len(), 2);
    let done = outbox.complete(
        &r,
        status(400, r#"{"error":"bad","status":400}"#),
        T0 + 2,
        0.5,
    );
    assert_eq!(done.result, Settled::Done);
    assert!(outbox.is_empty());
}

#[test]
fn error_messages() {
    assert_eq!(
        error_message(400, r#"{"error":"malformed JSON: EOF","status":400}"#),
        "HTTP 400: malformed JSON: EOF"
    );
    assert_eq!(
        error_message(502, "<html><body>Bad gateway</body></html>"),
        "HTTP 502"
    );
    assert_eq!(error_message(404, ""), "HTTP 404");
    assert_eq!(
        error_message(418, "  short\n text "),
        "HTTP 418: short text"
    );
    let long = error_message(400, &"x".repeat(10_000));
    assert!(long.chars().count() < 520 && long.ends_with('…'));
}

#[test]
fn a_412_whose_server_copy_is_already_ours_is_done_not_a_conflict() {
    // The PUT arrived but its answer was lost (page reloaded); sent again with the old ETag.
    let a = flag(1, "first");
    let b = edited(&a, "second");
    let mut outbox = synced(&a, 1, "\"e1\"");
    outbox.save(EP, b.clone(), Some(&a), T0);
    let put = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(
        &put,
        status(412, r#"{"error":"If-Match does not match","status":412}"#),
        T0,
        0.5,
    );
    assert_eq!(done.result, Settled::Again { at_ms: T0 });
    let get = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        (get.kind, get.method, get.url.as_str()),
        (RequestKind::FetchCurrent, "GET", iri(1).as_str())
    );
    assert_eq!(header(&get, "if-match"), None);
    let done = outbox.complete(&get, ok_with(&b, &iri(1), "\"e2\""), T0, 0.5);
    assert_eq!(done.result, Settled::Done);
    assert!(outbox.is_empty());
    assert_eq!(outbox.link(&a.id).unwrap().etag.as_deref(), Some("\"e2\""));
}

#[test]
fn a_412_whose_server_copy_is_the_version_we_started_from_is_sent_again_with_its_etag() {
    let a = flag(1, "first");
    let b = edited(&a, "second");
    let mut outbox = synced(&a, 1, "\"e1\"");
    outbox.save(EP, b.clone(), Some(&a), T0);
    let put = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.complete(&put, status(412, ""), T0, 0.5);
    let get = outbox.take_next(EP, T0, TAB).unwrap();
    // Same content under a new ETag (e.g. the server re-stored it).
    let done = outbox.complete(&get, ok_with(&a, &iri(1), "\"e1b\""), T0, 0.5);
    assert_eq!(done.result, Settled::Again { at_ms: T0 });
    let put = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        (put.kind, header(&put, "if-match")),
        (RequestKind::Update, Some("\"e1b\""))
    );
}

#[test]
fn a_412_after_someone_else_changed_it_is_a_conflict_the_reader_resolves() {
    let a = flag(1, "first");
    let mine = edited(&a, "mine");
    let theirs = edited(&a, "theirs");
    for keep_mine in [true, false] {
        let mut outbox = synced(&a, 1, "\"e1\"");
        outbox.save(EP, mine.clone(), Some(&a), T0);
        let put = outbox.take_next(EP, T0, TAB).unwrap();
        outbox.complete(&put, status(412, ""), T0, 0.5);
        let get = outbox.take_next(EP, T0, TAB).unwrap();
        let done = outbox.complete(&get, ok_with(&theirs, &iri(1), "\"t1\""), T0, 0.5);
        assert_eq!(done.result, Settled::Conflict);
        assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Conflict);
        let Some(ServerVersion::Current { annotation, etag }) = outbox.conflict_of(&a.id) else {
            panic!()
        };
        assert_eq!((**annotation).clone(), theirs);
        assert_eq!(etag.as_deref(), Some("\"t1\""));
        assert_eq!(
            outbox.take_next(EP, T0 + 3_600_000, TAB),
            None,
            "a conflict waits for the reader"
        );

        if keep_mine {
            assert!(outbox.keep_local(&a.id, T0 + 1));
            let put = outbox.take_next(EP, T0 + 1, TAB).unwrap();
            assert_eq!(put.kind, RequestKind::Update);
            assert_eq!(
                header(&put, "if-match"),
                Some("\"t1\""),
                "overwrites exactly the version shown"
            );
            let sent =
                Annotation::from_value(serde_json::from_str(put.body.as_deref().unwrap()).unwrap())
                    .unwrap();
            assert_eq!(sent, mine);
        } else {
            assert_eq!(
                outbox.take_server(&a.id),
                Some(LocalChange::Replace(Box::new(theirs.clone())))
            );
            assert!(outbox.is_empty());
            assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Saved);
            // The next edit starts from their version and its ETag.
            outbox.save(EP, edited(&theirs, "again"), Some(&theirs), T0 + 2);
            let put = outbox.take_next(EP, T0 + 2, TAB).unwrap();
            assert_eq!(header(&put, "if-match"), Some("\"t1\""));
        }
    }
}

#[test]
fn an_edit_of_an_annotation_deleted_on_the_server_is_a_conflict() {
    let a = flag(1, "first");
    let mine = edited(&a, "mine");
    for keep_mine in [true, false] {
        let mut outbox = synced(&a, 1, "\"e1\"");
        outbox.save(EP, mine.clone(), Some(&a), T0);
        let put = outbox.take_next(EP, T0, TAB).unwrap();
        let done = outbox.complete(
            &put,
            status(404, r#"{"error":"no annotation","status":404}"#),
            T0,
            0.5,
        );
        assert_eq!(done.result, Settled::Conflict);
        assert_eq!(outbox.conflict_of(&a.id), Some(&ServerVersion::Deleted));
        if keep_mine {
            assert!(outbox.keep_local(&a.id, T0));
            let post = outbox.take_next(EP, T0, TAB).unwrap();
            assert_eq!((post.kind, post.url.as_str()), (RequestKind::Create, EP));
        } else {
            assert_eq!(outbox.take_server(&a.id), Some(LocalChange::Remove));
            assert!(outbox.is_empty() && outbox.link(&a.id).is_none());
        }
    }
}

#[test]
fn a_delete_conflicting_with_a_change_elsewhere_asks_the_reader() {
    let a = flag(1, "first");
    let theirs = edited(&a, "theirs");
    let mut outbox = synced(&a, 1, "\"e1\"");
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0);
    let del = outbox.take_next(EP, T0, TAB).unwrap();
    outbox.complete(&del, status(412, ""), T0, 0.5);
    let get = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        outbox
            .complete(&get, ok_with(&theirs, &iri(1), "\"t1\""), T0, 0.5)
            .result,
        Settled::Conflict
    );
    assert!(outbox.keep_local(&a.id, T0));
    let del = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        (del.kind, header(&del, "if-match")),
        (RequestKind::Delete, Some("\"t1\""))
    );
}

#[test]
fn an_edit_without_a_known_etag_fetches_the_current_version_first() {
    // Listed by the server (listings carry no per-item ETags), then edited.
    let a = flag(1, "first");
    let mut outbox = Outbox::new();
    let merged = outbox.merge(PAGE, EP, vec![], vec![server_copy(&a, &iri(1))], T0, &[]);
    assert_eq!(merged.annotations, vec![a.clone()]);
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Saved);
    let b = edited(&a, "edited");
    outbox.save(EP, b.clone(), Some(&a), T0);
    let get = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        (get.kind, get.url.as_str()),
        (RequestKind::FetchCurrent, iri(1).as_str())
    );
    assert_eq!(
        outbox
            .complete(&get, ok_with(&a, &iri(1), "\"e1\""), T0, 0.5)
            .result,
        Settled::Again { at_ms: T0 }
    );
    let put = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        (put.kind, header(&put, "if-match")),
        (RequestKind::Update, Some("\"e1\""))
    );
    // A fetch that finds it deleted: a delete is then simply done.
    let mut outbox = Outbox::new();
    outbox.merge(PAGE, EP, vec![], vec![server_copy(&a, &iri(1))], T0, &[]);
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0);
    let get = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(get.kind, RequestKind::FetchCurrent);
    assert_eq!(
        outbox.complete(&get, status(404, ""), T0, 0.5).result,
        Settled::Done
    );
    assert!(outbox.is_empty());
}

#[test]
fn a_retried_create_answered_with_an_older_copy_sends_the_newer_body() {
    // The first POST arrived, its answer was lost; the reader edited before the retry.
    let a = flag(1, "first");
    let b = edited(&a, "edited before the retry");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let post = outbox.take_next(EP, T0, "old-page").unwrap();
    let _ = post; // that page was closed
    outbox.recover("old-page");
    outbox.save(EP, b.clone(), Some(&a), T0 + 1);
    let post = outbox.take_next(EP, T0 + 1, TAB).unwrap();
    // The server knows this client id: 200 with what it has.
    let done = outbox.complete(&post, ok_with(&a, &iri(1), "\"e1\""), T0 + 2, 0.5);
    assert_eq!(done.result, Settled::Again { at_ms: T0 + 2 });
    let put = outbox.take_next(EP, T0 + 2, TAB).unwrap();
    assert_eq!(
        (put.kind, put.url.as_str(), header(&put, "if-match")),
        (RequestKind::Update, iri(1).as_str(), Some("\"e1\""))
    );
}

#[test]
fn items_are_sent_in_order_and_a_waiting_annotation_does_not_block_others() {
    let (a, b, c) = (flag(1, "a"), flag(2, "b"), flag(3, "c"));
    let mut outbox = Outbox::new();
    for x in [&a, &b, &c] {
        outbox.save(EP, x.clone(), None, T0);
    }
    let first = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(first.id, a.id);
    outbox.complete(&first, status(503, ""), T0, 0.0);
    let mut order = Vec::new();
    while let Some(r) = outbox.take_next(EP, T0, TAB) {
        order.push(r.id.clone());
        let x = [&a, &b, &c].into_iter().find(|x| x.id == r.id).unwrap();
        outbox.complete(&r, created(x, &format!("{EP}{}", r.id), "\"x\""), T0, 0.0);
    }
    assert_eq!(order, vec![b.id.clone(), c.id.clone()]);
    assert_eq!(outbox.items().len(), 1);
    assert_eq!(outbox.next_wakeup(EP), Some(T0 + 500));
}

#[test]
fn only_items_for_this_endpoint_are_sent_here() {
    let a = flag(1, "a");
    let mut outbox = Outbox::new();
    outbox.save("https://other.example/annotations/", a.clone(), None, T0);
    assert_eq!(outbox.take_next(EP, T0, TAB), None);
    assert_eq!(outbox.next_wakeup(EP), None);
    assert!(outbox
        .take_next("https://other.example/annotations/", T0, TAB)
        .is_some());
}

#[test]
fn an_item_left_sending_by_a_closed_page_is_sent_again_later() {
    let a = flag(1, "a");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    outbox.take_next(EP, T0, "other-tab").unwrap();
    assert_eq!(
        outbox.take_next(EP, T0 + SENDING_STALE_MS - 1, TAB),
        None,
        "another tab may still be sending it"
    );
    assert_eq!(outbox.next_wakeup(EP), Some(T0 + SENDING_STALE_MS));
    let again = outbox.take_next(EP, T0 + SENDING_STALE_MS, TAB).unwrap();
    assert_eq!(again.kind, RequestKind::Create);
    // This very page reloaded: its own sending items are pending again at once.
    let mut outbox = Outbox::new();
    outbox.save(EP, a, None, T0);
    outbox.take_next(EP, T0, TAB).unwrap();
    outbox.recover(TAB);
    assert!(outbox.take_next(EP, T0 + 1, TAB).is_some());
}

#[test]
fn a_completion_for_an_item_gone_meanwhile_still_records_the_server_copy() {
    let a = flag(1, "a");
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let post = outbox.take_next(EP, T0, TAB).unwrap();
    // Another tab finished it and rewrote the outbox without the item.
    let mut other = Outbox::from_json(&outbox.to_json()).outbox;
    other.complete(&post, created(&a, &iri(1), "\"e1\""), T0, 0.5);
    let mut outbox = Outbox::from_json(&other.to_json()).outbox;
    let done = outbox.complete(&post, created(&a, &iri(1), "\"e1\""), T0, 0.5);
    assert_eq!(done.result, Settled::Done);
    assert_eq!(outbox.link(&a.id).unwrap().server_id, iri(1));
    let r = outbox.take_next(EP, T0, TAB);
    assert_eq!(r, None);
    // A failure for an item gone meanwhile changes nothing.
    let mut outbox = Outbox::new();
    assert_eq!(
        outbox.complete(&post, offline(), T0, 0.5).result,
        Settled::Gone
    );
    assert_eq!(
        outbox.complete(&post, status(400, ""), T0, 0.5).result,
        Settled::Gone
    );
}

#[test]
fn merge_server_wins_unless_there_are_unsent_changes() {
    let (a, b, c, d, e) = (
        flag(1, "a"),
        flag(2, "b"),
        flag(3, "c"),
        flag(4, "d"),
        flag(5, "e"),
    );
    let mut outbox = synced(&a, 1, "\"a1\"");
    // b and c were on the server too; c will have been deleted there.
    for (x, n) in [(&b, 2), (&c, 3)] {
        outbox.save(EP, x.clone(), None, T0);
        let r = outbox.take_next(EP, T0, TAB).unwrap();
        outbox.complete(&r, created(x, &iri(n), "\"x1\""), T0, 0.5);
    }
    let b_mine = edited(&b, "my unsent edit");
    outbox.save(EP, b_mine.clone(), Some(&b), T0); // unsent edit of b
    outbox.save(EP, d.clone(), None, T0); // unsent create of d
    let a_theirs = edited(&a, "changed elsewhere");
    let b_theirs = edited(&b, "also changed elsewhere");
    let f = flag(6, "created on another device");
    let local = vec![a.clone(), b_mine.clone(), c.clone(), d.clone(), e.clone()];
    let server = vec![
        server_copy(&a_theirs, &iri(1)),
        server_copy(&b_theirs, &iri(2)),
        server_copy(&f, &iri(6)),
        json!({"id": format!("{EP}broken"), "type": "Annotation"}),
        server_copy(&flag_on(OTHER_PAGE, 7, "elsewhere"), &iri(7)),
    ];
    let merged = outbox.merge(PAGE, EP, local, server, T0 + 10, &[]);
    let ids = |list: &[Annotation]| list.iter().map(|x| x.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&merged.annotations),
        ids(&[
            a_theirs.clone(),
            b_mine.clone(),
            d.clone(),
            e.clone(),
            f.clone()
        ])
    );
    assert_eq!(
        merged.annotations[0], a_theirs,
        "no local change: the server wins"
    );
    assert_eq!(merged.annotations[1], b_mine, "an unsent edit wins");
    assert_eq!(
        merged.annotations[4], f,
        "annotations from elsewhere are added under their client id"
    );
    assert_eq!(merged.removed, vec![c.id.clone()], "deleted on the server");
    assert_eq!(
        merged.queued,
        vec![e.id.clone()],
        "local-only, never sent: queued, not lost"
    );
    assert_eq!(merged.rejected.len(), 2);
    assert!(merged.rejected[1].reason.contains("not this page"));
    assert!(outbox.link(&c.id).is_none());
    assert_eq!(outbox.link(&f.id).unwrap().server_id, iri(6));
    assert_eq!(
        outbox.link(&a.id).unwrap().etag,
        None,
        "the ETag we had was of the old version"
    );
    assert_eq!(outbox.sync_state(&e.id, EP), SyncState::SavedLocally);
    assert_eq!(outbox.sync_state(&f.id, EP), SyncState::Saved);
    let states = outbox.sync_states(PAGE, EP);
    assert_eq!(states.get(&a.id), Some(&SyncState::Saved));
    assert_eq!(states.get(&b.id), Some(&SyncState::SavedLocally));
    assert_eq!(states.get(&e.id), Some(&SyncState::SavedLocally));
    assert!(!states.contains_key(&c.id));
}

#[test]
fn merge_keeps_an_unsent_delete_and_an_annotation_only_the_outbox_holds() {
    let (a, b) = (flag(1, "a"), flag(2, "b"));
    let mut outbox = synced(&a, 1, "\"a1\"");
    outbox.delete(EP, &a.id, PAGE, Some(&a), T0);
    outbox.save(EP, b.clone(), None, T0);
    // The local copy lost b (quota, cleared key): the outbox still has it.
    let merged = outbox.merge(PAGE, EP, vec![], vec![server_copy(&a, &iri(1))], T0, &[]);
    assert_eq!(merged.annotations, vec![b.clone()]);
    assert_eq!(outbox.overlay(PAGE, vec![a.clone()]), vec![b]);
}

#[test]
fn a_listing_older_than_an_acknowledged_create_or_delete_loses_neither() {
    // The listing was requested, then the server acknowledged a create of `a` and a delete of
    // `b`, then the listing arrived: it lacks `a` and still has `b`. Neither is news.
    let (a, b, c) = (flag(1, "a"), flag(2, "b"), flag(3, "c"));
    let mut outbox = synced(&b, 2, "\"b1\"");
    outbox.delete(EP, &b.id, PAGE, Some(&b), T0);
    let del = outbox.take_next(EP, T0, TAB).unwrap();
    assert_eq!(
        outbox.complete(&del, status(204, ""), T0, 0.5).result,
        Settled::Done
    );
    outbox.save(EP, a.clone(), None, T0);
    let create = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(&create, created(&a, &iri(1), "\"a1\""), T0, 0.5);
    assert_eq!(done.result, Settled::Done);
    let listing = vec![server_copy(&b, &iri(2)), server_copy(&c, &iri(3))];
    let newer_here = vec![a.id.clone(), b.id.clone()];
    let merged = outbox.merge(PAGE, EP, vec![a.clone()], listing.clone(), T0, &newer_here);
    assert_eq!(merged.annotations, vec![a.clone(), c.clone()]);
    assert!(merged.removed.is_empty(), "a was not deleted elsewhere");
    assert!(merged.queued.is_empty(), "a is on the server already");
    assert_eq!(outbox.sync_state(&a.id, EP), SyncState::Saved);
    assert!(
        outbox.link(&b.id).is_none(),
        "the deleted b is not linked again"
    );
    // The same listing taken as current would drop a: that is what `newer_here` is for.
    let mut outbox = synced(&a, 1, "\"a1\"");
    let merged = outbox.merge(PAGE, EP, vec![a.clone()], listing, T0, &[]);
    assert_eq!(merged.removed, vec![a.id.clone()]);
}

#[test]
fn merge_after_a_move_to_another_endpoint_queues_instead_of_deleting() {
    let a = flag(1, "a");
    let mut outbox = synced(&a, 1, "\"a1\"");
    let elsewhere = "https://annotations.news.example/annotations/";
    let merged = outbox.merge(PAGE, elsewhere, vec![a.clone()], vec![], T0, &[]);
    assert_eq!(merged.annotations, vec![a.clone()]);
    assert_eq!(merged.queued, vec![a.id.clone()]);
    assert!(merged.removed.is_empty());
    assert_eq!(
        outbox.take_next(elsewhere, T0, TAB).unwrap().kind,
        RequestKind::Create
    );
}

#[test]
fn to_local_uses_the_client_id_from_via_and_keeps_other_vias() {
    let a = flag(1, "a");
    let mut v = server_copy(&a, &iri(1));
    v["via"] = json!(["https://origin.example/x", a.id]);
    let (local, server_id) = to_local(v, &Default::default()).unwrap();
    assert_eq!(server_id, iri(1));
    assert_eq!(local.id, a.id);
    assert_eq!(
        local.extra.get("via"),
        Some(&json!("https://origin.example/x"))
    );
    // Without a client id, the server IRI is the id.
    let mut v = a.to_value();
    v["id"] = json!(iri(9));
    let (local, _) = to_local(v, &Default::default()).unwrap();
    assert_eq!(local.id, iri(9));
    assert!(to_local(json!([1]), &Default::default()).is_err());
    assert!(to_local(json!({"type": "Annotation"}), &Default::default())
        .unwrap_err()
        .contains("id"));
}

#[test]
fn the_outbox_survives_a_round_trip_through_json() {
    let (a, b, c, d) = (flag(1, "a"), flag(2, "b"), flag(3, "c"), flag(4, "d"));
    let mut outbox = synced(&a, 1, "\"a1\"");
    outbox.save(EP, edited(&a, "edit"), Some(&a), T0);
    outbox.save(EP, b.clone(), None, T0);
    outbox.save(EP, c.clone(), None, T0);
    outbox.save(EP, d.clone(), None, T0);
    outbox.delete(
        "https://other.example/annotations/",
        "urn:x",
        OTHER_PAGE,
        None,
        T0,
    );
    // Put items in every state.
    let r = outbox.take_next(EP, T0, TAB).unwrap(); // a: update
    outbox.complete(&r, status(412, ""), T0, 0.5);
    let r = outbox.take_next(EP, T0, TAB).unwrap(); // a: fetch
    outbox.complete(
        &r,
        ok_with(&edited(&a, "theirs"), &iri(1), "\"t\""),
        T0,
        0.5,
    ); // conflict
    let r = outbox.take_next(EP, T0, TAB).unwrap(); // b
    outbox.complete(&r, status(400, r#"{"error":"no"}"#), T0, 0.5); // failed
    let r = outbox.take_next(EP, T0, TAB).unwrap(); // c
    outbox.complete(&r, retry_after(429, "9"), T0, 0.3); // pending with not-before
    outbox.take_next(EP, T0, TAB).unwrap(); // d: sending
    let states: Vec<&ItemState> = outbox.items().iter().map(|i| &i.state).collect();
    assert!(matches!(
        states[..],
        [
            ItemState::Conflict { .. },
            ItemState::Failed { .. },
            ItemState::Pending,
            ItemState::Sending { .. }
        ]
    ));

    let text = outbox.to_json();
    let loaded = Outbox::from_json(&text);
    assert!(loaded.quarantined.is_empty() && !loaded.corrupt);
    assert_eq!(loaded.outbox, outbox);
    assert_eq!(loaded.outbox.to_json(), text);
    // New items after a reload do not reuse sequence numbers.
    let mut reloaded = loaded.outbox;
    let seqs: Vec<u64> = reloaded.items().iter().map(|i| i.seq).collect();
    reloaded.save(EP, flag(9, "later"), None, T0);
    assert!(!seqs.contains(&reloaded.items().last().unwrap().seq));
    // The persisted shape is plain, documented JSON.
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], json!(1));
    assert_eq!(v["items"][0]["op"], json!("update"));
    assert_eq!(v["items"][0]["state"]["kind"], json!("conflict"));
    assert_eq!(
        v["items"][1]["state"],
        json!({"kind": "failed", "status": 400, "message": "HTTP 400: no"})
    );
    assert_eq!(v["links"][a.id.as_str()]["serverId"], json!(iri(1)));
}

#[test]
fn an_unreadable_outbox_is_quarantined_whole() {
    for (raw, why) in [
        ("{\"version\":1,\"items\":[", "not valid JSON"),
        ("[1,2,3]", "not a JSON object"),
        ("{\"items\":[]}", "no format version"),
        ("{\"version\":7,\"items\":[]}", "version 7"),
    ] {
        let loaded = Outbox::from_json(raw);
        assert!(loaded.corrupt, "{raw}");
        assert!(loaded.outbox.is_empty());
        assert_eq!(loaded.quarantined.len(), 1);
        assert_eq!(
            loaded.quarantined[0]["raw"],
            json!(raw),
            "the stored text is kept exactly"
        );
        assert!(
            loaded.quarantined[0]["reason"]
                .as_str()
                .unwrap()
                .contains(why),
            "{raw}"
        );
        let records = loaded.quarantine_records("2025-01-01T00:00:00.000Z");
        assert_eq!(
            records[0]["quarantinedAt"],
            json!("2025-01-01T00:00:00.000Z")
        );
        assert_eq!(records[0]["raw"], json!(raw));
    }
}

#[test]
fn unreadable_items_and_links_are_quarantined_and_the_rest_loads() {
    let (a, b) = (flag(1, "a"), flag(2, "b"));
    let mut outbox = synced(&a, 1, "\"a1\"");
    outbox.save(EP, b.clone(), None, T0);
    let mut v: Value = serde_json::from_str(&outbox.to_json()).unwrap();
    let mut broken_body = v["items"][0].clone();
    broken_body["body"]["target"] = json!({"selector": {"type": "TextQuoteSelector"}});
    broken_body["seq"] = json!(41);
    let items = v["items"].as_array_mut().unwrap();
    items.push(json!({"seq": 42, "op": "teleport", "id": "x"}));
    items.push(broken_body.clone());
    items.push(json!("garbage"));
    v["links"]["urn:bad"] = json!({"etag": 5});
    let loaded = Outbox::from_json(&v.to_string());
    assert!(!loaded.corrupt);
    assert_eq!(loaded.outbox.items().len(), 1);
    assert_eq!(loaded.outbox.items()[0].body.as_ref(), Some(&b));
    assert_eq!(loaded.outbox.link(&a.id).unwrap().server_id, iri(1));
    assert_eq!(loaded.quarantined.len(), 4);
    assert_eq!(loaded.quarantined[0]["value"]["op"], json!("teleport"));
    assert_eq!(
        loaded.quarantined[1]["value"], broken_body,
        "kept exactly as stored"
    );
    assert!(loaded.quarantined[1]["reason"]
        .as_str()
        .unwrap()
        .starts_with("outbox item:"));
    assert_eq!(loaded.quarantined[2]["value"], json!("garbage"));
    assert_eq!(loaded.quarantined[3]["link"]["urn:bad"], json!({"etag": 5}));
    // Writing it back keeps the good parts; the quarantine records hold the rest.
    let again = Outbox::from_json(&loaded.outbox.to_json());
    assert!(again.quarantined.is_empty());
    assert_eq!(again.outbox, loaded.outbox);
}

#[test]
fn duplicate_sequence_numbers_are_renumbered_in_stored_order() {
    let (a, b) = (flag(1, "a"), flag(2, "b"));
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    outbox.save(EP, b.clone(), None, T0);
    let mut v: Value = serde_json::from_str(&outbox.to_json()).unwrap();
    v["items"][1]["seq"] = json!(0);
    v["nextSeq"] = json!(0);
    let mut loaded = Outbox::from_json(&v.to_string()).outbox;
    let seqs: Vec<u64> = loaded.items().iter().map(|i| i.seq).collect();
    assert_eq!(seqs, vec![0, 1]);
    assert_eq!(loaded.take_next(EP, T0, TAB).unwrap().id, a.id);
    loaded.save(EP, flag(3, "c"), None, T0);
    assert_eq!(loaded.items().last().unwrap().seq, 2);
}

#[test]
fn sync_states_name_what_the_reader_sees() {
    assert_eq!(SyncState::SavedLocally.as_str(), "local");
    assert_eq!(SyncState::Sending.as_str(), "sending");
    assert_eq!(SyncState::Saved.as_str(), "saved");
    assert_eq!(
        SyncState::Failed {
            message: "m".into()
        }
        .as_str(),
        "failed"
    );
    assert_eq!(SyncState::Conflict.as_str(), "conflict");
    let a = flag(1, "a");
    assert_eq!(Outbox::new().sync_state(&a.id, EP), SyncState::SavedLocally);
}

#[test]
fn an_annotation_with_a_non_uuid_id_keeps_it_and_gets_no_via_to_itself() {
    // Imported from elsewhere: its id is another server's IRI.
    let mut a = flag(1, "imported");
    a.id = "https://other.example/annotations/42".into();
    let mut outbox = Outbox::new();
    outbox.save(EP, a.clone(), None, T0);
    let post = outbox.take_next(EP, T0, TAB).unwrap();
    let done = outbox.complete(&post, created(&a, &iri(1), "\"e1\""), T0, 0.5);
    assert_eq!(done.local, LocalChange::Replace(Box::new(a.clone())));
    // Listed again later: found through the link, under the same id.
    let merged = outbox.merge(
        PAGE,
        EP,
        vec![a.clone()],
        vec![server_copy(&a, &iri(1))],
        T0,
        &[],
    );
    assert_eq!(merged.annotations, vec![a]);
    assert!(merged.queued.is_empty() && merged.removed.is_empty());
}
