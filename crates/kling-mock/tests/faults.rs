//! Every fault kind, observed from a client over a real socket: error sequences and
//! "forever", seeded probability, stalls (answered late, or abandoned by the client),
//! connection resets, empty answers, truncated bodies, stuck and failed tasks, expired
//! URLs; plans from a config file, from Rust and from the admin API.

use std::time::Duration;

use kling_mock::{ErrorCode, Fault, FaultPlan, FaultRule, MockConfig, MockKling, Route, Trigger};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const BODY: &str = r#"{"model_name":"kling-v1","prompt":"a red fox running through fresh snow","duration":"5"}"#;

async fn start(plan: FaultPlan) -> MockKling {
    MockKling::start_with(MockConfig::default().with_faults(plan)).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn create(mock: &MockKling, http: &reqwest::Client) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = http
        .post(format!("{}/v1/videos/text2video", mock.uri()))
        .bearer_auth(mock.token())
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap(), headers)
}

async fn query(mock: &MockKling, http: &reqwest::Client, id: &str) -> Value {
    http.get(format!("{}/v1/videos/text2video/{id}", mock.uri()))
        .bearer_auth(mock.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Send a create by hand and read whatever comes back until the server closes.
async fn raw_create(mock: &MockKling) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(mock.address()).await?;
    let request = format!(
        "POST /v1/videos/text2video HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        mock.address(),
        mock.token(),
        BODY.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await.expect("no hang")?;
    Ok(out)
}

/// Wait (at most 10 s) until the journal holds a record satisfying `pred`.
async fn journal_until(mock: &MockKling, pred: impl Fn(&kling_mock::JournalEntry) -> bool) -> kling_mock::JournalEntry {
    for _ in 0..200 {
        if let Some(e) = mock.journal().into_iter().find(|e| pred(e)) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no matching journal record in {:#?}", mock.journal());
}

#[tokio::test]
async fn first_two_creates_are_rate_limited_then_normal() {
    let plan = FaultPlan::new().rule(FaultRule::new(
        Route::Create,
        Trigger::First(2),
        Fault::error(ErrorCode::RATE_LIMITED).retry_after(2),
    ));
    let mock = start(plan).await;
    let http = client();
    for _ in 0..2 {
        let (status, body, headers) = create(&mock, &http).await;
        assert_eq!((status, body["code"].as_u64()), (429, Some(1302)));
        assert_eq!(headers["retry-after"], "2");
        assert!(body["request_id"].is_string());
    }
    let (status, body, _) = create(&mock, &http).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(0)));
    let fired: Vec<_> = mock.journal().into_iter().filter_map(|e| e.fault).collect();
    assert_eq!(fired.len(), 2);
    assert_eq!((fired[0].kind.as_str(), fired[0].code, fired[0].rule), ("error", Some(1302), Some(0)));
    assert_eq!(mock.faults().rules[0].matched, 3);
}

#[tokio::test]
async fn errors_forever_on_one_route_only() {
    let plan = FaultPlan::new().rule(FaultRule::new(
        Route::parse("GET /v1/videos/text2video/*").unwrap(),
        Trigger::Always,
        Fault::error(ErrorCode::INTERNAL_ERROR),
    ));
    let mock = start(plan).await;
    let http = client();
    let (_, created, _) = create(&mock, &http).await;
    let id = created["data"]["task_id"].as_str().unwrap();
    for _ in 0..3 {
        let body = query(&mock, &http, id).await;
        assert_eq!(body["code"], 5000);
    }
    let list = http.get(format!("{}/v1/videos/text2video", mock.uri())).bearer_auth(mock.token()).send().await.unwrap();
    assert_eq!(list.status(), 200, "the list route is not matched by the item pattern");
}

#[tokio::test]
async fn seeded_probability_replays() {
    async fn codes(seed: u64) -> Vec<u64> {
        let plan = FaultPlan::new().with_seed(seed).rule(FaultRule::new(
            Route::List,
            Trigger::Probability(0.5),
            Fault::error(ErrorCode::UNAVAILABLE),
        ));
        let mock = start(plan).await;
        let http = client();
        let mut out = Vec::new();
        for _ in 0..24 {
            let r = http
                .get(format!("{}/v1/videos/text2video", mock.uri()))
                .bearer_auth(mock.token())
                .send()
                .await
                .unwrap();
            let body: Value = r.json().await.unwrap();
            out.push(body["code"].as_u64().unwrap());
        }
        out
    }
    let a = codes(11).await;
    assert_eq!(a, codes(11).await, "same seed, same faults");
    assert!(a.contains(&5001) && a.contains(&0), "{a:?}");
}

#[tokio::test]
async fn a_short_stall_answers_late() {
    let plan =
        FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Nth(vec![1]), Fault::Stall { seconds: 0.3 }));
    let mock = start(plan).await;
    let (status, _, _) = create(&mock, &client()).await;
    assert_eq!(status, 200);
    let e = journal_until(&mock, |e| e.route == "create").await;
    assert!(e.completed);
    assert!(e.duration_ms >= 290.0, "{}", e.duration_ms);
    assert_eq!(e.fault.unwrap().seconds, Some(0.3));
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_stall_is_journaled_as_gone() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Always, Fault::Stall { seconds: 60.0 }));
    let mock = start(plan).await;
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().unwrap();
    let err = impatient
        .post(format!("{}/v1/videos/text2video", mock.uri()))
        .bearer_auth(mock.token())
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    drop(impatient);
    let e = journal_until(&mock, |e| e.route == "create").await;
    assert!(!e.completed);
    assert_eq!(e.status, None);
    let gone = e.client_gone_ms.expect("client_gone_ms");
    assert!(gone - e.t_ms >= 250.0 && gone - e.t_ms < 10_000.0, "left after {} ms", gone - e.t_ms);
    assert_eq!(e.fault.unwrap().kind, "stall");
    assert!(e.body.is_none(), "the stall comes before the body is read");
    assert!(mock.tasks().is_empty(), "an abandoned create is never carried out");
}

