//! The protocol's two kinds of resource: the container (list, create) and one annotation
//! (read, replace, delete). Each handler answers every method itself, so a wrong method gets the
//! JSON error with the right `Allow`, and HEAD/OPTIONS follow the protocol.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::annotation::{client_id, parse_object, prepare};
use crate::db::{
    Changed, Created, IfMatch, NewAnnotation, Render, Replacement, Row, Store, StoreError,
};
use crate::error::ApiError;
use crate::protocol::{
    self, annotation_iri, negotiate, Listing, Prefer, Representation, ACCEPT_POST,
    ANNOTATION_ALLOW, ANNOTATION_LINK, CONTAINER_ALLOW, CONTAINER_LINK, PAGE_LINK,
};
use crate::stored::content_hash;

/// What the handlers share.
pub struct AppState {
    pub store: Store,
    /// e.g. "/annotations/"
    pub container_path: String,
    /// `--public-url` without a trailing slash; None = from the request's Host.
    pub public_base: Option<String>,
    pub max_body_bytes: usize,
    pub page_size: u32,
    pub max_page_size: u32,
}

pub type Shared = Arc<AppState>;

impl AppState {
    fn container_iri(&self, uri: &Uri, headers: &HeaderMap) -> Result<String, ApiError> {
        if let Some(base) = &self.public_base {
            return Ok(format!("{base}{}", self.container_path));
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string)
            })
            .ok_or_else(|| ApiError::bad_request("the request has no Host header"))?;
        let plausible = !host.is_empty()
            && host.len() <= 255
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b));
        if !plausible {
            return Err(ApiError::bad_request(format!(
                "invalid Host header {host:?}"
            )));
        }
        Ok(format!("http://{host}{}", self.container_path))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(why) => ApiError::unavailable("using the database", why),
            StoreError::Internal(why) => ApiError::internal("using the database", why),
        }
    }
}

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

pub async fn container(
    State(app): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    respond(match method {
        Method::GET | Method::HEAD => list(&app, &uri, &headers, query.as_deref()).await,
        Method::POST => create(&app, &uri, &headers, body).await,
        Method::OPTIONS => Ok(options(CONTAINER_ALLOW, CONTAINER_LINK, true)),
        _ => Err(ApiError::method_not_allowed(&method, CONTAINER_ALLOW)),
    })
}

pub async fn item(
    State(app): State<Shared>,
    Path(slug): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(match method {
        Method::GET | Method::HEAD => read(&app, &uri, &headers, &slug).await,
        Method::PUT => replace(&app, &uri, &headers, &slug, body).await,
        Method::DELETE => delete(&app, &headers, &slug).await,
        Method::OPTIONS => Ok(options(ANNOTATION_ALLOW, ANNOTATION_LINK, false)),
        _ => Err(ApiError::method_not_allowed(&method, ANNOTATION_ALLOW)),
    })
}

/// `/annotations` → `/annotations/`: the protocol's container IRI ends in a slash.
pub async fn container_redirect(State(app): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let mut location = app.container_path.clone();
    if let Some(query) = query {
        location.push('?');
        location.push_str(&query);
    }
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => ApiError::bad_request("invalid query").into_response(),
    }
}

fn options(allow: &'static str, link: &'static str, container: bool) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    headers.insert(header::LINK, HeaderValue::from_static(link));
    if container {
        headers.insert("accept-post", HeaderValue::from_static(ACCEPT_POST));
    }
    response
}

