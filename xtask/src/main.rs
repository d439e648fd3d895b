//! `cargo xtask <build|demo|test|bench>`: the project's own commands.
//!
//! Each command first installs what a fresh machine lacks (the wasm target, wasm-bindgen-cli at the
//! lockfile's version, npm packages, Chromium and ChromeDriver, PostgreSQL, Python's jsonschema), so
//! `cargo xtask demo` and `cargo xtask test` work on a new machine with only Rust, Node and Python.

mod imports;
mod tools;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use tools::{run, run_counted, Tally};

const USAGE: &str = "\
usage: cargo xtask <command>

  build   build dist/factmark.js + dist/factmark_bg.wasm (release, wasm-opt)
  demo    build, then serve the demo page with the annotation endpoint on http://127.0.0.1:8080
  test    every test: core and server natively (SQLite and PostgreSQL), the widget in headless
          Chromium (wasm-bindgen-test and end-to-end)
  bench   core criterion benchmarks, server load run, browser benchmarks; writes bench-results.json
";

fn main() {
    if let Err(err) = real_main() {
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("build") => build(&root).map(|_| ()),
        Some("demo") => demo(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => bench(&root, &args[1..]),
        _ => {
            eprint!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target dir cargo uses for this workspace (honours CARGO_TARGET_DIR).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Where shared/ (fixtures, the W3C validator) lives: beside the repo unless told otherwise.
fn shared_dir(root: &Path) -> PathBuf {
    std::env::var_os("FACTMARK_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("shared"))
}

/// One wasm build of the widget in dist/: `{name}_bg.wasm` and its glue module `{name}_bg.js`.
struct Build {
    name: &'static str,
    /// Cargo flags choosing the widget's features.
    features: &'static [&'static str],
}

/// Reader pages (local storage) load the first; pages with an endpoint, or that mount by hand,
/// the second, which adds the sync engine. `src/loader.js` (dist/factmark.js) chooses.
const BUILDS: [Build; 2] = [
    Build {
        name: "factmark",
        features: &["--no-default-features"],
    },
    Build {
        name: "factmark-sync",
        features: &[],
    },
];

/// Builds dist/ and returns its path.
fn build(root: &Path) -> Result<PathBuf> {
    tools::ensure_wasm_target()?;
    let wasm_bindgen = tools::ensure_wasm_bindgen(root)?;
    tools::ensure_npm_packages(root)?;

    // FACTMARK_DIST lets parallel builds (benchmark experiments) keep their own output.
    let dist = std::env::var_os("FACTMARK_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("dist"));
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    for build in &BUILDS {
        build_wasm(root, &wasm_bindgen, &dist, build)?;
    }
    // The module pages embed: a few lines that pick and start one of the builds.
    let loader = dist.join("factmark.js");
    std::fs::copy(root.join("src/loader.js"), &loader)?;
    minify_js(root, &loader)?;

    for (label, files) in [
        ("reader pages load", page_files(&dist, "factmark")),
        ("endpoint pages load", page_files(&dist, "factmark-sync")),
    ] {
        let (raw, gz) = tools::gzip_sizes(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&dist).unwrap_or(f).display().to_string())
            .collect();
        println!(
            "xtask: dist/ built; {label} {raw} bytes, {gz} bytes gzip -9 ({})",
            names.join(" + ")
        );
    }
    Ok(dist)
}

/// What a page using build `name` downloads: the loader, the glue and the wasm.
fn page_files(dist: &Path, name: &str) -> Vec<PathBuf> {
    [
        "factmark.js".to_string(),
        format!("{name}_bg.js"),
        format!("{name}_bg.wasm"),
    ]
    .iter()
    .map(|f| dist.join(f))
    .collect()
}

fn build_wasm(root: &Path, wasm_bindgen: &Path, dist: &Path, build: &Build) -> Result<()> {
    run(Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "factmark",
        ])
        .args(build.features))?;
    let wasm = target_dir(root).join("wasm32-unknown-unknown/release/factmark.wasm");
    run(Command::new(wasm_bindgen)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            build.name,
            "--out-dir",
        ])
        .arg(dist)
        .arg(&wasm))?;

    // wasm-bindgen names the glue `{name}.js`; it becomes `{name}_bg.js` beside its wasm, since
    // `factmark.js` is the loader. The loader passes the wasm to the glue's init function.
    let generated = dist.join(format!("{}.js", build.name));
    let js_path = dist.join(format!("{}_bg.js", build.name));
    let js = inline_snippets(dist, &std::fs::read_to_string(&generated)?)?;
    std::fs::remove_file(&generated)?;
    std::fs::write(&js_path, js)?;

    let wasm_out = dist.join(format!("{}_bg.wasm", build.name));
    run(Command::new(root.join("node_modules/.bin/wasm-opt"))
        // -Os --converge: measured 0.9 KB smaller after gzip than -Oz (which is smaller raw);
        // a first -Os, then --flatten --rereloop (control flow rebuilt) before it: 0.3 KB less,
        // and a second such round another 0.3 KB.
        .args([
            "-Os",
            "--flatten",
            "--rereloop",
            "-Os",
            "--flatten",
            "--rereloop",
            "-Os",
            "--converge",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            "--strip-debug",
            "--strip-producers",
        ])
        .arg(&wasm_out)
        .arg("-o")
        .arg(&wasm_out))?;

    match imports::minify(
        &std::fs::read(&wasm_out)?,
        &std::fs::read_to_string(&js_path)?,
        &imports::glue_module(build.name),
    ) {
        Ok((wasm, js, _)) => {
            std::fs::write(&wasm_out, wasm)?;
            std::fs::write(&js_path, js)?;
        }
        Err(why) => println!("xtask: import names left as generated: {why:#}"),
    }
    minify_js(root, &js_path)?;
    Ok(())
}

