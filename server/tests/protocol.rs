//! The Web Annotation Protocol over real HTTP, against SQLite and (when
//! FACTMARK_TEST_POSTGRES_URL is set) PostgreSQL: the same tests for both.

mod common;

use common::*;
use factmark_core::model::Annotation;
use futures::future::join_all;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Each listed test runs once per backend: `sqlite::name` and `postgres::name`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(
    create_read_replace_delete_with_etags,
    retried_create_is_idempotent,
    concurrent_creates_are_all_kept_in_a_stable_order,
    paging_by_target,
    container_is_a_basic_container_and_collection,
    malformed_and_refused_requests,
    body_limit,
    rate_limit_answers_429_with_retry_after,
    cors_for_allowed_and_refused_origins,
    what_get_returns_passes_the_w3c_validator,
    iris_follow_public_url,
    replace_keeps_identity,
    listings_render_exactly_like_get,
    listings_never_show_a_page_older_than_an_acknowledged_write,
);

async fn create_read_replace_delete_with_etags(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let id = client_id();
    let annotation = flag_with_id(ARTICLE, "troops crossed", Some("No source named."), &id);

    // Create: 201, Location, ETag, the stored annotation with the server's IRI.
    let response = server.post(&annotation).await;
    assert_eq!(response.status(), 201);
    let location = header(&response, "location");
    let etag = header(&response, "etag");
    assert!(location.starts_with(&server.container), "{location}");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert_eq!(header(&response, "content-type"), ANNO_TYPE);
    assert!(header(&response, "link").contains("<http://www.w3.org/ns/ldp#Resource>; rel=\"type\""));
    assert!(header(&response, "vary").contains("Accept"));
    assert_eq!(
        header(&response, "allow"),
        "GET, HEAD, OPTIONS, PUT, DELETE"
    );
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["id"], location.as_str());
    assert_eq!(
        created["via"],
        id.as_str(),
        "the client's id is kept in via"
    );
    let parsed = Annotation::from_value(serde_json::from_value(created.clone()).unwrap())
        .expect("the server returns a valid annotation");
    assert_eq!(parsed.note(), Some("No source named."));
    assert_eq!(parsed.source(), Some(ARTICLE));

    // Read: same document, same ETag; HEAD and OPTIONS answer 200.
    let response = server.get(&location).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "etag"), etag);
    assert_eq!(response.json::<Value>().await.unwrap(), created);
    let head = server.client.head(&location).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.bytes().await.unwrap().is_empty());
    let options = server
        .client
        .request(reqwest::Method::OPTIONS, &location)
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 200);
    assert!(header(&options, "allow").contains("PUT"));
    // Conditional GET.
    let cached = server
        .client
        .get(&location)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // Replace: If-Match is required; a stale tag gets 412; the current one succeeds.
    let mut edited =
        Annotation::from_value(serde_json::from_value(created.clone()).unwrap()).unwrap();
    edited.set_note(Some("Two agencies deny it.")).unwrap();
    edited.touch("2025-01-03T00:00:00.000Z".into());
    let edited = serde_json::to_value(&edited).unwrap();
    let put = |if_match: Option<&str>| {
        let mut request = server
            .client
            .put(&location)
            .header("content-type", ANNO_TYPE)
            .body(edited.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send()
    };
    assert_error(put(None).await.unwrap(), 428).await;
    let stale = put(Some("\"0000000000000000\"")).await.unwrap();
    assert_eq!(header(&stale, "etag"), etag, "412 tells the current ETag");
    assert!(assert_error(stale, 412).await.contains("If-Match"));
    let response = put(Some(&etag)).await.unwrap();
    assert_eq!(response.status(), 200);
    let new_etag = header(&response, "etag");
    assert_ne!(new_etag, etag);
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(replaced["id"], location.as_str());
    assert_eq!(replaced["via"], id.as_str());
    assert_eq!(
        Annotation::from_value(serde_json::from_value(replaced.clone()).unwrap())
            .unwrap()
            .note(),
        Some("Two agencies deny it.")
    );
    assert_eq!(server.get_json(&location).await, replaced);
    // The old tag is now stale for a second writer.
    assert_error(put(Some(&etag)).await.unwrap(), 412).await;

    // Delete: If-Match required; stale → 412; current → 204; then 404.
    let delete = |tag: Option<&str>| {
        let mut request = server.client.delete(&location);
        if let Some(tag) = tag {
            request = request.header("if-match", tag);
        }
        request.send()
    };
    assert_error(delete(None).await.unwrap(), 428).await;
    assert_error(delete(Some(&etag)).await.unwrap(), 412).await;
    assert_eq!(delete(Some(&new_etag)).await.unwrap().status(), 204);
    assert_error(server.get(&location).await, 404).await;
    assert_error(delete(Some("*")).await.unwrap(), 404).await;
    assert_error(put(Some("*")).await.unwrap(), 404).await;

    // After a delete the same client id may be created again (e.g. the reader undid the delete).
    let again = server.post(&annotation).await;
    assert_eq!(again.status(), 201);
    assert_ne!(header(&again, "location"), location);
    server.stop().await;
}

