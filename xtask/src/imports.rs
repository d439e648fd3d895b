//! Short names for the wasm module's imports from wasm-bindgen's glue.
//!
//! wasm-bindgen names every import after its Rust path plus a 16-hex-digit hash
//! (`__wbg_getItem_a5fc1ed2d2a5c2e5`), and each name is written twice: in the wasm import
//! section and as a key of the glue's import object. Hashes do not compress, so the ~250
//! names cost about 7 KB of the gzip transfer. They are renamed to `a`, `b`, … `aa`, … in both
//! places. The glue is only touched where a name occurs exactly once as an object key; anything
//! else leaves both files as generated.

use anyhow::{bail, Context, Result};

/// The glue's own module name: imports from other modules (inline JS snippets, whose keys are
/// their function names) keep their names.
pub fn glue_module(out_name: &str) -> String {
    format!("./{out_name}_bg.js")
}

/// Renames the imports of `module` in `wasm` and the matching keys in `js`. Returns the new
/// wasm and glue and how many imports were renamed.
pub fn minify(wasm: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String, usize)> {
    let (wasm, renames) = rename_imports(wasm, module)?;
    let js = rename_keys(js, &renames)?;
    Ok((wasm, js, renames.len()))
}

/// The `n`-th short name: a..z, A..Z, then two letters and so on (valid JS identifiers).
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = String::new();
    loop {
        name.push(LETTERS[n % LETTERS.len()] as char);
        n /= LETTERS.len();
        if n == 0 {
            return name;
        }
        n -= 1;
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).context("wasm ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                bail!("LEB128 number too long");
            }
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).context("length overflow")?;
        let slice = self.bytes.get(self.at..end).context("wasm ends early")?;
        self.at = end;
        Ok(slice)
    }

    fn name(&mut self) -> Result<&'a str> {
        let n = self.leb()? as usize;
        std::str::from_utf8(self.take(n)?).context("import name is not UTF-8")
    }

    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn put_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let b = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    put_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Import renames, (old name, new name), in import order.
type Renames = Vec<(String, String)>;