/// V8's explicit compile hint: with this comment at the top of a script, every function in it
/// is compiled eagerly, on the thread that streams the script in while it downloads. Without
/// it, each of the glue's import functions the widget calls while starting (about 170) is
/// compiled on the main thread at its first call, before `factmark:ready`. Measured on the
/// demo page in Chromium: about 10 ms less main-thread CPU up to `factmark:ready`, 1 ms more
/// on the streaming thread. Other engines read it as a comment.
const EAGER_COMPILE_HINT: &str = "//# allFunctionsCalledOnLoad";

/// Minifies a module of dist/ with esbuild (names, whitespace and comments: the glue goes from
/// 7.1 to 5.8 KB after gzip, and V8 has less to parse), then puts the compile hint first, where
/// V8 looks for it.
fn minify_js(root: &Path, js_path: &Path) -> Result<()> {
    run(Command::new(root.join("node_modules/.bin/esbuild"))
        .arg(js_path)
        .args([
            "--minify",
            "--format=esm",
            "--target=es2022",
            "--legal-comments=none",
            "--log-level=warning",
            "--allow-overwrite",
        ])
        .arg(format!("--outfile={}", js_path.display())))?;
    let js = std::fs::read_to_string(js_path)?;
    std::fs::write(js_path, with_compile_hint(&js))?;
    Ok(())
}

fn with_compile_hint(js: &str) -> String {
    format!("{EAGER_COMPILE_HINT}\n{js}")
}