async fn retried_create_is_idempotent(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let annotation = flag(ARTICLE, "the ministry confirmed", None);

    let first = server.post(&annotation).await;
    assert_eq!(first.status(), 201);
    let (location, etag) = (header(&first, "location"), header(&first, "etag"));
    let first_body: Value = first.json().await.unwrap();

    // A retry (e.g. the response was lost) answers 200 with the stored annotation.
    let retry = server.post(&annotation).await;
    assert_eq!(
        retry.status(),
        200,
        "a repeated client id is not created twice"
    );
    assert_eq!(header(&retry, "location"), location);
    assert_eq!(header(&retry, "etag"), etag);
    assert_eq!(retry.json::<Value>().await.unwrap(), first_body);

    // Many retries at once still make one annotation.
    let racing = flag(ARTICLE, "a second passage", None);
    let responses = join_all((0..12).map(|_| server.post(&racing))).await;
    let mut locations = Vec::new();
    for response in responses {
        assert!(
            matches!(response.status().as_u16(), 200 | 201),
            "{}",
            response.status()
        );
        locations.push(header(&response, "location"));
    }
    locations.dedup();
    assert_eq!(
        locations.len(),
        1,
        "all retries name the same annotation: {locations:?}"
    );

    let page = server
        .get_json(&format!("{}?target={}", server.container, enc(ARTICLE)))
        .await;
    assert_eq!(page["partOf"]["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    // Without a client id each POST is a new annotation, and no via is invented.
    let mut anonymous = flag(ARTICLE, "unattributed", None);
    anonymous.as_object_mut().unwrap().remove("id");
    let (a, _, body) = server.create(&anonymous).await;
    let (b, _, _) = server.create(&anonymous).await;
    assert_ne!(a, b);
    assert!(body.get("via").is_none());
    server.stop().await;
}

async fn concurrent_creates_are_all_kept_in_a_stable_order(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let annotations: Vec<Value> = (0..120)
        .map(|n| flag(ARTICLE, &format!("claim {n}"), None))
        .collect();
    let responses = join_all(annotations.iter().map(|a| server.post(a))).await;
    for response in &responses {
        assert_eq!(response.status(), 201);
    }
    let url = format!("{}?target={}&limit=1000", server.container, enc(ARTICLE));
    let first = server.get_json(&url).await;
    assert_eq!(first["partOf"]["total"], 120);
    let ids: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 120);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 120);
    // The same listing again is in the same order.
    assert_eq!(server.get_json(&url).await, first);
    server.stop().await;
}

