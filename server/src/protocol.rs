//! The W3C Web Annotation Protocol's vocabulary: media types, Link headers, Prefer, paging IRIs,
//! and the JSON of containers and pages.
//! <https://www.w3.org/TR/annotation-protocol/>

use axum::http::{header, HeaderMap};
use serde_json::{json, Map, Value};

use crate::db::RenderedPage;
use crate::error::ApiError;

pub const ANNO_CONTEXT: &str = "http://www.w3.org/ns/anno.jsonld";
pub const LDP_CONTEXT: &str = "http://www.w3.org/ns/ldp.jsonld";
pub const ANNO_MEDIA_TYPE: &str =
    r#"application/ld+json; profile="http://www.w3.org/ns/anno.jsonld""#;
pub const JSON_MEDIA_TYPE: &str = "application/json";
pub const ACCEPT_POST: &str =
    r#"application/ld+json; profile="http://www.w3.org/ns/anno.jsonld", application/json"#;
pub const CONTAINER_LINK: &str = "<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\", \
     <http://www.w3.org/TR/annotation-protocol/>; rel=\"http://www.w3.org/ns/ldp#constrainedBy\"";
pub const PAGE_LINK: &str = "<http://www.w3.org/ns/oa#AnnotationPage>; rel=\"type\"";
pub const ANNOTATION_LINK: &str =
    "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\", <http://www.w3.org/ns/oa#Annotation>; rel=\"type\"";
pub const CONTAINER_ALLOW: &str = "GET, HEAD, OPTIONS, POST";
pub const ANNOTATION_ALLOW: &str = "GET, HEAD, OPTIONS, PUT, DELETE";

const PREFER_MINIMAL: &str = "http://www.w3.org/ns/ldp#PreferMinimalContainer";
const PREFER_IRIS: &str = "http://www.w3.org/ns/oa#PreferContainedIRIs";

/// Refuses request bodies that are not JSON: the protocol's media type, or plain JSON.
pub fn check_request_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let Some(raw) = raw else {
        return Err(ApiError::unsupported_media_type(None));
    };
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence != "application/ld+json" && essence != "application/json" {
        return Err(ApiError::unsupported_media_type(Some(raw)));
    }
    for param in parts {
        if let Some((name, value)) = param.split_once('=') {
            let value = value.trim().trim_matches('"');
            if name.trim().eq_ignore_ascii_case("charset") && !value.eq_ignore_ascii_case("utf-8") {
                return Err(ApiError::unsupported_media_type(Some(raw)));
            }
        }
    }
    Ok(())
}

/// Which representation to answer with. The protocol's JSON-LD is the default; a client that
/// asks only for `application/json` gets the same document labelled as plain JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    AnnoJsonLd,
    Json,
}

impl Representation {
    pub fn content_type(self) -> &'static str {
        match self {
            Representation::AnnoJsonLd => ANNO_MEDIA_TYPE,
            Representation::Json => JSON_MEDIA_TYPE,
        }
    }
}

pub fn negotiate(headers: &HeaderMap) -> Result<Representation, ApiError> {
    let mut any = false;
    let mut saw_header = false;
    let mut json = false;
    for value in headers.get_all(header::ACCEPT) {
        saw_header = true;
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("q")
                        && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
                })
            });
            if refused {
                continue;
            }
            match media.as_str() {
                "application/ld+json" | "*/*" | "application/*" => any = true,
                "application/json" => json = true,
                _ => {}
            }
        }
    }
    if !saw_header || any {
        Ok(Representation::AnnoJsonLd)
    } else if json {
        Ok(Representation::Json)
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::NOT_ACCEPTABLE,
            format!("this endpoint serves {ANNO_MEDIA_TYPE} (or {JSON_MEDIA_TYPE}); Accept allows neither"),
        ))
    }
}

/// What the client asked the container to include (`Prefer: return=representation; include=…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefer {
    /// Describe the container only; do not embed its first page.
    pub minimal: bool,
    /// List annotations by IRI instead of full descriptions.
    pub iris: bool,
}