#[tokio::test]
async fn a_reset_after_the_work_is_done() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::First(1), Fault::Reset));
    let mock = start(plan).await;
    let err = raw_create(&mock).await.expect_err("the connection is reset");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    // reqwest sees it as a request error too.
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::First(1), Fault::Reset));
    mock.set_faults(plan).unwrap();
    let http = client();
    let r = http
        .post(format!("{}/v1/videos/text2video", mock.uri()))
        .bearer_auth(mock.token())
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    // The task was created each time: the answer, not the work, was lost.
    assert_eq!(mock.tasks().len(), 2);
    let e = journal_until(&mock, |e| e.fault.is_some()).await;
    assert!(!e.completed);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.fault.unwrap().kind, "reset");
}

#[tokio::test]
async fn an_empty_answer_closes_without_a_byte() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::First(1), Fault::Empty));
    let mock = start(plan).await;
    let bytes = raw_create(&mock).await.expect("a clean close");
    assert!(bytes.is_empty(), "got {:?}", String::from_utf8_lossy(&bytes));
    assert_eq!(mock.tasks().len(), 1);
    let e = journal_until(&mock, |e| e.fault.is_some()).await;
    assert_eq!((e.completed, e.fault.unwrap().kind.as_str()), (false, "empty"));
    // The next create is answered normally.
    assert_eq!(create(&mock, &client()).await.0, 200);
}

#[tokio::test]
async fn a_truncated_body_stops_short_of_its_content_length() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::First(1), Fault::Truncate));
    let mock = start(plan).await;
    let bytes = raw_create(&mock).await.expect("the server closes after the partial body");
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers arrive");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap()))
        .expect("content-length");
    assert!(body.len() < declared, "{} of {declared} bytes", body.len());
    assert!(serde_json::from_str::<Value>(body).is_err());
    let e = journal_until(&mock, |e| e.fault.is_some()).await;
    assert_eq!((e.completed, e.fault.unwrap().kind.as_str()), (false, "truncate"));
}

#[tokio::test]
async fn a_stuck_task_never_finishes_and_a_failed_one_says_why() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Nth(vec![1]), Fault::Stuck)).rule(
        FaultRule::new(Route::Create, Trigger::Nth(vec![2]), Fault::fail("Failure to pass the risk control system")),
    );
    let mock = start(plan).await;
    let http = client();
    let stuck = create(&mock, &http).await.1["data"]["task_id"].as_str().unwrap().to_owned();
    let failed = create(&mock, &http).await.1["data"]["task_id"].as_str().unwrap().to_owned();
    mock.advance_clock(3600.0);
    let s = query(&mock, &http, &stuck).await;
    assert_eq!(s["data"]["task_status"], "processing");
    let f = query(&mock, &http, &failed).await;
    assert_eq!(f["data"]["task_status"], "failed");
    assert_eq!(f["data"]["task_status_msg"], "Failure to pass the risk control system");
    let outcomes: Vec<String> = mock.tasks().into_iter().map(|t| t.outcome).collect();
    assert_eq!(outcomes, ["stuck", "failed"]);
}