async fn paging_by_target(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let other = "https://news.example/sport/derby";
    let mut expected = Vec::new();
    for n in 0..25 {
        let id = client_id();
        server
            .create(&flag_with_id(ARTICLE, &format!("passage {n}"), None, &id))
            .await;
        expected.push(id);
        if n % 8 == 0 {
            server.create(&flag(other, "a goal", None)).await;
        }
    }

    // Follow `next` from the first page: every annotation once, in creation order.
    let first_url = format!("{}?target={}&limit=10", server.container, enc(ARTICLE));
    let mut url = Some(first_url.clone());
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    while let Some(current) = url {
        let response = server.get(&current).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), ANNO_TYPE);
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["type"], "AnnotationPage");
        assert_eq!(page["partOf"]["total"], 25);
        assert_eq!(
            page["partOf"]["id"],
            format!("{}?target={}", server.container, enc(ARTICLE))
        );
        assert_eq!(page["startIndex"], seen.len());
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["target"]["source"], ARTICLE);
            seen.push(item["via"].as_str().unwrap().to_string());
        }
        url = page["next"].as_str().map(str::to_string);
        pages.push(page);
    }
    assert_eq!(
        seen, expected,
        "stable creation order, nothing lost or repeated"
    );
    assert_eq!(pages.len(), 3);
    assert!(pages[0].get("prev").is_none());
    assert_eq!(pages[1]["prev"], pages[0]["id"]);
    assert_eq!(pages[2]["prev"], pages[1]["id"]);
    assert_eq!(pages[0]["partOf"]["last"], pages[2]["id"]);
    assert_eq!(pages[2]["items"].as_array().unwrap().len(), 5);

    // Without paging parameters the first page holds all 25 (default page size 100).
    let all = server
        .get_json(&format!("{}?target={}", server.container, enc(ARTICLE)))
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 25);
    assert!(all.get("next").is_none());
    // The other page's annotations are listed apart.
    let sport = server
        .get_json(&format!("{}?target={}", server.container, enc(other)))
        .await;
    assert_eq!(sport["items"].as_array().unwrap().len(), 4);
    // A page past the end is empty and points back.
    let beyond = server.get_json(&format!("{first_url}&page=9")).await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["prev"], pages[2]["id"]);
    // A page nobody flagged: an empty page, not an error.
    let none = server
        .get_json(&format!(
            "{}?target={}",
            server.container,
            enc("https://news.example/quiet")
        ))
        .await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["partOf"]["total"], 0);
    // IRIs only, when asked.
    let iris = server.get_json(&format!("{first_url}&iris=1")).await;
    assert!(iris["items"][0]
        .as_str()
        .unwrap()
        .starts_with(&server.container));
    // Bad paging parameters are 400 with a message.
    for bad in ["page=-1", "page=two", "limit=0", "limit=100000"] {
        let response = server
            .get(&format!(
                "{}?target={}&{bad}",
                server.container,
                enc(ARTICLE)
            ))
            .await;
        assert_error(response, 400).await;
    }
    server.stop().await;
}

