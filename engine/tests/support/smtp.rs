//! A real SMTP server for tests (Debian's python3-aiosmtpd, started by the test) writing
//! every message into a maildir, and readers of what it received: headers with their
//! encoded words decoded, and the plain-text body. Shared by the engine's and the
//! server's tests.
#![allow(dead_code)] // each test file uses a different part

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;

/// A real SMTP server writing every message it accepts into a maildir.
pub struct SmtpServer {
    child: Option<Child>,
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// Not started yet: the port refuses connections.
    pub fn stopped() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        Self {
            child: None,
            port: Self::port(),
            maildir,
            _dir: dir,
        }
    }

    pub fn start(&mut self) {
        // Debian's interpreter: python3-aiosmtpd installs there, not into a pyenv or venv one.
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (Debian package python3-aiosmtpd) must be installed");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("aiosmtpd did not start");
    }

    pub fn messages(&self) -> Vec<String> {
        let new = self.maildir.join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|p| read(p)).collect()
    }
}

pub fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A header's value, unfolded, with RFC 2047 encoded words decoded.
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\n\n").next().unwrap_or_default().replace("\r\n", "\n");
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let line = unfolded
        .lines()
        .find(|l| l.to_lowercase().starts_with(&format!("{}:", name.to_lowercase())))?;
    Some(decode_words(line[name.len() + 1..].trim()))
}

fn decode_words(value: &str) -> String {
    // Whitespace between two encoded words is dropped; any other is kept (RFC 2047 §6.2).
    let mut out = String::new();
    let mut previous_encoded = false;
    for (i, word) in value.split(' ').enumerate() {
        let lower = word.to_lowercase();
        let encoded = lower.starts_with("=?utf-8?") && word.ends_with("?=") && word.len() > 10;
        if i > 0 && !(encoded && previous_encoded) {
            out.push(' ');
        }
        if encoded {
            let inner = &word[8..word.len() - 2];
            let (kind, data) = inner.split_at(1);
            let data = &data[1..];
            let bytes = if kind.eq_ignore_ascii_case("b") {
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap_or_default()
            } else {
                quoted_printable(&data.replace('_', " "))
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            out.push_str(word);
        }
        previous_encoded = encoded;
    }
    out
}

pub fn quoted_printable(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The decoded plain-text part of a message (quoted-printable or base64).
pub fn text_body(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    let Some(start) = message.find("Content-Type: text/plain") else {
        return String::new();
    };
    let part = &message[start..];
    let (head, rest) = part.split_once("\n\n").unwrap_or((part, ""));
    let body = rest.split("\n--").next().unwrap_or_default();
    let encoding = head.to_lowercase();
    let bytes = if encoding.contains("content-transfer-encoding: base64") {
        base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap_or_default()
    } else if encoding.contains("content-transfer-encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.as_bytes().to_vec()
    };
    String::from_utf8_lossy(&bytes).into_owned()
}