/// Puts wasm-bindgen's `inline_js` snippets into the glue module itself: as separate modules they
/// cost the page a second request before the wasm request can start. Each snippet becomes a
/// frozen object of its exported functions, defined before the glue that uses it.
fn inline_snippets(dist: &Path, js: &str) -> Result<String> {
    let snippets = dist.join("snippets");
    if !snippets.exists() {
        return Ok(js.to_string());
    }
    let mut prelude = String::new();
    let mut glue = String::with_capacity(js.len());
    let mut names: Vec<(String, String)> = Vec::new(); // (relative path, object name)
    for line in js.lines() {
        let Some(path) = snippet_import_path(line) else {
            glue.push_str(line);
            glue.push('\n');
            continue;
        };
        let object = match names.iter().find(|(p, _)| *p == path) {
            Some((_, object)) => object.clone(),
            None => {
                let object = format!("__factmark_snippet{}", names.len());
                let source = std::fs::read_to_string(dist.join(&path))
                    .with_context(|| format!("reading snippet {path}"))?;
                prelude
                    .push_str(&snippet_as_object(&object, &source).with_context(|| path.clone())?);
                names.push((path.clone(), object.clone()));
                object
            }
        };
        // `import { a, b } from '…'` or `import * as x from "…"`
        let clause = line.trim_start().trim_start_matches("import").trim();
        let clause = clause[..clause
            .rfind(" from ")
            .context("snippet import without from")?]
            .trim();
        if let Some(binding) = clause.strip_prefix("* as ") {
            glue.push_str(&format!("const {} = {object};\n", binding.trim()));
        } else if clause.starts_with('{') {
            glue.push_str(&format!("const {clause} = {object};\n"));
        } else {
            bail!("unexpected snippet import in the glue: {line}");
        }
    }
    std::fs::remove_dir_all(&snippets)?;
    Ok(prelude + &glue)
}

fn snippet_import_path(line: &str) -> Option<String> {
    let line = line.trim();
    if !line.starts_with("import ") {
        return None;
    }
    let quoted = line.rsplit(" from ").next()?.trim().trim_end_matches(';');
    let path = quoted.trim_matches(|c| c == '\'' || c == '"');
    path.starts_with("./snippets/").then(|| path.to_string())
}

/// A snippet module whose only exports are `export function` declarations, as a block that
/// returns them: anything else would need a real bundler, so it is refused.
fn snippet_as_object(object: &str, source: &str) -> Result<String> {
    let mut exported = Vec::new();
    let mut body = String::with_capacity(source.len());
    for line in source.lines() {
        if let Some(rest) = line.strip_prefix("export function ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                .collect();
            exported.push(name);
            body.push_str(&line["export ".len()..]);
        } else if line.trim_start().starts_with("export ")
            || line.trim_start().starts_with("import ")
        {
            bail!("only `export function` snippets can be inlined: {line}");
        } else {
            body.push_str(line);
        }
        body.push('\n');
    }
    Ok(format!(
        "const {object} = (() => {{\n{body}return Object.freeze({{ {} }});\n}})();\n",
        exported.join(", ")
    ))
}

/// The demo site: index.html and dist/, served by factmark-server with the endpoint on.
fn demo(root: &Path, extra: &[String]) -> Result<()> {
    let dist = build(root)?;
    let site = target_dir(root).join("demo-site");
    if site.exists() {
        std::fs::remove_dir_all(&site)?;
    }
    std::fs::create_dir_all(site.join("dist"))?;
    std::fs::copy(root.join("index.html"), site.join("index.html"))?;
    // The demo page's own look (the widget's CSS is compiled into the wasm).
    std::fs::create_dir_all(site.join("style"))?;
    std::fs::copy(root.join("style/demo.css"), site.join("style/demo.css"))?;
    for file in tools::files_under(&dist)? {
        let to = site.join("dist").join(file.strip_prefix(&dist)?);
        std::fs::create_dir_all(to.parent().unwrap())?;
        std::fs::copy(&file, to)?;
    }
    println!("xtask: serving the demo on http://127.0.0.1:8080 (Ctrl-C stops it)");
    run(Command::new("cargo")
        .args([
            "run",
            "--release",
            "-p",
            "factmark-server",
            "--",
            "--static",
        ])
        .arg(&site)
        .args(["--database", "sqlite://factmark-demo.sqlite"])
        .args(extra))
}

