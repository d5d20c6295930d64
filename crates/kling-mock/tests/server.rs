//! The server over a real socket on port 0: connection ids (so connection reuse can be
//! judged), the admin API, graceful shutdown, drop, bind errors, and surviving garbage.

use std::time::Duration;

use kling_mock::{Fault, FaultPlan, FaultRule, MockConfig, MockError, MockKling, Route, Trigger};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn list(http: &reqwest::Client, mock: &MockKling) -> Value {
    http.get(format!("{}/v1/videos/text2video", mock.uri()))
        .bearer_auth(mock.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn kept_alive_requests_share_a_connection_id() {
    let mock = MockKling::start().await;
    assert!(mock.uri().starts_with("http://127.0.0.1:"), "{}", mock.uri());
    let pooled = client();
    list(&pooled, &mock).await;
    list(&pooled, &mock).await;
    let other = client();
    list(&other, &mock).await;
    let conns: Vec<u64> = mock.journal().iter().map(|e| e.conn.expect("conn id")).collect();
    assert_eq!(conns.len(), 3);
    assert_eq!(conns[0], conns[1], "a pooled client reuses its connection");
    assert_ne!(conns[1], conns[2], "a new client opens a new connection");

    // Two requests written on one raw connection, read back one after the other.
    let mut stream = BufReader::new(TcpStream::connect(mock.address()).await.unwrap());
    for _ in 0..2 {
        let request =
            format!("GET /v1/videos/text2video HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", mock.token());
        stream.get_mut().write_all(request.as_bytes()).await.unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length: ") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
    }
    let raw: Vec<u64> = mock.journal().iter().skip(3).map(|e| e.conn.unwrap()).collect();
    assert_eq!(raw.len(), 2);
    assert_eq!(raw[0], raw[1]);
    assert!(raw[0] > conns[2]);
}

#[tokio::test]
async fn admin_api_over_http_and_the_admin_token() {
    let mock = MockKling::start().await;
    let http = client();
    let health: Value = http.get(format!("{}/__admin/health", mock.uri())).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["data"]["status"], "ok");
    assert_eq!(health["data"]["base_url"], mock.uri().as_str());
    let clock: Value = http
        .post(format!("{}/__admin/clock", mock.uri()))
        .json(&serde_json::json!({"advance_seconds": 1800}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["data"]["offset_seconds"], 1800.0);
    // Admin requests are not journaled: the journal is what clients did.
    assert!(mock.journal().is_empty());

    let guarded =
        MockKling::start_with(MockConfig { admin_token: Some("t0ken".into()), ..MockConfig::default() }).await.unwrap();
    let refused = http.get(format!("{}/__admin/requests", guarded.uri())).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let allowed = http.get(format!("{}/__admin/requests", guarded.uri())).bearer_auth("t0ken").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test]
async fn shutdown_is_graceful_and_does_not_wait_for_stalls() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::List, Trigger::Always, Fault::Stall { seconds: 120.0 }));
    let mock = MockKling::start_with(MockConfig::default().with_faults(plan)).await.unwrap();
    let address = mock.address();
    let url = format!("{}/v1/videos/text2video", mock.uri());
    let token = mock.token();
    let stalled = tokio::spawn(async move { client().get(url).bearer_auth(token).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::timeout(Duration::from_secs(8), mock.shutdown()).await.expect("shutdown ends stalls");
    // The stalled request was answered (the stall ended early), not cut off.
    let answered = stalled.await.unwrap();
    assert_eq!(answered.ok().map(|s| s.as_u16()), Some(200));
    assert!(TcpStream::connect(address).await.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn dropping_the_mock_stops_the_server() {
    let mock = MockKling::start().await;
    let address = mock.address();
    // An idle kept-alive connection must not keep the server alive.
    let pooled = client();
    list(&pooled, &mock).await;
    drop(mock);
    for _ in 0..100 {
        if TcpStream::connect(address).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server still accepts connections after drop");
}

#[tokio::test]
async fn a_busy_port_is_a_clear_error() {
    let first = MockKling::start().await;
    let taken = first.address().port();
    let err = MockKling::start_with(MockConfig::default().with_port(taken)).await.unwrap_err();
    assert!(matches!(err, MockError::Bind { .. }));
    assert!(err.to_string().contains("already in use"), "{err}");
    let err = MockKling::start_with(MockConfig { host: "no-such-host.invalid".into(), ..MockConfig::default() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check the host"), "{err}");
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_hurt_the_server() {
    let mock = MockKling::start().await;
    for junk in
        [&b"GARBAGE\r\n\r\n"[..], b"\x00\x01\x02\x03", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"]
    {
        let mut stream = TcpStream::connect(mock.address()).await.unwrap();
        stream.write_all(junk).await.unwrap();
        let _ = stream.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await.expect("no hang");
    }
    // A client that connects and says nothing, and one that sends half a request.
    let _idle = TcpStream::connect(mock.address()).await.unwrap();
    let mut half = TcpStream::connect(mock.address()).await.unwrap();
    half.write_all(b"POST /v1/videos/text2video HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"pro").await.unwrap();
    let body = list(&client(), &mock).await;
    assert_eq!(body["code"], 0);
}