#[tokio::test]
async fn expired_urls_on_query_and_on_download() {
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Query, Trigger::Nth(vec![1]), Fault::ExpiredUrl));
    let mock = MockKling::start_with(MockConfig::default().with_task_seconds(0.0).with_faults(plan)).await.unwrap();
    let http = client();
    let id = create(&mock, &http).await.1["data"]["task_id"].as_str().unwrap().to_owned();
    let first = query(&mock, &http, &id).await;
    let stale = first["data"]["task_result"]["videos"][0]["url"].as_str().unwrap().to_owned();
    let r = http.get(&stale).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 1103);
    let fresh = query(&mock, &http, &id).await["data"]["task_result"]["videos"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(http.get(&fresh).send().await.unwrap().status(), 200);

    mock.set_faults(FaultPlan::new().rule(FaultRule::new(Route::Download, Trigger::Always, Fault::ExpiredUrl)))
        .unwrap();
    assert_eq!(http.get(&fresh).send().await.unwrap().status(), 403);
    let cdn = mock.journal().into_iter().rfind(|e| e.kind == kling_mock::EntryKind::Cdn).unwrap();
    assert!(cdn.cdn.unwrap().expired);
    assert_eq!(cdn.fault.unwrap().kind, "expired-url");
}

#[tokio::test]
async fn a_short_url_ttl_expires_urls_a_client_keeps() {
    let config = MockConfig::default().with_task_seconds(0.0).with_url_ttl_seconds(5.0);
    let mock = MockKling::start_with(config).await.unwrap();
    let http = client();
    let id = create(&mock, &http).await.1["data"]["task_id"].as_str().unwrap().to_owned();
    let url = query(&mock, &http, &id).await["data"]["task_result"]["videos"][0]["url"].as_str().unwrap().to_owned();
    let bytes = http.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    mock.advance_clock(6.0);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn plans_load_from_a_config_file_and_from_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mock.toml");
    std::fs::write(
        &path,
        r#"
        [[faults.rules]]
        route = "POST /v1/videos/*"
        nth = [2]
        fault = "error"
        code = 1301
        "#,
    )
    .unwrap();
    let mock = MockKling::start_with(MockConfig::from_path(&path).unwrap()).await.unwrap();
    let http = client();
    assert_eq!(create(&mock, &http).await.0, 200);
    let (status, body, _) = create(&mock, &http).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(1301)));

    let plan = json!({"rules": [{"route": "create", "always": true, "fault": "error", "code": 5002, "status": 503}]});
    let r = http.post(format!("{}/__admin/faults", mock.uri())).json(&plan).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, body, _) = create(&mock, &http).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(5002)), "status override");
    let shown: Value = http.get(format!("{}/__admin/faults", mock.uri())).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["data"]["rules"][0]["fired"], 1);

    let e = MockConfig::from_path(dir.path().join("missing.toml")).unwrap_err().to_string();
    assert!(e.contains("check the path"), "{e}");
    std::fs::write(&path, "[[faults.rules]]\nroute = \"create\"\nfault = \"stall\"\nfirst = 1\n").unwrap();
    let e = MockConfig::from_path(&path).unwrap_err().to_string();
    assert!(e.contains("mock.toml") && e.contains("seconds"), "{e}");
}

/// Regression: an injected 429 (or a 401) was answered before the request body was
/// read, and when the body arrived a moment after the headers (as Python's http.client
/// sends it) hyper closed the kept-alive connection, so the client's next request failed
/// with a broken pipe instead of meeting the next fault.
#[tokio::test]
async fn refusals_keep_the_connection_alive_when_the_body_comes_late() {
    let plan =
        FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Always, Fault::error(ErrorCode::RATE_LIMITED)));
    let mock = start(plan).await;
    let mut stream = TcpStream::connect(mock.address()).await.unwrap();
    for (i, token) in [mock.token(), mock.token(), "not-a-token".to_owned()].iter().enumerate() {
        let head = format!(
            "POST /v1/videos/text2video HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            mock.address(),
            BODY.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(BODY.as_bytes()).await.unwrap();
        // Read one whole answer: headers, then Content-Length bytes.
        let mut got = Vec::new();
        let mut buf = [0_u8; 1024];
        let complete = |got: &[u8]| {
            let text = String::from_utf8_lossy(got);
            let (head, body) = text.split_once("\r\n\r\n")?;
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))?
                .parse()
                .ok()?;
            (body.len() >= length).then(|| head.lines().next().unwrap_or_default().to_owned())
        };
        let status_line = loop {
            if let Some(line) = complete(&got) {
                break line;
            }
            let n =
                tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.expect("an answer").unwrap();
            assert!(n > 0, "request {i}: the mock closed the connection; got {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        };
        let expected = if i < 2 { "429" } else { "401" };
        assert!(status_line.contains(expected), "request {i}: {status_line}");
    }
    let conns: Vec<Option<u64>> = mock.journal().iter().map(|e| e.conn).collect();
    assert_eq!(conns.len(), 3);
    assert!(conns.iter().all(|c| *c == conns[0]), "{conns:?}");
}