fn test(root: &Path) -> Result<()> {
    let shared = shared_dir(root);
    if !shared.join("w3c-annotation-model/validate.py").exists() {
        bail!(
            "shared/ not found at {} (set FACTMARK_SHARED_DIR)",
            shared.display()
        );
    }
    let shared = shared.canonicalize()?;
    tools::ensure_wasm_target()?;
    tools::ensure_python_jsonschema()?;
    tools::ensure_chromium()?;
    let postgres = tools::Postgres::start()?;
    let mut tally = Tally::default();

    let mut native = Command::new("cargo");
    native
        .args(["test", "--workspace", "--exclude", "factmark"])
        .env("FACTMARK_SHARED_DIR", &shared);
    match &postgres {
        Ok(pg) => {
            native.env("FACTMARK_TEST_POSTGRES_URL", &pg.url);
        }
        Err(why) => println!("xtask: PostgreSQL tests will be skipped: {why}"),
    }
    run_counted(&mut native, &mut tally).context("native tests (core, server, xtask)")?;
    drop(postgres);
    // `cargo test` does not build benchmarks; `cargo xtask bench` must not be the first to
    // find out that one no longer compiles.
    run(Command::new("cargo").args(["check", "--workspace", "--exclude", "factmark", "--benches"]))
        .context("the benchmarks must compile")?;

    run(Command::new("cargo").args([
        "build",
        "-p",
        "factmark-core",
        "--target",
        "wasm32-unknown-unknown",
    ]))
    .context("factmark-core must build for wasm32-unknown-unknown")?;

    tools::ensure_wasm_bindgen(root)?;
    run_counted(
        Command::new("cargo")
            .args([
                "test",
                "-p",
                "factmark",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        &mut tally,
    )
    .context("widget tests in headless Chromium (wasm-bindgen-test)")?;

    build(root)?;
    // The endpoint end-to-end tests start the real server.
    run(Command::new("cargo").args(["build", "-p", "factmark-server"]))?;
    let server_bin = target_dir(root).join("debug/factmark-server");
    if root.join("tests/e2e").is_dir() {
        run_counted(
            Command::new("node")
                .args(["--test", "--test-concurrency=1", "tests/e2e/"])
                .env("FACTMARK_SHARED_DIR", &shared)
                .env("FACTMARK_SERVER_BIN", &server_bin),
            &mut tally,
        )
        .context("end-to-end tests in headless Chromium")?;
    }

    println!("\nxtask test: every suite passed");
    println!("total: {} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

fn bench(root: &Path, _extra: &[String]) -> Result<()> {
    let target = target_dir(root);
    run(Command::new("cargo").args([
        "bench",
        "-p",
        "factmark-core",
        "--bench",
        "anchoring",
        "--bench",
        "stored",
    ]))
    .context("core benchmarks")?;
    record_bench(root, "core", criterion_medians(&target.join("criterion"))?)?;

    tools::ensure_wrk()?;
    let load = target.join("server-load.json");
    run(Command::new("cargo")
        .args([
            "bench",
            "-p",
            "factmark-server",
            "--bench",
            "load",
            "--",
            "--seconds",
            "10",
            "--json",
        ])
        .arg(&load))
    .context("server load benchmark")?;
    record_bench(
        root,
        "server",
        serde_json::from_str(&std::fs::read_to_string(&load)?)?,
    )?;

    if root.join("bench").is_dir() {
        tools::ensure_chromium()?;
        tools::ensure_python_jsonschema()?;
        build(root)?;
        run(Command::new("node").arg("bench/run.mjs")).context("browser benchmarks")?;
    }
    println!("xtask: figures written to bench-results.json");
    Ok(())
}

/// Criterion's median estimate of every benchmark, in milliseconds, by "group/function".
fn criterion_medians(dir: &Path) -> Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for group in std::fs::read_dir(dir).context("no criterion results")? {
        let group = group?.path();
        for bench in std::fs::read_dir(&group)? {
            let bench = bench?.path();
            let estimates = bench.join("new/estimates.json");
            let Ok(text) = std::fs::read_to_string(&estimates) else {
                continue;
            };
            let value: serde_json::Value = serde_json::from_str(&text)?;
            if let Some(ns) = value["median"]["point_estimate"].as_f64() {
                let name = format!(
                    "{}/{}",
                    group.file_name().unwrap().to_string_lossy(),
                    bench.file_name().unwrap().to_string_lossy()
                );
                out.insert(
                    name,
                    serde_json::json!({ "median_ms": (ns / 1e4).round() / 100.0 }),
                );
            }
        }
    }
    Ok(serde_json::Value::Object(out))
}

/// Sets one section of bench-results.json, keeping the others (the browser run writes its own).
fn record_bench(root: &Path, section: &str, figures: serde_json::Value) -> Result<()> {
    let path = root.join("bench-results.json");
    let mut all: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    all[section] = figures;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&all)? + "\n")?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_imports_are_recognized_and_other_imports_left_alone() {
        assert_eq!(
            snippet_import_path("import { a, b } from './snippets/x-1/inline0.js';").as_deref(),
            Some("./snippets/x-1/inline0.js")
        );
        assert_eq!(
            snippet_import_path(r#"import * as import1 from "./snippets/x-1/inline0.js""#)
                .as_deref(),
            Some("./snippets/x-1/inline0.js")
        );
        assert_eq!(snippet_import_path("import { x } from './other.js';"), None);
        assert_eq!(snippet_import_path("const imports = {};"), None);
    }

    #[test]
    fn snippets_are_inlined_as_objects_and_the_files_removed() {
        let dist = std::env::temp_dir().join(format!("xtask-inline-{}", std::process::id()));
        let dir = dist.join("snippets/factmark-1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("inline0.js"),
            "const helper = (x) => x + 1;\nexport function one(x) { return helper(x); }\nexport function two() { return 2; }\n",
        )
        .unwrap();
        let glue = "import { one } from './snippets/factmark-1/inline0.js';\nimport * as import1 from \"./snippets/factmark-1/inline0.js\"\nconst imports = { \"./snippets/factmark-1/inline0.js\": import1 };\nexport { one };\n";
        let out = inline_snippets(&dist, glue).unwrap();
        assert!(!dist.join("snippets").exists());
        assert!(!out.contains("import "), "{out}");
        assert!(
            out.starts_with("const __factmark_snippet0 = (() => {\n"),
            "{out}"
        );
        assert!(out.contains("return Object.freeze({ one, two });"), "{out}");
        assert!(
            out.contains("const { one } = __factmark_snippet0;\n"),
            "{out}"
        );
        assert!(
            out.contains("const import1 = __factmark_snippet0;\n"),
            "{out}"
        );
        assert_eq!(
            out.matches("function one").count(),
            1,
            "one copy of the snippet"
        );
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn the_compile_hint_comes_first() {
        let hinted = with_compile_hint("a();");
        assert_eq!(hinted, "//# allFunctionsCalledOnLoad\na();");
    }

    #[test]
    fn each_page_loads_the_loader_and_one_build() {
        let dist = Path::new("dist");
        let names = |build| {
            page_files(dist, build)
                .iter()
                .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("factmark"),
            ["factmark.js", "factmark_bg.js", "factmark_bg.wasm"]
        );
        assert_eq!(
            names("factmark-sync"),
            [
                "factmark.js",
                "factmark-sync_bg.js",
                "factmark-sync_bg.wasm"
            ]
        );
        assert!(BUILDS
            .iter()
            .any(|b| b.name == "factmark" && b.features == ["--no-default-features"]));
    }

    #[test]
    fn snippets_with_other_exports_are_refused() {
        assert!(snippet_as_object("s", "export const x = 1;\n").is_err());
        assert!(snippet_as_object("s", "import x from 'y';\n").is_err());
    }
}
