//! Callbacks, received by a wiremock server: one POST of the bare task object per
//! status change after creation, in order; bounded retries; timeouts; all journaled.

use std::time::Duration;

use kling_mock::{CallbackConfig, EntryKind, Fault, FaultPlan, FaultRule, MockConfig, MockKling, Route, Trigger};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast(callbacks: CallbackConfig) -> MockConfig {
    MockConfig { callbacks, ..MockConfig::default().with_task_seconds(0.4) }
}

async fn create_with_callback(mock: &MockKling, callback_url: &str) -> String {
    let body: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/v1/videos/text2video", mock.uri()))
        .bearer_auth(mock.token())
        .json(&json!({"prompt": "a fox at dawn", "callback_url": callback_url, "external_task_id": "cb-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["code"], 0, "{body}");
    body["data"]["task_id"].as_str().unwrap().to_owned()
}

/// Wait (at most 10 s) for `n` requests at the receiver.
async fn received(receiver: &MockServer, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let requests = receiver.received_requests().await.unwrap_or_default();
        if requests.len() >= n {
            return requests.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the receiver got {:?}", receiver.received_requests().await);
}

#[tokio::test]
async fn every_status_change_is_posted_in_order() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/kling/callback"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let mock = MockKling::start_with(fast(CallbackConfig::default())).await.unwrap();
    let id = create_with_callback(&mock, &format!("{}/kling/callback", receiver.uri())).await;

    let bodies = received(&receiver, 2).await;
    let statuses: Vec<&str> = bodies.iter().map(|b| b["task_status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["processing", "succeed"]);
    for body in &bodies {
        assert_eq!(body["task_id"], id.as_str());
        assert!(body.get("code").is_none(), "the task object itself, no envelope: {body}");
        assert_eq!(body["task_info"]["external_task_id"], "cb-1");
    }
    let url = bodies[1]["task_result"]["videos"][0]["url"].as_str().unwrap();
    assert!(url.starts_with(&mock.uri()), "{url}");
    let received_request = &receiver.received_requests().await.unwrap()[0];
    assert_eq!(received_request.headers["content-type"], "application/json");

    let deliveries: Vec<_> = mock.journal().into_iter().filter(|e| e.kind == EntryKind::Callback).collect();
    assert_eq!(deliveries.len(), 2);
    for d in &deliveries {
        assert_eq!(d.status, Some(200));
        assert_eq!(d.callback.as_ref().unwrap().attempt, 1);
        assert_eq!(d.task_id.as_deref(), Some(id.as_str()));
        assert!(d.path.ends_with("/kling/callback"));
    }
    // Give a stray third delivery the chance to show up: there must be none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn failed_deliveries_are_retried_a_bounded_number_of_times() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&receiver).await;
    // A stuck task changes status once (to processing), so exactly one delivery runs.
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Always, Fault::Stuck));
    let config = fast(CallbackConfig { timeout_seconds: 2.0, attempts: 3, backoff_seconds: 0.05 }).with_faults(plan);
    let mock = MockKling::start_with(config).await.unwrap();
    create_with_callback(&mock, &format!("{}/hook", receiver.uri())).await;
    let bodies = received(&receiver, 3).await;
    assert!(bodies.iter().all(|b| b["task_status"] == "processing"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received_requests().await.unwrap().len(), 3, "no more than `attempts`");
    let attempts: Vec<(u32, Option<u16>)> = mock
        .journal()
        .into_iter()
        .filter(|e| e.kind == EntryKind::Callback)
        .map(|e| (e.callback.unwrap().attempt, e.status))
        .collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(500))]);
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_a_failed_task_is_announced() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&receiver)
        .await;
    let plan = FaultPlan::new().rule(FaultRule::new(Route::Create, Trigger::Always, Fault::fail("content rejected")));
    let config = fast(CallbackConfig { timeout_seconds: 0.2, attempts: 1, backoff_seconds: 0.0 }).with_faults(plan);
    let mock = MockKling::start_with(config).await.unwrap();
    create_with_callback(&mock, &format!("{}/slow", receiver.uri())).await;
    let bodies = received(&receiver, 2).await;
    assert_eq!(bodies[1]["task_status"], "failed");
    assert_eq!(bodies[1]["task_status_msg"], "content rejected");
    for _ in 0..100 {
        let errors: Vec<String> = mock.journal().into_iter().filter_map(|e| e.callback.and_then(|c| c.error)).collect();
        if errors.len() == 2 {
            assert!(errors.iter().all(|e| e.contains("timed out")), "{errors:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries were not journaled as timed out: {:#?}", mock.journal());
}

#[tokio::test]
async fn an_unreachable_or_https_callback_is_journaled_not_fatal() {
    let config = fast(CallbackConfig { timeout_seconds: 1.0, attempts: 1, backoff_seconds: 0.0 });
    let mock = MockKling::start_with(config).await.unwrap();
    create_with_callback(&mock, "https://127.0.0.1:9/hook").await;
    for _ in 0..100 {
        let errors: Vec<String> = mock.journal().into_iter().filter_map(|e| e.callback.and_then(|c| c.error)).collect();
        if !errors.is_empty() {
            assert!(errors[0].contains("plain http only"), "{errors:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no callback error journaled: {:#?}", mock.journal());
}