async fn container_is_a_basic_container_and_collection(backend: Backend) {
    let Some(server) = start(backend, |c| c.page_size = 2).await else {
        return;
    };
    for n in 0..3 {
        server
            .create(&flag(ARTICLE, &format!("line {n}"), None))
            .await;
    }
    let response = server.get(&server.container).await;
    assert_eq!(response.status(), 200);
    let link = header(&response, "link");
    assert!(
        link.contains("<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\""),
        "{link}"
    );
    assert!(
        link.contains("rel=\"http://www.w3.org/ns/ldp#constrainedBy\""),
        "{link}"
    );
    let allow = header(&response, "allow");
    for method in ["GET", "HEAD", "OPTIONS", "POST"] {
        assert!(allow.contains(method), "{allow}");
    }
    assert!(header(&response, "vary").contains("Accept"));
    assert!(header(&response, "accept-post").contains("application/ld+json"));
    let etag = header(&response, "etag");
    let content_location = header(&response, "content-location");
    let container: Value = response.json().await.unwrap();
    assert_eq!(container["id"], content_location.as_str());
    assert_eq!(container["id"], server.container.as_str());
    assert_eq!(
        container["type"],
        json!(["BasicContainer", "AnnotationCollection"])
    );
    assert_eq!(container["total"], 3);
    let first = &container["first"];
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next"], container["last"]);
    let last = server.get_json(container["last"].as_str().unwrap()).await;
    assert_eq!(last["prev"], first["id"]);
    assert_eq!(last["partOf"]["id"], server.container.as_str());
    assert_eq!(last["items"].as_array().unwrap().len(), 1);

    // Prefer a minimal container: pages by reference only.
    let minimal = server
        .client
        .get(&server.container)
        .header(
            "prefer",
            "return=representation;include=\"http://www.w3.org/ns/ldp#PreferMinimalContainer\"",
        )
        .send()
        .await
        .unwrap();
    assert!(header(&minimal, "vary").contains("Prefer"));
    let minimal: Value = minimal.json().await.unwrap();
    assert!(minimal["first"].is_string() && minimal["last"].is_string());
    assert!(minimal.get("items").is_none());
    // Prefer contained IRIs: the embedded page lists IRIs.
    let iris: Value = server
        .client
        .get(&server.container)
        .header(
            "prefer",
            "return=representation;include=\"http://www.w3.org/ns/oa#PreferContainedIRIs\"",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(iris["first"]["items"][0]
        .as_str()
        .unwrap()
        .starts_with(&server.container));

    let head = server.client.head(&server.container).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap().is_empty());
    let options = server
        .client
        .request(reqwest::Method::OPTIONS, &server.container)
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 200);
    assert!(header(&options, "allow").contains("POST"));
    let unchanged = server
        .client
        .get(&server.container)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    // The container IRI ends in a slash; the bare path redirects there.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = bare.get(server.url("/annotations")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(header(&redirect, "location"), "/annotations/");
    server.stop().await;
}

async fn malformed_and_refused_requests(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let post = |content_type: Option<&'static str>, body: String| {
        let mut request = server.client.post(&server.container).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send()
    };
    let valid = flag(ARTICLE, "a claim", None).to_string();

    // 415: not JSON.
    assert!(
        assert_error(post(Some("text/plain"), valid.clone()).await.unwrap(), 415)
            .await
            .contains("application/ld+json")
    );
    assert_error(post(None, valid.clone()).await.unwrap(), 415).await;
    assert_error(
        post(Some("application/x-www-form-urlencoded"), "a=b".into())
            .await
            .unwrap(),
        415,
    )
    .await;
    // Plain application/json is accepted.
    assert_eq!(
        post(Some("application/json"), valid)
            .await
            .unwrap()
            .status(),
        201
    );

    // 400: malformed JSON, not an object, not a valid annotation.
    let message = assert_error(
        post(Some(ANNO_TYPE), "{\"type\": \"Annotation\",".into())
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("malformed JSON"), "{message}");
    assert_error(post(Some(ANNO_TYPE), "[]".into()).await.unwrap(), 400).await;
    assert_error(post(Some(ANNO_TYPE), "".into()).await.unwrap(), 400).await;
    let mut no_target = flag(ARTICLE, "x", None);
    no_target.as_object_mut().unwrap().remove("target");
    let message = assert_error(
        post(Some(ANNO_TYPE), no_target.to_string()).await.unwrap(),
        400,
    )
    .await;
    assert!(message.contains("target"), "names the field: {message}");
    let mut bad_evidence = flag(ARTICLE, "x", None);
    bad_evidence["body"][1]["source"] = json!("javascript:alert(1)");
    let message = assert_error(
        post(Some(ANNO_TYPE), bad_evidence.to_string())
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("body"), "{message}");
    let mut numeric_id = flag(ARTICLE, "x", None);
    numeric_id["id"] = json!(7);
    assert_error(
        post(Some(ANNO_TYPE), numeric_id.to_string()).await.unwrap(),
        400,
    )
    .await;
    // Nothing refused was stored.
    let page = server
        .get_json(&format!("{}?target={}", server.container, enc(ARTICLE)))
        .await;
    assert_eq!(page["partOf"]["total"], 1);

    // 404: unknown annotation and unknown path.
    assert_error(
        server
            .get(&format!("{}no-such-annotation", server.container))
            .await,
        404,
    )
    .await;
    assert_error(server.get(&server.url("/nothing/here")).await, 404).await;

    // 405 with Allow.
    let patch = server
        .client
        .patch(format!("{}x", server.container))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&patch, "allow"), "GET, HEAD, OPTIONS, PUT, DELETE");
    assert_error(patch, 405).await;
    let delete_container = server
        .client
        .delete(&server.container)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&delete_container, "allow"),
        "GET, HEAD, OPTIONS, POST"
    );
    assert_error(delete_container, 405).await;

    // 406: a representation we do not have.
    let html = server
        .client
        .get(&server.container)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_error(html, 406).await;
    let json_only = server
        .client
        .get(&server.container)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&json_only, "content-type"), "application/json");
    server.stop().await;
}