async fn list(
    app: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let representation = negotiate(headers)?;
    let mut listing = Listing::parse(query, app.page_size, app.max_page_size)?;
    let container = app.container_iri(uri, headers)?;

    if listing.target.is_none() && listing.page.is_none() {
        let prefer = Prefer::parse(headers);
        listing.iris |= prefer.iris;
        let render = Render {
            container: &container,
            iris_only: listing.iris,
        };
        let first = app.store.page(None, 0, listing.limit, render).await?;
        let body =
            protocol::container_json(&container, &listing, &first, prefer, "factmark annotations");
        let mut response = json_response(StatusCode::OK, representation, body, headers)?;
        let h = response.headers_mut();
        h.insert(header::LINK, HeaderValue::from_static(CONTAINER_LINK));
        h.insert(header::ALLOW, HeaderValue::from_static(CONTAINER_ALLOW));
        h.insert("accept-post", HeaderValue::from_static(ACCEPT_POST));
        h.insert(header::VARY, HeaderValue::from_static("Accept, Prefer"));
        h.insert(header::CONTENT_LOCATION, header_value(&container)?);
        if Prefer::given(headers) {
            h.insert(
                "preference-applied",
                HeaderValue::from_static("return=representation"),
            );
        }
        return Ok(response);
    }

    let page = listing.page.unwrap_or(0);
    let offset = page.saturating_mul(u64::from(listing.limit));
    let render = Render {
        container: &container,
        iris_only: listing.iris,
    };
    let rows = app
        .store
        .page(listing.target.as_deref(), offset, listing.limit, render)
        .await?;
    let body = protocol::page_json(&container, &listing, page, &rows, true);
    let mut response = json_response(StatusCode::OK, representation, body, headers)?;
    let h = response.headers_mut();
    h.insert(header::LINK, HeaderValue::from_static(PAGE_LINK));
    h.insert(header::ALLOW, HeaderValue::from_static(CONTAINER_ALLOW));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(
        header::CONTENT_LOCATION,
        header_value(&listing.page_iri(&container, page))?,
    );
    Ok(response)
}

async fn create(
    app: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let representation = negotiate(headers)?;
    protocol::check_request_type(headers)?;
    let bytes = read_body(body, headers, app.max_body_bytes).await?;
    let object = parse_object(&bytes)?;
    let via = client_id(&object)?;
    let container = app.container_iri(uri, headers)?;
    let slug = uuid::Uuid::new_v4().to_string();
    let prepared = prepare(object, &annotation_iri(&container, &slug), via.as_deref())?;
    let created = app
        .store
        .create(NewAnnotation {
            slug,
            via,
            target: prepared.target,
            doc: prepared.doc,
        })
        .await?;
    let (status, row) = match created {
        Created::New(row) => (StatusCode::CREATED, row),
        // The same client id again: a retry. Answer with what is stored; create nothing.
        Created::Existing(row) => (StatusCode::OK, row),
    };
    let iri = annotation_iri(&container, &row.slug);
    let mut response = annotation_response(status, representation, &iri, &row)?;
    response
        .headers_mut()
        .insert(header::LOCATION, header_value(&iri)?);
    Ok(response)
}

async fn read(
    app: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    slug: &str,
) -> Result<Response, ApiError> {
    let representation = negotiate(headers)?;
    let row = app.store.get(slug).await?.ok_or_else(|| not_found(slug))?;
    if if_none_match(headers, &row.etag) {
        return Ok(not_modified(&row.etag));
    }
    let container = app.container_iri(uri, headers)?;
    annotation_response(
        StatusCode::OK,
        representation,
        &annotation_iri(&container, slug),
        &row,
    )
}

async fn replace(
    app: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    slug: &str,
    body: Body,
) -> Result<Response, ApiError> {
    let precondition = required_if_match(headers)?;
    let representation = negotiate(headers)?;
    protocol::check_request_type(headers)?;
    let bytes = read_body(body, headers, app.max_body_bytes).await?;
    let object = parse_object(&bytes)?;
    let current = app.store.get(slug).await?.ok_or_else(|| not_found(slug))?;
    let container = app.container_iri(uri, headers)?;
    let iri = annotation_iri(&container, slug);
    if let Some(id) = client_id(&object)? {
        let same = id == iri
            || id.ends_with(&format!("{}{slug}", app.container_path))
            || current.via.as_deref() == Some(id.as_str());
        if !same {
            return Err(ApiError::bad_request(format!(
                "id {id:?} does not name this annotation ({iri}); an annotation's id cannot change"
            )));
        }
    }
    let prepared = prepare(object, &iri, current.via.as_deref())?;
    let replacement = Replacement {
        target: prepared.target,
        doc: prepared.doc,
    };
    match app.store.replace(slug, precondition, replacement).await? {
        Changed::Done(row) => annotation_response(StatusCode::OK, representation, &iri, &row),
        Changed::NotFound => Err(not_found(slug)),
        Changed::Stale(etag) => Err(ApiError::precondition_failed(&etag)),
    }
}

