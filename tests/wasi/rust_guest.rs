// A Rust std program (wasm32-wasi) as a WASI test guest: Rust's std asks
// for its own rights sets and goes through its own paths in libstd, so it
// checks the host against a second toolchain besides wasi-libc's C.
// Run by run_rust_guest.sh with
//   --dir BOX:/box --dir RO:/ro:ro --env GREETING=hi  rust_guest.wasm rust
// Prints "FAIL ..." per failed check and "rust_guest: N checks, M failed".
use std::env;
use std::fs;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NOTCAPABLE: i32 = 76;

struct T {
    checks: u32,
    fails: u32,
}

impl T {
    fn check(&mut self, ok: bool, what: &str) {
        self.checks += 1;
        if !ok {
            self.fails += 1;
            println!("FAIL {}", what);
        }
    }
    fn denied<V>(&mut self, r: std::io::Result<V>, errno: i32, what: &str) {
        let got = match &r {
            Ok(_) => None,
            Err(e) => e.raw_os_error(),
        };
        self.check(got == Some(errno), &format!("{}: got {:?}, want errno {}", what, got, errno));
    }
}

fn main() {
    let mut t = T { checks: 0, fails: 0 };
    let args: Vec<String> = env::args().collect();
    t.check(args.len() == 2 && args[1] == "rust", "args");
    t.check(env::var("GREETING").map(|v| v == "hi").unwrap_or(false), "GREETING granted");
    t.check(env::var("PATH").is_err(), "host environment not visible");

    // inside the box
    t.check(fs::create_dir("/box/r").is_ok(), "create_dir");
    t.check(fs::write("/box/r/a.txt", b"from rust").is_ok(), "write");
    t.check(fs::read_to_string("/box/r/a.txt").map(|s| s == "from rust").unwrap_or(false), "read back");
    t.check(fs::metadata("/box/r/a.txt").map(|m| m.len() == 9 && m.is_file()).unwrap_or(false), "metadata");
    let mut f = fs::OpenOptions::new().append(true).open("/box/r/a.txt").unwrap();
    t.check(f.write_all(b"!").is_ok(), "append");
    drop(f);
    t.check(fs::rename("/box/r/a.txt", "/box/r/b.txt").is_ok(), "rename");
    let names: Vec<String> = fs::read_dir("/box/r")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    t.check(names == vec!["b.txt".to_string()], "read_dir lists b.txt only");
    let mut s = String::new();
    t.check(fs::File::open("/box/r/b.txt").and_then(|mut f| f.read_to_string(&mut s)).is_ok()
            && s == "from rust!", "read appended");
    t.check(fs::remove_file("/box/r/b.txt").is_ok() && fs::remove_dir("/box/r").is_ok(), "remove");
    t.check(fs::write("/box/rust-out.txt", b"written by rust\n").is_ok(), "write a file for the host");

    // the read-only grant
    t.check(fs::read_to_string("/ro/ro.txt").map(|s| s == "read only").unwrap_or(false), "read ro");
    t.denied(fs::write("/ro/ro.txt", b"x"), NOTCAPABLE, "truncate ro file");
    t.denied(fs::File::create("/ro/new.txt"), NOTCAPABLE, "create in ro dir");
    t.denied(fs::OpenOptions::new().write(true).open("/ro/ro.txt"), NOTCAPABLE, "open ro file for writing");
    t.denied(fs::create_dir("/ro/d"), NOTCAPABLE, "mkdir in ro dir");
    t.denied(fs::remove_file("/ro/ro.txt"), NOTCAPABLE, "remove in ro dir");

    // escapes
    t.denied(fs::read("/box/../outside/secret.txt"), NOTCAPABLE, "read via ..");
    t.denied(fs::read("/box/lnk_out/secret.txt"), NOTCAPABLE, "read via symlink out");
    t.denied(fs::write("/box/lnk_out/x", b"x"), NOTCAPABLE, "write via symlink out");
    t.denied(fs::rename("/box/rust-out.txt", "/box/../outside/x"), NOTCAPABLE, "rename out");
    t.check(fs::read("/etc/passwd").is_err(), "a path under no preopen");

    // clocks and sleeping
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    t.check(now > 1_600_000_000, "SystemTime is wall time");
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    t.check(t0.elapsed() >= Duration::from_millis(20), "sleep 20 ms");

    // stdin
    let mut input = String::new();
    t.check(std::io::stdin().read_to_string(&mut input).is_ok() && input == "to rust\n", "stdin");

    println!("rust_guest: {} checks, {} failed", t.checks, t.fails);
    std::process::exit(if t.fails == 0 { 0 } else { 1 });
}
