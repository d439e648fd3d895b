//! The widget's CSS without comments and needless whitespace, at compile time: the readable
//! source in `style/` stays as it is, and the wasm carries ~2 KB less (~0.5 KB after gzip).
//!
//! `const` evaluation only, no build script: [`minified_len`] sizes the output, [`minify`] fills
//! it, and [`minified_css!`] ties them to an `include_str!`. What it removes: comments,
//! whitespace after `{ } ; : , > (` and before `{ } ; , > )`, and the `;` before a `}`; runs of
//! whitespace elsewhere become one space. Quoted strings are copied as they are.

/// `include_str!`'d CSS, minified at compile time: `minified_css!(include_str!("x.css"))`.
#[macro_export]
macro_rules! minified_css {
    ($source:expr) => {{
        const SOURCE: &str = $source;
        const LEN: usize = $crate::ui::css::minified_len(SOURCE);
        const BYTES: [u8; LEN] = $crate::ui::css::minify::<LEN>(SOURCE);
        const CSS: &str = match ::core::str::from_utf8(&BYTES) {
            Ok(css) => css,
            Err(_) => panic!("minified CSS is not UTF-8"),
        };
        CSS
    }};
}

/// Length of `source` minified.
pub const fn minified_len(source: &str) -> usize {
    run(source.as_bytes(), &mut [])
}

/// `source` minified; `N` must be [`minified_len`] of it.
pub const fn minify<const N: usize>(source: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let len = run(source.as_bytes(), &mut out);
    assert!(len == N, "minify: N is not minified_len(source)");
    out
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Whitespace after these is never needed.
const fn ends_tight(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b';' | b':' | b',' | b'>' | b'(')
}

/// Whitespace before these is never needed (not before `:`, where it makes a descendant
/// selector, nor `(`, as in `and (`).
const fn starts_tight(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b';' | b',' | b'>' | b')')
}

/// Minifies `src`, writing into `out` when it is long enough (empty: only count), and returns
/// the minified length.
const fn run(src: &[u8], out: &mut [u8]) -> usize {
    let write = !out.is_empty();
    let mut len = 0;
    // Last byte written (0 at the start), and whether whitespace is waiting to be written.
    let mut last = 0u8;
    let mut space = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b'/' && i + 1 < src.len() && src[i + 1] == b'*' {
            i += 2;
            while i + 1 < src.len() && !(src[i] == b'*' && src[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if is_space(b) {
            space = true;
            i += 1;
            continue;
        }
        if space && last != 0 && !ends_tight(last) && !starts_tight(b) {
            if write {
                out[len] = b' ';
            }
            len += 1;
        }
        space = false;
        if b == b'}' && last == b';' {
            len -= 1;
        }
        if b == b'"' || b == b'\'' {
            // A string: copied up to its closing quote, escapes included.
            let quote = b;
            let mut j = i + 1;
            while j < src.len() && src[j] != quote {
                j += if src[j] == b'\\' { 2 } else { 1 };
            }
            let end = if j < src.len() { j + 1 } else { src.len() };
            while i < end {
                if write {
                    out[len] = src[i];
                }
                len += 1;
                i += 1;
            }
            last = quote;
            continue;
        }
        if write {
            out[len] = b;
        }
        len += 1;
        last = b;
        i += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minified(source: &str) -> String {
        let mut out = vec![0u8; minified_len(source)];
        let len = run(source.as_bytes(), &mut out);
        assert_eq!(len, out.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn comments_and_needless_whitespace_go() {
        assert_eq!(
            minified("/* head */\n:host {\n  all: initial !important;\n  inset: 0 auto auto 0;\n}\n\n*, *::before { box-sizing: border-box; }\n"),
            ":host{all:initial !important;inset:0 auto auto 0}*,*::before{box-sizing:border-box}"
        );
    }

    #[test]
    fn selectors_strings_and_functions_keep_their_meaning() {
        // A descendant combinator, a child combinator, spaces inside values and strings.
        assert_eq!(
            minified(
                ".a .b > .c  :focus { font: 14px/1.45 \"Segoe  UI\", x; content: '  /* no */ '; }"
            ),
            ".a .b>.c :focus{font:14px/1.45 \"Segoe  UI\",x;content:'  /* no */ '}"
        );
        assert_eq!(
            minified("@media screen and (prefers-color-scheme: dark) { .x { box-shadow: 0 8px 28px rgb(15 20 35 / 0.18); width: calc(100% - 8px) } }"),
            "@media screen and (prefers-color-scheme:dark){.x{box-shadow:0 8px 28px rgb(15 20 35 / 0.18);width:calc(100% - 8px)}}"
        );
    }

    #[test]
    fn the_macro_gives_the_same_text_at_compile_time() {
        const CSS: &str = crate::minified_css!("a {  color: red ; }\n");
        assert_eq!(CSS, "a{color:red}");
    }

    /// The widget's own stylesheets lose nothing but whitespace, comments and `;` before `}`.
    #[test]
    fn the_widget_css_keeps_every_token() {
        for source in [
            include_str!("../../style/factmark.css"),
            include_str!("../../style/highlights.css"),
        ] {
            let out = minified(source);
            assert!(out.len() < source.len());
            let mut without_comments = String::new();
            let mut rest = source;
            while let Some(at) = rest.find("/*") {
                without_comments.push_str(&rest[..at]);
                rest = &rest[at + rest[at..].find("*/").unwrap() + 2..];
            }
            without_comments.push_str(rest);
            let squeeze = |s: &str| s.split_whitespace().collect::<String>().replace(";}", "}");
            assert_eq!(squeeze(&out), squeeze(&without_comments));
        }
    }
}