async fn delete(app: &AppState, headers: &HeaderMap, slug: &str) -> Result<Response, ApiError> {
    let precondition = required_if_match(headers)?;
    match app.store.delete(slug, precondition).await? {
        Changed::Done(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Changed::NotFound => Err(not_found(slug)),
        Changed::Stale(etag) => Err(ApiError::precondition_failed(&etag)),
    }
}

fn not_found(slug: &str) -> ApiError {
    ApiError::not_found(format!(
        "no annotation {slug:?} here (it never existed or was deleted)"
    ))
}

fn required_if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .ok_or_else(ApiError::precondition_required)?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::bad_request("If-Match is not valid text"))?;
    Ok(IfMatch::parse(value))
}

/// `If-None-Match` (weak comparison, as RFC 9110 says for it).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn header_value(s: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(s)
        .map_err(|_| ApiError::bad_request("the resulting IRI is not a valid header value"))
}

/// A JSON document with an ETag of its own text; answers If-None-Match with 304.
fn json_response(
    status: StatusCode,
    representation: Representation,
    body: String,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{:016x}\"", content_hash(body.as_bytes()));
    if if_none_match(request, &etag) {
        return Ok(not_modified(&etag));
    }
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(representation.content_type()),
    );
    h.insert(header::ETAG, header_value(&etag)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn annotation_response(
    status: StatusCode,
    representation: Representation,
    iri: &str,
    row: &Row,
) -> Result<Response, ApiError> {
    let mut response = (status, row.doc.render(iri)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(representation.content_type()),
    );
    h.insert(header::ETAG, header_value(&row.etag)?);
    h.insert(header::LINK, HeaderValue::from_static(ANNOTATION_LINK));
    h.insert(header::ALLOW, HeaderValue::from_static(ANNOTATION_ALLOW));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(header::CONTENT_LOCATION, header_value(iri)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Reads the whole body, refusing more than `limit` bytes early when Content-Length says so.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            if e.is::<http_body_util::LengthLimitError>() {
                return ApiError::payload_too_large(limit);
            }
            source = e.source();
        }
        ApiError::bad_request(format!("could not read the request body: {err}"))
    })
}

/// `GET /healthz`: 200 when the database answers.
pub async fn health(State(app): State<Shared>) -> Response {
    match app.store.ping().await {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            r#"{"status":"ok"}"#,
        )
            .into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// `GET /` when no `--static` directory is given: say what this server is.
pub async fn index(State(app): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    respond(app.container_iri(&uri, &headers).map(|container| {
        let body = serde_json::json!({
            "service": "factmark-server",
            "container": container,
            "protocol": "https://www.w3.org/TR/annotation-protocol/",
        });
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response()
    }))
}

/// 405 from the plain routes (`/healthz`, `/`); axum adds their `Allow`.
pub async fn method_not_allowed_fallback(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on {}", uri.path()),
    )
    .into_response()
}

pub async fn not_found_fallback(uri: Uri) -> Response {
    ApiError::not_found(format!("nothing at {}", uri.path())).into_response()
}

pub const NOSNIFF: (HeaderName, HeaderValue) = (
    header::X_CONTENT_TYPE_OPTIONS,
    HeaderValue::from_static("nosniff"),
);