async fn body_limit(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    // Default limit 64 KiB: a 70 KB note is refused before it is parsed.
    let mut big = flag(ARTICLE, "x", None);
    big["padding"] = json!("a".repeat(70 * 1024));
    let message = assert_error(server.post(&big).await, 413).await;
    assert!(message.contains("65536"), "{message}");
    // Just under the limit is fine.
    let mut fits = flag(ARTICLE, "x", None);
    fits["padding"] = json!("a".repeat(60 * 1024));
    assert_eq!(server.post(&fits).await.status(), 201);
    // A chunked body without Content-Length is cut off at the limit too.
    let (status, body) = raw_chunked_post(&server, 80 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"status\":413"), "{body}");
    server.stop().await;

    let Some(small) = start(backend, |c| c.max_body_bytes = 2048).await else {
        return;
    };
    let mut over = flag(ARTICLE, "x", None);
    over["padding"] = json!("a".repeat(3000));
    assert_error(small.post(&over).await, 413).await;
    small.stop().await;
}

/// POST with `Transfer-Encoding: chunked` over a raw socket; returns (status, body).
async fn raw_chunked_post(server: &TestServer, size: usize) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /annotations/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 8192];
    let mut sent = 0;
    while sent < size {
        // The server may answer and close before everything is sent.
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || stream.write_all(&chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

async fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let Some(server) = start(backend, |c| {
        c.rate_limit = Some(factmark_server::RateLimit {
            per_second: 0.5,
            burst: 3,
        });
        c.allow_origins =
            factmark_server::AllowedOrigins::parse(&["https://news.example"]).unwrap();
    })
    .await
    else {
        return;
    };
    let url = format!("{}?target={}", server.container, enc(ARTICLE));
    for _ in 0..3 {
        assert_eq!(server.get(&url).await.status(), 200);
    }
    let refused = server
        .client
        .get(&url)
        .header("origin", "https://news.example")
        .send()
        .await
        .unwrap();
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    // The widget on the news site must be able to read the 429 and its Retry-After.
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        "https://news.example"
    );
    assert!(header(&refused, "access-control-expose-headers").contains("Retry-After"));
    assert!(assert_error(refused, 429).await.contains("retry"));
    // Writes count too; preflights do not.
    assert_error(server.post(&flag(ARTICLE, "x", None)).await, 429).await;
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, &server.container)
        .header("origin", "https://news.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    // The health check is not limited.
    assert_eq!(server.get(&server.url("/healthz")).await.status(), 200);
    server.stop().await;
}

