//! Scenarios 4, 5 and 7 against the real release server (`escalator serve`) on a loopback
//! port: `wrk` against the API and the page, `/metrics` scrapes, and ingest through
//! `POST /api/v1/workflows` with a `wrk` Lua script. The server's peak RSS is scenario 6.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::data::{ADMIN, DEPARTMENTS};
use crate::db::Db;
use crate::{memory, Result};

/// The admin's UI password in the bench's databases.
pub const PASSWORD: &str = "bench-password-1";

/// A running `escalator serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub addr: String,
    pub token: String,
}

impl Server {
    /// Starts the server on `db` and waits until `/readyz` answers 200.
    pub fn start(binary: &Path, db: &Db, log: &Path) -> Result<Self> {
        let token = command_output(
            Command::new(binary)
                .args(["token", "create", "--email", ADMIN, "--name", "bench"])
                .env("DATABASE_URL", &db.url),
        )?;
        let token = token.lines().last().unwrap_or_default().trim().to_string();
        // A password for the admin, so the bench can sign in to the UI's pages.
        command_output(
            Command::new(binary)
                .args([
                    "user",
                    "create",
                    "--email",
                    ADMIN,
                    "--name",
                    "Bench Admin",
                    "--role",
                    "admin",
                ])
                .env("ESCALATOR_USER_PASSWORD", PASSWORD)
                .env("DATABASE_URL", &db.url),
        )?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("ESCALATOR_LISTEN", &addr)
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .stdin(Stdio::null())
            .spawn()?;
        let mut server = Server {
            child,
            base: format!("http://{addr}"),
            addr,
            token,
        };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = get(&server.addr, "/readyz", &[]) {
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("the server exited ({status}); see {}", log.display()).into());
            }
            if started.elapsed() > Duration::from_secs(180) {
                server.stop();
                return Err(format!("the server was not ready within 180 s; see {}", log.display()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// Peak RSS so far, MB.
    pub fn peak_mb(&self) -> Option<f64> {
        memory::peak_mb(&self.child.id().to_string())
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 30 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

fn command_output(command: &mut Command) -> Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim()).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// A minimal HTTP/1.1 GET (`Connection: close`): status and body.
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<(u16, Vec<u8>)> {
    let (status, _, body) = request(addr, "GET", path, headers, b"")?;
    Ok((status, body))
}

/// A minimal HTTP/1.1 request (`Connection: close`): status, response headers, body.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let status = response
        .split(|b| *b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .ok_or("malformed HTTP response")?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n");
    let headers = split.map_or_else(String::new, |i| String::from_utf8_lossy(&response[..i]).into_owned());
    let body = split.map_or_else(Vec::new, |i| response[i + 4..].to_vec());
    Ok((status, headers, body))
}

/// Signs in through the UI's login endpoint; the session cookie (`name=value`).
pub fn login(addr: &str, email: &str, password: &str) -> Result<String> {
    let form = format!("email={}&password={password}", email.replace('@', "%40"));
    let origin = format!("http://{addr}");
    let (status, headers, _) = request(
        addr,
        "POST",
        "/ui/fn/login",
        &[
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )?;
    headers
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap_or_default().to_string())
        })
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("login answered {status} without a session cookie").into())
}

/// What one `wrk --latency` run measured.
#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Responses that were not 2xx/3xx, and socket errors.
    pub errors: u64,
}

/// Runs wrk: `threads`, `connections`, `seconds`, extra headers, optional Lua script.
pub fn wrk(
    url: &str,
    connections: usize,
    seconds: u64,
    headers: &[String],
    script: Option<&Path>,
) -> Result<WrkResult> {
    let threads = connections.clamp(1, 2);
    let mut command = Command::new("wrk");
    command.args([
        "--latency",
        "-t",
        &threads.to_string(),
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{seconds}s"),
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let output = command_output(&mut command)?;
    parse_wrk(&output).ok_or_else(|| format!("could not read wrk's output:\n{output}").into())
}

fn parse_wrk(output: &str) -> Option<WrkResult> {
    let mut result = WrkResult::default();
    let mut found = (false, false);
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => result.p50_ms = duration_ms(value)?,
            ["99%", value] => {
                result.p99_ms = duration_ms(value)?;
                found.0 = true;
            }
            ["Requests/sec:", value] => {
                result.requests_per_second = value.parse().ok()?;
                found.1 = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => result.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // connect 0, read 0, write 0, timeout 0
                result.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (found.0 && found.1).then_some(result)
}

/// `812.00us`, `1.23ms`, `2.01s` → milliseconds.
fn duration_ms(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// Times `n` scrapes of `/metrics`, each on a new connection; milliseconds.
pub fn scrape_times(addr: &str, n: usize) -> Result<Vec<f64>> {
    // A warm-up scrape, not counted.
    get(addr, "/metrics", &[])?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let (status, body) = get(addr, "/metrics", &[])?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 || body.is_empty() {
            return Err(format!("/metrics answered {status}").into());
        }
    }
    Ok(times)
}

/// The wrk script that posts new workflows, each with a unique external id.
pub fn ingest_script(dir: &Path, run: &str, policy_id: i64, chain_id: i64) -> Result<PathBuf> {
    let path = dir.join(format!("ingest-{run}.lua"));
    let script = format!(
        r#"-- Generated by the bench: POST /api/v1/workflows with unique external ids.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  local d = n % {DEPARTMENTS}
  local body = string.format('{{"external_id":"ING-{run}-%d-%d","workflow_type":"purchase","title":"Ingested %d",' ..
    '"stage":"Manager Approval","department":"dept%d","initiator":"initiator.dept%d@bench.example",' ..
    '"assignee":"approver.dept%d@bench.example","policy_id":{policy_id},"chain_id":{chain_id}}}', tid, n, n, d, d, d)
  return wrk.format(nil, nil, nil, body)
end
"#
    );
    std::fs::write(&path, script)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let output = "Running 5s test @ http://127.0.0.1:1/\n  2 threads and 4 connections\n\
  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.20ms  300.00us   9.00ms   90.00%\n\
  Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     90%    1.50ms\n     99%    3.25ms\n\
  10000 requests in 5.00s, 1.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
  Non-2xx or 3xx responses: 4\nRequests/sec:   2000.50\nTransfer/sec:    200.00KB\n";
        let r = parse_wrk(output).expect("parsed");
        assert!((r.p50_ms - 0.812).abs() < 1e-9);
        assert!((r.p99_ms - 3.25).abs() < 1e-9);
        assert!((r.requests_per_second - 2000.5).abs() < 1e-9);
        assert_eq!(r.errors, 7);
        assert_eq!(duration_ms("2.5s"), Some(2500.0));
    }
}
