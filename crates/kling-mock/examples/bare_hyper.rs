//! The baseline for `bench/mock_load.sh`: the smallest hyper server that answers every
//! request with a short JSON body, on the same runtime settings as the mock (Tokio
//! multi-threaded, HTTP/1.1 keep-alive, `TCP_NODELAY`, the same allocator). The mock's throughput is
//! compared against this to see what its own work costs.
//!
//! `cargo run --release -p kling-mock --example bare_hyper [PORT]` prints
//! `listening on http://127.0.0.1:PORT`.

use std::convert::Infallible;
use std::io::Write as _;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The allocator of the `kling-preflight` binary, so the comparison is of the work done.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &[u8] = br#"{"code":0,"message":"SUCCEED","request_id":"hello","data":null}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_: Request<hyper::body::Incoming>| async {
                let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
                response.headers_mut().insert("content-type", "application/json".parse().unwrap());
                Ok::<_, Infallible>(response)
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
