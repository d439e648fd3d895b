//! What a page tells the widget: from the script tag's `data-` attributes or `factmark.mount({...})`.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// CSS selector of the annotatable region.
    pub root: Option<String>,
    /// The page's identity; annotations are stored and matched under it.
    pub source: Option<String>,
    /// Annotation endpoint (W3C Web Annotation Protocol container).
    pub endpoint: Option<String>,
    pub locale: Option<String>,
    /// The page calls `factmark.mount()` itself.
    pub manual: bool,
}

impl Config {
    /// Reads `root`, `source`, `endpoint`, `locale` and `manual`; other keys are the page's own
    /// business (a script tag may carry unrelated `data-` attributes) and are ignored.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Config {
        let mut config = Config::default();
        for (key, value) in pairs {
            let value = value.as_ref().trim();
            let text = (!value.is_empty()).then(|| value.to_string());
            match key.as_ref() {
                "root" => config.root = text,
                "source" => config.source = text,
                "endpoint" => config.endpoint = text,
                "locale" => config.locale = text,
                // `data-manual` and `data-manual=""` both mean yes, as boolean HTML attributes do.
                "manual" => config.manual = !matches!(value, "false" | "0" | "no"),
                _ => {}
            }
        }
        config
    }
}

/// The page identity: explicit `source`, else `<link rel="canonical">`, else the address without
/// its fragment (a fragment names a place in the page, not another page).
pub fn page_source(explicit: Option<&str>, canonical: Option<&str>, location: &str) -> String {
    explicit
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| canonical.map(str::trim).filter(|s| !s.is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| without_fragment(location).to_string())
}

pub fn without_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(base, _)| base)
}

/// Storage key of a page's annotations.
pub fn storage_key(source: &str) -> String {
    format!("factmark:v1:{source}")
}

/// Where unreadable stored data for a page is moved aside.
pub fn quarantine_key(source: &str) -> String {
    format!("factmark:v1:quarantine:{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_keys_and_ignores_others() {
        let config = Config::from_pairs([
            ("root", "article"),
            ("source", " https://news.example/a "),
            ("locale", "fr"),
            ("analytics", "x"),
            ("endpoint", ""),
        ]);
        assert_eq!(config.root.as_deref(), Some("article"));
        assert_eq!(config.source.as_deref(), Some("https://news.example/a"));
        assert_eq!(config.locale.as_deref(), Some("fr"));
        assert_eq!(config.endpoint, None, "an empty attribute means not set");
        assert!(!config.manual);
    }

    #[test]
    fn manual_is_a_boolean_attribute() {
        assert!(Config::from_pairs([("manual", "")]).manual);
        assert!(Config::from_pairs([("manual", "true")]).manual);
        assert!(!Config::from_pairs([("manual", "false")]).manual);
    }

    #[test]
    fn source_prefers_explicit_then_canonical_then_location() {
        let loc = "https://news.example/a?x=1#section-2";
        assert_eq!(page_source(Some("urn:x"), Some("https://c/"), loc), "urn:x");
        assert_eq!(
            page_source(Some("  "), Some("https://c/"), loc),
            "https://c/"
        );
        assert_eq!(page_source(None, None, loc), "https://news.example/a?x=1");
        assert_eq!(page_source(None, Some(""), "https://n/b"), "https://n/b");
    }

    #[test]
    fn keys_are_versioned_per_source() {
        assert_eq!(storage_key("https://n/a"), "factmark:v1:https://n/a");
        assert_eq!(
            quarantine_key("https://n/a"),
            "factmark:v1:quarantine:https://n/a"
        );
    }
}