impl Prefer {
    pub fn parse(headers: &HeaderMap) -> Prefer {
        let mut prefer = Prefer::default();
        for value in headers.get_all("prefer") {
            let Ok(value) = value.to_str() else { continue };
            for param in value.split(';') {
                let Some((name, iris)) = param.split_once('=') else {
                    continue;
                };
                if !name.trim().eq_ignore_ascii_case("include") {
                    continue;
                }
                for iri in iris.trim().trim_matches('"').split_whitespace() {
                    prefer.minimal |= iri == PREFER_MINIMAL;
                    prefer.iris |= iri == PREFER_IRIS;
                }
            }
        }
        prefer
    }

    pub fn given(headers: &HeaderMap) -> bool {
        headers.contains_key("prefer")
    }
}

/// A listing request: `?target=…&page=N&limit=L&iris=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub target: Option<String>,
    pub page: Option<u64>,
    pub limit: u32,
    /// `limit` was given explicitly, so page IRIs must carry it.
    pub explicit_limit: bool,
    pub iris: bool,
}

impl Listing {
    pub fn parse(
        query: Option<&str>,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<Listing, ApiError> {
        let mut listing = Listing {
            target: None,
            page: None,
            limit: default_limit,
            explicit_limit: false,
            iris: false,
        };
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "target" if listing.target.is_none() => {
                    if value.is_empty() {
                        return Err(ApiError::bad_request("target must not be empty"));
                    }
                    listing.target = Some(value.into_owned());
                }
                "page" => {
                    let page = value
                        .parse::<u64>()
                        .ok()
                        .filter(|p| *p <= u64::from(u32::MAX));
                    listing.page = Some(page.ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "page must be a whole number from 0, not {value:?}"
                        ))
                    })?);
                }
                "limit" => {
                    let limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|l| (1..=max_limit).contains(l));
                    listing.limit = limit.ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit must be a whole number from 1 to {max_limit}, not {value:?}"
                        ))
                    })?;
                    listing.explicit_limit = true;
                }
                "iris" => listing.iris = matches!(value.as_ref(), "1" | "true"),
                _ => {}
            }
        }
        Ok(listing)
    }

    /// The collection this listing belongs to: the container, or its subset on one target.
    pub fn collection_iri(&self, container: &str) -> String {
        match &self.target {
            Some(target) => format!("{container}?target={}", encode(target)),
            None => container.to_string(),
        }
    }

    pub fn page_iri(&self, container: &str, page: u64) -> String {
        let mut iri = format!("{container}?");
        if let Some(target) = &self.target {
            iri.push_str(&format!("target={}&", encode(target)));
        }
        if self.iris {
            iri.push_str("iris=1&");
        }
        if self.explicit_limit {
            iri.push_str(&format!("limit={}&", self.limit));
        }
        iri.push_str(&format!("page={page}"));
        iri
    }

    pub fn last_page(&self, total: u64) -> u64 {
        total.saturating_sub(1) / u64::from(self.limit)
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Where each listed annotation lives.
pub fn annotation_iri(container: &str, slug: &str) -> String {
    format!("{container}{slug}")
}

/// An AnnotationPage. `standalone` pages carry `@context` and `partOf`; a page embedded in
/// its collection (the container's `first`) carries neither.
pub fn page_json(
    container: &str,
    listing: &Listing,
    page: u64,
    rows: &RenderedPage,
    standalone: bool,
) -> String {
    let limit = u64::from(listing.limit);
    let last = listing.last_page(rows.total);
    let mut head = Map::new();
    if standalone {
        head.insert("@context".into(), json!(ANNO_CONTEXT));
    }
    head.insert("id".into(), json!(listing.page_iri(container, page)));
    head.insert("type".into(), json!("AnnotationPage"));
    if standalone {
        head.insert(
            "partOf".into(),
            json!({
                "id": listing.collection_iri(container),
                "type": "AnnotationCollection",
                "total": rows.total,
                "first": listing.page_iri(container, 0),
                "last": listing.page_iri(container, last),
            }),
        );
    }
    head.insert("startIndex".into(), json!(page.saturating_mul(limit)));
    if page < last {
        head.insert("next".into(), json!(listing.page_iri(container, page + 1)));
    }
    if page > 0 {
        head.insert(
            "prev".into(),
            json!(listing.page_iri(container, (page - 1).min(last))),
        );
    }
    let mut out = Value::Object(head).to_string();
    out.pop(); // the closing brace: items are appended as stored text, never re-parsed
    out.push_str(",\"items\":[");
    out.push_str(&rows.items);
    out.push_str("]}");
    out
}

/// The container: an LDP Basic Container that is also an AnnotationCollection. Its first page
/// is embedded unless the client prefers a minimal container.
pub fn container_json(
    container: &str,
    listing: &Listing,
    first: &RenderedPage,
    prefer: Prefer,
    label: &str,
) -> String {
    let last = listing.last_page(first.total);
    let mut head = Map::new();
    head.insert("@context".into(), json!([ANNO_CONTEXT, LDP_CONTEXT]));
    head.insert("id".into(), json!(container));
    head.insert(
        "type".into(),
        json!(["BasicContainer", "AnnotationCollection"]),
    );
    head.insert("label".into(), json!(label));
    head.insert("total".into(), json!(first.total));
    if prefer.minimal {
        head.insert("first".into(), json!(listing.page_iri(container, 0)));
    }
    head.insert("last".into(), json!(listing.page_iri(container, last)));
    let mut out = Value::Object(head).to_string();
    if !prefer.minimal {
        out.pop();
        out.push_str(",\"first\":");
        out.push_str(&page_json(container, listing, 0, first, false));
        out.push('}');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn request_types() {
        assert!(check_request_type(&headers(&[("content-type", ANNO_MEDIA_TYPE)])).is_ok());
        assert!(check_request_type(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )]))
        .is_ok());
        assert!(check_request_type(&headers(&[("content-type", "Application/LD+JSON")])).is_ok());
        for bad in [
            "text/plain",
            "application/json; charset=latin1",
            "multipart/form-data",
        ] {
            let err = check_request_type(&headers(&[("content-type", bad)])).unwrap_err();
            assert_eq!(err.status.as_u16(), 415, "{bad}");
        }
        assert_eq!(
            check_request_type(&HeaderMap::new())
                .unwrap_err()
                .status
                .as_u16(),
            415
        );
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(
            negotiate(&HeaderMap::new()).unwrap(),
            Representation::AnnoJsonLd
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "*/*")])).unwrap(),
            Representation::AnnoJsonLd
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "application/json")])).unwrap(),
            Representation::Json
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/json, application/ld+json;q=0.9"
            )]))
            .unwrap(),
            Representation::AnnoJsonLd
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/ld+json;q=0, application/json"
            )]))
            .unwrap(),
            Representation::Json
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "text/html")]))
                .unwrap_err()
                .status
                .as_u16(),
            406
        );
    }

    #[test]
    fn prefer_header() {
        let h = headers(&[(
            "prefer",
            "return=representation;include=\"http://www.w3.org/ns/ldp#PreferMinimalContainer http://www.w3.org/ns/oa#PreferContainedIRIs\"",
        )]);
        assert_eq!(
            Prefer::parse(&h),
            Prefer {
                minimal: true,
                iris: true
            }
        );
        assert_eq!(Prefer::parse(&HeaderMap::new()), Prefer::default());
    }

    #[test]
    fn listing_query_and_page_iris() {
        let l = Listing::parse(
            Some("target=https%3A%2F%2Fnews.example%2Fa%3Fx%3D1&page=2&limit=10"),
            100,
            500,
        )
        .unwrap();
        assert_eq!(l.target.as_deref(), Some("https://news.example/a?x=1"));
        assert_eq!(l.page, Some(2));
        assert_eq!(
            l.page_iri("http://h/annotations/", 3),
            "http://h/annotations/?target=https%3A%2F%2Fnews.example%2Fa%3Fx%3D1&limit=10&page=3"
        );
        assert_eq!(l.last_page(0), 0);
        assert_eq!(l.last_page(10), 0);
        assert_eq!(l.last_page(11), 1);
        for bad in ["page=-1", "page=x", "limit=0", "limit=501", "target="] {
            assert_eq!(
                Listing::parse(Some(bad), 100, 500)
                    .unwrap_err()
                    .status
                    .as_u16(),
                400,
                "{bad}"
            );
        }
        // Round trip: what page_iri writes, parse reads back.
        let iri = l.page_iri("http://h/annotations/", 1);
        let query = iri.split_once('?').unwrap().1;
        let again = Listing::parse(Some(query), 100, 500).unwrap();
        assert_eq!(again, Listing { page: Some(1), ..l });
    }

    #[test]
    fn encode_keeps_unreserved_only() {
        assert_eq!(encode("a b/é~"), "a%20b%2F%C3%A9~");
    }
}
