//! A loopback webhook receiver per scenario, offered to clients as `KLING_CALLBACK_URL`.
//!
//! A client that sends a `callback_url` needs somewhere for the mock to deliver to;
//! pointing it at a real endpoint from a test run would be wrong, and pointing it at
//! nothing would fill the journal with failed deliveries. The receiver answers every
//! POST with `204` and remembers nothing: the mock's journal already records each
//! delivery attempt.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::error::HarnessError;

/// The largest request the receiver reads (a task object is a few hundred bytes).
const MAX_REQUEST: usize = 256 * 1024;

/// A running receiver; dropping it stops it.
#[derive(Debug)]
pub(crate) struct Receiver {
    url: String,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Listen on a free loopback port.
    pub(crate) async fn start(scenario: &str) -> Result<Self, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|source| HarnessError::Io {
            what: "cannot open a loopback port for the callback receiver".into(),
            source,
        })?;
        let address = listener.local_addr().map_err(|source| HarnessError::Io {
            what: "cannot read the callback receiver's address".into(),
            source,
        })?;
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(answer(stream));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Receiver { url: format!("http://{address}/kling/callback/{scenario}"), task })
    }

    /// The URL to hand to the client.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Aborting the accept loop drops its `JoinSet`, which aborts every connection.
        self.task.abort();
    }
}

/// Answer each request on a connection with 204 until the peer closes it.
async fn answer(mut stream: TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk)).await;
        let n = match read {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST {
            return;
        }
        while let Some(end) = complete_request(&buf) {
            buf.drain(..end);
            let reply = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
            if stream.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

/// The length of the first complete request in `buf` (headers and a
/// `Content-Length` body), if it has arrived.
fn complete_request(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + length).then_some(head_end + length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_framed_by_content_length() {
        assert_eq!(complete_request(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), Some(40));
        assert_eq!(complete_request(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n{}"), None);
        assert_eq!(complete_request(b"GET / HTTP/1.1\r\n\r\nGET"), Some(18));
        assert_eq!(complete_request(b"POST / HTTP/1.1\r\n"), None);
    }

    #[tokio::test]
    async fn it_answers_204_on_a_kept_alive_connection() {
        let r = Receiver::start("happy").await.unwrap();
        assert!(r.url().starts_with("http://127.0.0.1:") && r.url().ends_with("/kling/callback/happy"));
        let address = r.url().trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let mut s = TcpStream::connect(address).await.unwrap();
        let req = b"POST /kling/callback/happy HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        s.write_all(req).await.unwrap();
        s.write_all(req).await.unwrap();
        let mut got = Vec::new();
        while got.windows(3).filter(|w| w == b"204").count() < 2 {
            let mut b = [0_u8; 256];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await.unwrap().unwrap();
            assert!(n > 0);
            got.extend_from_slice(&b[..n]);
        }
    }
}