async fn cors_for_allowed_and_refused_origins(backend: Backend) {
    let Some(server) = start(backend, |c| {
        c.allow_origins = factmark_server::AllowedOrigins::parse(&[
            "https://news.example",
            "http://localhost:8000",
        ])
        .unwrap();
    })
    .await
    else {
        return;
    };
    let preflight = |origin: &str, method: &str| {
        server
            .client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}some-annotation", server.container),
            )
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type, if-match")
            .send()
    };
    let allowed = preflight("https://news.example", "PUT").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        "https://news.example"
    );
    assert!(header(&allowed, "access-control-allow-methods").contains("PUT"));
    assert!(header(&allowed, "access-control-allow-methods").contains("DELETE"));
    let allow_headers = header(&allowed, "access-control-allow-headers").to_ascii_lowercase();
    assert!(
        allow_headers.contains("content-type") && allow_headers.contains("if-match"),
        "{allow_headers}"
    );
    assert!(header(&allowed, "vary").contains("Origin"));

    let refused = preflight("https://evil.example", "POST").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert!(assert_error(refused, 403)
        .await
        .contains("https://evil.example"));

    // Actual requests: the allowed origin may read ETag and Location; others get no CORS headers.
    let created = server
        .client
        .post(&server.container)
        .header("origin", "http://localhost:8000")
        .header("content-type", ANNO_TYPE)
        .body(flag(ARTICLE, "x", None).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        header(&created, "access-control-allow-origin"),
        "http://localhost:8000"
    );
    let exposed = header(&created, "access-control-expose-headers");
    assert!(
        exposed.contains("ETag") && exposed.contains("Location"),
        "{exposed}"
    );
    let vary = header(&created, "vary");
    assert!(vary.contains("Accept") && vary.contains("Origin"), "{vary}");
    let foreign = server
        .client
        .get(&server.container)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 200);
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    server.stop().await;
}

async fn what_get_returns_passes_the_w3c_validator(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let annotation = flag(
        ARTICLE,
        "crossed the border at dawn",
        Some("<script>alert(1)</script> no source"),
    );
    let (location, _, _) = server.create(&annotation).await;
    server.create(&flag(ARTICLE, "second claim", None)).await;

    let one = server.get_json(&location).await;
    assert_eq!(
        one["body"][1]["value"], "<script>alert(1)</script> no source",
        "stored as text, unchanged"
    );
    assert_w3c_valid(&one);
    assert_w3c_valid(
        &server
            .get_json(&format!("{}?target={}", server.container, enc(ARTICLE)))
            .await,
    );
    assert_w3c_valid(&server.get_json(&server.container).await);
    server.stop().await;
}

