//! A minimal HTTP/1.1 client for the benchmarks, and the host's metrics.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use tokio::net::TcpStream;

/// A bare HTTP/1.1 client connection to the host, one request at a time (keep-alive).
///
/// Deliberately minimal: the clients share this machine's cores with the host, so the
/// less they spend per request the more of the machine measures the host. It reads what
/// this host answers (a status line, headers with `content-length`, a body) and refuses
/// anything else.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Where each read lands: kept, so a request costs no fresh zeroed buffer.
    chunk: Box<[u8]>,
}

/// Largest answer the bench reads (a batch of 4096 receipts is a few MiB).
const MAX_ANSWER: usize = 64 << 20;

impl Conn {
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(16 << 10),
            chunk: vec![0u8; 64 << 10].into_boxed_slice(),
        })
    }

    /// Sends a `post_request`; the answer's body, or an error unless 200.
    pub(crate) async fn submit(&mut self, request: &[u8]) -> anyhow::Result<String> {
        let (status, body) = self.round_trip(request).await?;
        let text = String::from_utf8(body)?;
        ensure!(
            status == 200,
            "the host answered {status}: {}",
            text.chars().take(300).collect::<String>()
        );
        Ok(text)
    }

    pub(crate) async fn round_trip(&mut self, request: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut written = 0;
        while written < request.len() {
            self.stream.writable().await?;
            match self.stream.try_write(&request[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.buf.clear();
        let mut head: Option<(u16, usize, usize)> = None;
        loop {
            if head.is_none() {
                head = parse_head(&self.buf)?;
            }
            if let Some((status, start, len)) = head
                && self.buf.len() >= start + len
            {
                return Ok((status, self.buf[start..start + len].to_vec()));
            }
            ensure!(
                self.buf.len() <= MAX_ANSWER,
                "the host's answer is too large"
            );
            self.stream.readable().await?;
            match self.stream.try_read(&mut self.chunk) {
                Ok(0) => bail!("the host closed the connection"),
                Ok(n) => self.buf.extend_from_slice(&self.chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Status, body offset and body length of an HTTP/1.1 answer whose head is complete in
/// `buf`; `None` while it is not.
pub(crate) fn parse_head(buf: &[u8]) -> anyhow::Result<Option<(u16, usize, usize)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        ensure!(buf.len() < 64 << 10, "an answer head over 64 KiB");
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end])?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("not an HTTP status line")?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .context("an answer without content-length")?;
    Ok(Some((status, end + 4, length)))
}

/// The host's metrics text.
pub(crate) async fn scrape(addr: SocketAddr) -> anyhow::Result<String> {
    let mut conn = Conn::open(addr).await?;
    let (status, body) = conn
        .round_trip(b"GET /metrics HTTP/1.1\r\nhost: bench\r\n\r\n")
        .await?;
    ensure!(status == 200, "GET /metrics: {status}");
    Ok(String::from_utf8(body)?)
}

pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The value of an unlabelled metric in a Prometheus text exposition (0 if absent).
pub(crate) fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}