/// The wasm with the imports of `module` renamed, and the renames.
fn rename_imports(wasm: &[u8], module: &str) -> Result<(Vec<u8>, Renames)> {
    if wasm.get(..4) != Some(b"\0asm".as_slice()) || wasm.len() < 8 {
        bail!("not a wasm module");
    }
    let mut out = wasm[..8].to_vec();
    let mut renames = Vec::new();
    let mut r = Reader { bytes: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let size = r.leb()? as usize;
        let body = r.take(size)?;
        if id != 2 {
            out.push(id);
            put_leb(&mut out, size as u64);
            out.extend_from_slice(body);
            continue;
        }
        let mut s = Reader { bytes: body, at: 0 };
        let count = s.leb()?;
        let mut section = Vec::with_capacity(body.len());
        put_leb(&mut section, count);
        for _ in 0..count {
            let from = s.name()?;
            let field = s.name()?;
            let desc_start = s.at;
            match s.byte()? {
                0x00 => {
                    s.leb()?; // function type
                }
                0x01 => {
                    s.byte()?; // reference type
                    s.limits()?;
                }
                0x02 => s.limits()?,
                0x03 => {
                    s.byte()?; // value type
                    s.byte()?; // mutability
                }
                0x04 => {
                    s.byte()?; // tag attribute
                    s.leb()?;
                }
                other => bail!("unknown import kind {other:#x}"),
            }
            let desc = &body[desc_start..s.at];
            put_name(&mut section, from);
            if from == module {
                let new = short_name(renames.len());
                put_name(&mut section, &new);
                renames.push((field.to_string(), new));
            } else {
                put_name(&mut section, field);
            }
            section.extend_from_slice(desc);
        }
        if s.at != body.len() {
            bail!("import section has trailing bytes");
        }
        out.push(2);
        put_leb(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
    }
    Ok((out, renames))
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// `js` with each old name, which must occur exactly once as a whole word directly followed by
/// `:` (an object key), replaced by its new name.
fn rename_keys(js: &str, renames: &[(String, String)]) -> Result<String> {
    let bytes = js.as_bytes();
    let mut edits: Vec<(usize, usize, &str)> = Vec::with_capacity(renames.len());
    for (old, new) in renames {
        let mut found = None;
        for (at, _) in js.match_indices(old.as_str()) {
            let end = at + old.len();
            let whole = (at == 0 || !is_ident_byte(bytes[at - 1]))
                && bytes.get(end).is_none_or(|&b| !is_ident_byte(b));
            if !whole {
                continue;
            }
            if found.is_some() {
                bail!("`{old}` occurs more than once in the glue");
            }
            if bytes.get(end) != Some(&b':') {
                bail!("`{old}` occurs in the glue other than as an object key");
            }
            found = Some((at, end));
        }
        let (at, end) = found.with_context(|| format!("`{old}` is not in the glue"))?;
        edits.push((at, end, new));
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(js.len());
    let mut last = 0;
    for (at, end, new) in edits {
        out.push_str(&js[last..at]);
        out.push_str(new);
        last = end;
    }
    out.push_str(&js[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing two functions from the glue, one from a snippet, and a memory.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        put_leb(&mut imports, 4);
        for (from, field, desc) in [
            ("./x_bg.js", "__wbg_log_0123456789abcdef", vec![0x00, 0x00]),
            ("./snippets/s/inline0.js", "paint", vec![0x00, 0x01]),
            ("env", "memory", vec![0x02, 0x01, 0x01, 0x10]),
            ("./x_bg.js", "__wbg_now_fedcba9876543210", vec![0x00, 0x01]),
        ] {
            put_name(&mut imports, from);
            put_name(&mut imports, field);
            imports.extend(desc);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // A type section (two function types), then the imports, then a custom section.
        wasm.extend([0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7F, 0x00]);
        wasm.push(2);
        put_leb(&mut wasm, imports.len() as u64);
        wasm.extend(imports);
        wasm.extend([0x00, 0x03, 0x01, b'n', 0x07]);
        wasm
    }

    fn imports_of(wasm: &[u8]) -> Vec<(String, String)> {
        let (_, renames) = rename_imports(wasm, "nothing").unwrap();
        assert!(renames.is_empty());
        let mut r = Reader { bytes: wasm, at: 8 };
        loop {
            let id = r.byte().unwrap();
            let size = r.leb().unwrap() as usize;
            let body = r.take(size).unwrap();
            if id == 2 {
                let mut s = Reader { bytes: body, at: 0 };
                let n = s.leb().unwrap();
                return (0..n)
                    .map(|_| {
                        let from = s.name().unwrap().to_string();
                        let field = s.name().unwrap().to_string();
                        match s.byte().unwrap() {
                            0x00 => {
                                s.leb().unwrap();
                            }
                            0x02 => s.limits().unwrap(),
                            _ => unreachable!(),
                        }
                        (from, field)
                    })
                    .collect();
            }
        }
    }

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic())));
    }

    #[test]
    fn glue_imports_are_renamed_in_the_wasm_and_the_glue() {
        let js = "const import0 = {\n__proto__: null,\n__wbg_log_0123456789abcdef: function(a) { console.log(a); },\n__wbg_now_fedcba9876543210: function() { return Date.now(); },\n};\nconst import1 = { paint };\n";
        let (wasm, js, renamed) = minify(&module(), js, &glue_module("x")).unwrap();
        assert_eq!(renamed, 2);
        assert_eq!(
            imports_of(&wasm),
            [
                ("./x_bg.js".to_string(), "a".to_string()),
                ("./snippets/s/inline0.js".into(), "paint".into()),
                ("env".into(), "memory".into()),
                ("./x_bg.js".into(), "b".into()),
            ]
        );
        assert_eq!(
            js,
            "const import0 = {\n__proto__: null,\na: function(a) { console.log(a); },\nb: function() { return Date.now(); },\n};\nconst import1 = { paint };\n"
        );
        // Everything but the import section is unchanged.
        let original = module();
        assert_eq!(wasm[..18], original[..18]);
        assert_eq!(wasm[wasm.len() - 5..], original[original.len() - 5..]);
    }

    #[test]
    fn a_name_used_other_than_as_one_key_is_refused() {
        let twice = "x = { __wbg_log_0123456789abcdef: f, __wbg_now_fedcba9876543210: g };\ny = { __wbg_log_0123456789abcdef: f };";
        assert!(minify(&module(), twice, "./x_bg.js").is_err());
        let called = "x = { __wbg_log_0123456789abcdef: f };\n__wbg_now_fedcba9876543210();";
        assert!(minify(&module(), called, "./x_bg.js").is_err());
        let missing = "x = { __wbg_log_0123456789abcdef: f };";
        assert!(minify(&module(), missing, "./x_bg.js").is_err());
        // A longer name that merely contains an import's name is not an occurrence of it.
        let longer = "x = { __wbg_log_0123456789abcdef: f, __wbg_now_fedcba9876543210: g, __wbg_now_fedcba9876543210_2: h };";
        assert!(minify(&module(), longer, "./x_bg.js").is_ok());
    }

    #[test]
    fn a_truncated_module_is_an_error() {
        let wasm = module();
        assert!(rename_imports(&wasm[..wasm.len() - 30], "./x_bg.js").is_err());
        assert!(rename_imports(b"not wasm", "./x_bg.js").is_err());
    }
}