async fn iris_follow_public_url(backend: Backend) {
    let Some(server) = start(backend, |c| {
        c.public_url = Some("https://annotations.news.example/factmark/".into());
        c.container_path = "/flags/".into();
    })
    .await
    else {
        return;
    };
    let container = format!("{}/flags/", server.base);
    let response = server
        .client
        .post(&container)
        .header("content-type", ANNO_TYPE)
        .body(flag(ARTICLE, "x", None).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = header(&response, "location");
    assert!(
        location.starts_with("https://annotations.news.example/factmark/flags/"),
        "{location}"
    );
    let slug = location.rsplit('/').next().unwrap();
    let stored = server.get_json(&format!("{container}{slug}")).await;
    assert_eq!(stored["id"], location.as_str());
    server.stop().await;
}

async fn replace_keeps_identity(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let id = client_id();
    let (location, etag, created) = server.create(&flag_with_id(ARTICLE, "x", None, &id)).await;
    let put = |body: Value, tag: String| {
        server
            .client
            .put(&location)
            .header("content-type", "application/json")
            .header("if-match", tag)
            .body(body.to_string())
            .send()
    };
    // Another annotation's id in the body is refused.
    let mut foreign = created.clone();
    foreign["id"] = json!("urn:uuid:00000000-0000-4000-8000-000000000000");
    assert!(assert_error(put(foreign, etag.clone()).await.unwrap(), 400)
        .await
        .contains("id"));
    // The client's own id (what an offline client still holds) is accepted.
    let mut by_client_id = created.clone();
    by_client_id["id"] = json!(id);
    by_client_id["rights"] = json!("https://creativecommons.org/licenses/by/4.0/");
    let response = put(by_client_id, etag.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    let etag2 = header(&response, "etag");
    assert_ne!(etag2, etag);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], location.as_str());
    assert_eq!(body["via"], id.as_str());
    assert_eq!(
        body["rights"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    // A replacement that is not a valid annotation is refused and changes nothing.
    let mut invalid = created.clone();
    invalid["type"] = json!("Bookmark");
    assert_error(put(invalid, etag2.clone()).await.unwrap(), 400).await;
    let still = server.get(&location).await;
    assert_eq!(header(&still, "etag"), etag2);
    // Unchanged content keeps its ETag (it is the same representation).
    let same = put(body.clone(), etag2.clone()).await.unwrap();
    assert_eq!(header(&same, "etag"), etag2);
    server.stop().await;
}

/// Two server processes on one PostgreSQL database: a retry that lands on the other server is
/// still one annotation, and both list the same annotations in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_servers_share_one_database() {
    let Some(a) = start(Backend::Postgres, |_| {}).await else {
        return;
    };
    let mut config = factmark_server::Config::new(a.database.clone());
    config.rate_limit = None;
    let b = serve_config(config).await;

    let shared_ids: Vec<String> = (0..20).map(|_| client_id()).collect();
    let mut requests = Vec::new();
    for (n, id) in shared_ids.iter().enumerate() {
        let annotation = flag_with_id(ARTICLE, &format!("claim {n}"), None, id);
        requests.push((annotation.clone(), true));
        requests.push((annotation, false));
    }
    let responses = join_all(requests.iter().map(|(annotation, on_a)| {
        let server = if *on_a { &a } else { &b };
        server.post(annotation)
    }))
    .await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        20,
        "{statuses:?}"
    );

    // A write through one server is seen at once through the other (nothing cached).
    let path = format!("/annotations/?target={}", enc(ARTICLE));
    let from_a = a.get_json(&a.url(&path)).await;
    let from_b = b.get_json(&b.url(&path)).await;
    assert_eq!(from_a["partOf"]["total"], 20);
    let vias = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["via"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(vias(&from_a), vias(&from_b));
    b.create(&flag(ARTICLE, "one more", None)).await;
    assert_eq!(a.get_json(&a.url(&path)).await["partOf"]["total"], 21);
    let mut b = b;
    b.halt().await;
    a.stop().await;
}

/// A SQLite file serves one process (that is what makes its page cache safe); a second server
/// on the same file is refused with a clear message.
#[tokio::test]
async fn sqlite_second_server_on_one_file_is_refused() {
    let server = start(Backend::Sqlite, |_| {}).await.unwrap();
    let mut config = factmark_server::Config::new(server.database.clone());
    config.rate_limit = None;
    let refused = factmark_server::App::build(config)
        .await
        .err()
        .expect("a second server must be refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("in use by another factmark-server process"),
        "{message}"
    );
    server.stop().await;
}

/// Listing pages may be cached (SQLite); a write that was acknowledged is in every listing
/// read after it, while readers and writers run at the same time.
async fn listings_never_show_a_page_older_than_an_acknowledged_write(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let url = format!("{}?target={}&limit=1000", server.container, enc(ARTICLE));
    let server = std::sync::Arc::new(server);
    // Readers keep the cache warm (and racing) the whole time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (server, url, stop) = (server.clone(), url.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                server.get_json(&url).await;
            }
        }));
    }
    for n in 1..=40u64 {
        let (location, _, _) = server
            .create(&flag(ARTICLE, &format!("claim {n}"), None))
            .await;
        let page = server.get_json(&url).await;
        assert_eq!(page["partOf"]["total"], n, "listing after write {n}");
        assert!(page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == location.as_str()));
        let container = server.get_json(&server.container).await;
        assert_eq!(container["total"], n);
    }
    // Replacing and deleting show at once too.
    let first = server.get_json(&url).await["items"][0].clone();
    let id = first["id"].as_str().unwrap().to_string();
    let etag = header(&server.get(&id).await, "etag");
    let deleted = server
        .client
        .delete(&id)
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let page = server.get_json(&url).await;
    assert_eq!(page["partOf"]["total"], 39);
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["id"] != id.as_str()));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    let server = std::sync::Arc::try_unwrap(server)
        .ok()
        .expect("readers are done");
    server.stop().await;
}

