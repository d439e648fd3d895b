//! Running commands, and installing what a fresh machine lacks.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Test counts summed over every runner, for the closing line.
#[derive(Default)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    /// Reads a runner's summary lines: cargo's "test result: ok. 3 passed; 0 failed; ..." and
    /// node's TAP "# pass 3" / "# fail 0".
    fn read(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split([';', '.']) {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(kind)) = (words.next(), words.next()) {
                    if let Ok(n) = n.parse::<u64>() {
                        match kind {
                            "passed" => self.passed += n,
                            "failed" => self.failed += n,
                            _ => {}
                        }
                    }
                }
            }
        } else if let Some(n) = line
            .strip_prefix("# pass ")
            .or_else(|| line.strip_prefix("ℹ pass "))
        {
            self.passed += n.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(n) = line
            .strip_prefix("# fail ")
            .or_else(|| line.strip_prefix("ℹ fail "))
        {
            self.failed += n.trim().parse::<u64>().unwrap_or(0);
        }
    }
}

/// Runs a test command, echoing its output as it comes and counting its results.
pub fn run_counted(cmd: &mut Command, tally: &mut Tally) -> Result<()> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let stdout = child.stdout.take().unwrap();
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        tally.read(&line);
        writeln!(out, "{line}")?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn apt_install(packages: &[&str]) -> Result<()> {
    if !is_root() {
        bail!(
            "missing system packages; install them with: sudo apt-get install -y {}",
            packages.join(" ")
        );
    }
    println!(
        "xtask: installing {} from Debian's packages",
        packages.join(", ")
    );
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

pub fn ensure_wasm_target() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        println!("xtask: adding the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    bail!("wasm-bindgen not found in Cargo.lock")
}

/// Returns the path of a wasm-bindgen CLI at the lockfile's version, installing it if needed.
pub fn ensure_wasm_bindgen(root: &Path) -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version(root)?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let bin = cargo_home.join("bin/wasm-bindgen");
    let have = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(version.as_str()) {
        println!("xtask: installing wasm-bindgen-cli {version} (takes a few minutes)");
        // No --locked: one of the CLI's locked dependencies is not served by the registry here.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    }
    // wasm-bindgen-test's runner is looked up on PATH by cargo.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if !dirs.contains(&cargo_home.join("bin")) {
        dirs.insert(0, cargo_home.join("bin"));
        std::env::set_var("PATH", std::env::join_paths(dirs)?);
    }
    Ok(bin)
}

pub fn ensure_npm_packages(root: &Path) -> Result<()> {
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = match (
        std::fs::metadata(&stamp),
        std::fs::metadata(root.join("package-lock.json")),
    ) {
        (Ok(installed), Ok(lock)) => installed.modified()? >= lock.modified()?,
        _ => false,
    };
    if !fresh {
        println!("xtask: installing npm packages (test and build tools only)");
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(root))?;
    }
    Ok(())
}

pub fn ensure_chromium() -> Result<()> {
    if !Path::new("/usr/bin/chromium").exists() || !Path::new("/usr/bin/chromedriver").exists() {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    Ok(())
}

pub fn ensure_wrk() -> Result<()> {
    if !succeeds(Command::new("wrk").arg("--version")) && !Path::new("/usr/bin/wrk").exists() {
        apt_install(&["wrk"])?;
    }
    Ok(())
}

pub fn ensure_python_jsonschema() -> Result<()> {
    if !succeeds(Command::new("python3").args(["-c", "import jsonschema, referencing"])) {
        println!("xtask: installing Python's jsonschema (for the W3C validator)");
        run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "jsonschema>=4.18"]))?;
    }
    Ok(())
}

/// A throwaway PostgreSQL server on loopback for the server's test suite, stopped on drop.
pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    as_postgres_user: bool,
}

impl Postgres {
    /// Installs PostgreSQL from Debian's packages when missing and starts a fresh cluster under
    /// `target/`. The outer error is fatal; the inner one is a reason to skip the PostgreSQL tests.
    pub fn start() -> Result<std::result::Result<Postgres, String>> {
        let mut bin = find_postgres_bin();
        if bin.is_none() {
            if let Err(err) = apt_install(&["postgresql"]) {
                return Ok(Err(format!(
                    "PostgreSQL is not installed and cannot be: {err:#}"
                )));
            }
            bin = find_postgres_bin();
        }
        let Some(bin) = bin else {
            return Ok(Err("no PostgreSQL server binaries found".into()));
        };
        let as_postgres_user = is_root();
        // In the system temp dir, not the checkout: the postgres user may not be able to reach it.
        let data = std::env::temp_dir().join(format!("factmark-pg-{}", std::process::id()));
        if data.exists() {
            std::fs::remove_dir_all(&data)?;
        }
        std::fs::create_dir_all(&data)?;
        if as_postgres_user {
            // initdb refuses to run as root.
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&data))?;
        }
        let port = free_port()?;
        let pg = Postgres {
            url: format!("postgres://factmark@127.0.0.1:{port}/factmark"),
            bin,
            data,
            as_postgres_user,
        };
        let init = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "factmark", "-E", "UTF8", "-D"])
            .arg(&pg.data)
            .output()?;
        if !init.status.success() {
            return Ok(Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            )));
        }
        let log = pg.data.join("server.log");
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            pg.data.display()
        );
        let started = pg
            .command("pg_ctl")
            .arg("-D")
            .arg(&pg.data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &opts, "-w", "-t", "60", "start"])
            .status()?;
        if !started.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Ok(Err(format!("PostgreSQL did not start: {log}")));
        }
        let created = pg
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "factmark",
                "factmark",
            ])
            .status()?;
        if !created.success() {
            return Ok(Err("createdb failed".into()));
        }
        println!("xtask: PostgreSQL running on 127.0.0.1:{port}");
        Ok(Ok(pg))
    }

    fn command(&self, tool: &str) -> Command {
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            cmd
        } else {
            Command::new(self.bin.join(tool))
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "stop"])
            .stdout(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Raw and gzip -9 sizes of files, summed.
pub fn gzip_sizes(files: &[&Path]) -> Result<(u64, u64)> {
    let mut raw = 0;
    let mut gz = 0;
    for file in files {
        raw += std::fs::metadata(file)?.len();
        let out = Command::new("gzip").args(["-9", "-c"]).arg(file).output()?;
        if !out.status.success() {
            bail!("gzip failed on {}", file.display());
        }
        gz += out.stdout.len() as u64;
    }
    Ok((raw, gz))
}

/// Every file under `dir`, recursively, in a stable order.
pub fn files_under(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