/// Listings are rendered by the database (SQLite) or in Rust (PostgreSQL); single GETs always
/// in Rust. Both must give the same document, also with non-ASCII text before the id.
async fn listings_render_exactly_like_get(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else {
        return;
    };
    let mut unusual = flag(
        ARTICLE,
        "«Élysée» 🚩 said",
        Some("Note with \"quotes\", \\ and ✓"),
    );
    unusual["@context"] =
        json!(["http://www.w3.org/ns/anno.jsonld", {"schéma": "https://schema.org/"}]);
    server.create(&unusual).await;
    server.create(&flag(ARTICLE, "plain", None)).await;
    for query in ["", "limit=1&page=1&"] {
        let page = server
            .get_json(&format!(
                "{}?{query}target={}",
                server.container,
                enc(ARTICLE)
            ))
            .await;
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            assert_eq!(&server.get_json(item["id"].as_str().unwrap()).await, item);
        }
    }
    let container = server.get_json(&server.container).await;
    for item in container["first"]["items"].as_array().unwrap() {
        assert_eq!(&server.get_json(item["id"].as_str().unwrap()).await, item);
    }
    assert_eq!(
        container["first"]["items"][0]["@context"][1]["schéma"],
        "https://schema.org/"
    );
    server.stop().await;
}

#[tokio::test]
async fn static_directory_serves_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>demo</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/factmark_bg.wasm"), b"\0asm").unwrap();
    let static_dir = dir.path().to_path_buf();
    let server = start(Backend::Sqlite, |c| c.static_dir = Some(static_dir))
        .await
        .unwrap();
    let index = server.get(&server.url("/")).await;
    assert_eq!(index.status(), 200);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert!(index.text().await.unwrap().contains("demo"));
    let wasm = server.get(&server.url("/dist/factmark_bg.wasm")).await;
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_error(server.get(&server.url("/missing.js")).await, 404).await;
    // The endpoint still works beside the static files.
    assert_eq!(server.get(&server.container).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn health_and_index() {
    let server = start(Backend::Sqlite, |_| {}).await.unwrap();
    assert_eq!(server.get(&server.url("/healthz")).await.status(), 200);
    let post = server
        .client
        .post(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert!(header(&post, "allow").contains("GET"));
    assert_error(post, 405).await;
    let index = server.get_json(&server.url("/")).await;
    assert_eq!(index["container"], server.container.as_str());
    server.stop().await;
}

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode_and_reopened() {
    let mut server = start(Backend::Sqlite, |_| {}).await.unwrap();
    let (location, etag, _) = server.create(&flag(ARTICLE, "x", None)).await;
    let file = server.scratch_dir().unwrap().join("factmark.sqlite3");
    assert!(file.is_file());
    server.halt().await;

    // Reopen the same file: the annotation and its ETag are there.
    let mut config = factmark_server::Config::new(server.database.clone());
    config.rate_limit = None;
    let reopened = serve_config(config).await;
    let path = location.split_once("/annotations/").unwrap().1;
    let response = reopened.get(&format!("{}{path}", reopened.container)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "etag"), etag);
    let mut reopened = reopened;
    reopened.halt().await;

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    server.stop().await;
}

fn enc(s: &str) -> String {
    factmark_server::protocol::encode(s)
}

use sqlx::Connection as _;
