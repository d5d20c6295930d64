//! The API in-process (`app().oneshot`): authentication codes, validation, the task
//! lifecycle on the admin clock, the CDN, the account, every resource, bad input and
//! the journal's contents.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{Answer, create_t2v, get, mock, post, send};
use kling_api::jwt;
use kling_mock::{EntryKind, MockConfig, fingerprint};
use serde_json::{Value, json};

fn now_secs(state: &kling_mock::MockState) -> i64 {
    state.clock_ms() / 1000
}

fn t2v() -> Value {
    json!({"model_name": "kling-v1", "prompt": "a red fox running through fresh snow", "duration": "5"})
}

async fn create_with_header(app: &axum::Router, authorization: Option<&str>) -> Answer {
    let mut b = Request::post("/v1/videos/text2video").header(header::CONTENT_TYPE, "application/json");
    if let Some(a) = authorization {
        b = b.header(header::AUTHORIZATION, a);
    }
    send(app, b.body(Body::from(t2v().to_string())).unwrap()).await
}

#[tokio::test]
async fn every_authentication_failure_has_its_code() {
    let (app, state) = mock(MockConfig::default());
    let now = now_secs(&state);
    let good = state.token();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = |exp: i64, nbf: i64| json!({"iss": "ak-test", "exp": exp, "nbf": nbf});

    create_with_header(&app, None).await.expect(401, 1001);
    create_with_header(&app, Some("")).await.expect(401, 1001);
    create_with_header(&app, Some(&format!("Token {good}"))).await.expect(401, 1002).mentions("Bearer");
    create_with_header(&app, Some(&format!("Bearer  {good}"))).await.expect(401, 1002);
    create_with_header(&app, Some(&format!("bearer {good}"))).await.expect(401, 1002);
    create_with_header(&app, Some("Bearer not.a.jwt")).await.expect(401, 1002);
    create_with_header(&app, Some("Bearer garbage")).await.expect(401, 1002);

    let none = jwt::encode(&json!({"alg": "none", "typ": "JWT"}), &claims(now + 600, now - 5), "sk-test");
    create_with_header(&app, Some(&format!("Bearer {none}"))).await.expect(401, 1002).mentions("HS256");
    let hs512 = jwt::encode(&json!({"alg": "HS512", "typ": "JWT"}), &claims(now + 600, now - 5), "sk-test");
    create_with_header(&app, Some(&format!("Bearer {hs512}"))).await.expect(401, 1002);
    let no_typ = jwt::encode(&json!({"alg": "HS256"}), &claims(now + 600, now - 5), "sk-test");
    create_with_header(&app, Some(&format!("Bearer {no_typ}"))).await.expect(401, 1002).mentions("typ");

    let wrong_sk = jwt::mint("ak-test", "not-the-secret", now);
    create_with_header(&app, Some(&format!("Bearer {wrong_sk}"))).await.expect(401, 1000).mentions("signature");
    let unknown_iss = jwt::mint("ak-nobody", "sk-test", now);
    create_with_header(&app, Some(&format!("Bearer {unknown_iss}"))).await.expect(401, 1000).mentions("ak-nobody");

    let future = jwt::encode(&header, &claims(now + 600, now + 300), "sk-test");
    create_with_header(&app, Some(&format!("Bearer {future}"))).await.expect(401, 1003);
    let expired = jwt::mint("ak-test", "sk-test", now - 1900);
    create_with_header(&app, Some(&format!("Bearer {expired}"))).await.expect(401, 1004).mentions("fresh token");

    create_with_header(&app, Some(&format!("Bearer {good}"))).await.expect(200, 0);
    // Moving the mock's clock past exp expires the same token.
    state.advance_clock(1801.0);
    create_with_header(&app, Some(&format!("Bearer {good}"))).await.expect(401, 1004);

    // A non-ASCII header is a malformed credential, not a crash.
    let raw = Request::post("/v1/videos/text2video")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap())
        .body(Body::from(t2v().to_string()))
        .unwrap();
    send(&app, raw).await.expect(401, 1002);

    // The journal keeps headers and claims, never a signature or a secret.
    let journal = serde_json::to_string(&state.journal()).unwrap();
    for token in [&good, &wrong_sk, &none] {
        let signature = token.rsplit('.').next().unwrap();
        if !signature.is_empty() {
            assert!(!journal.contains(signature), "a signature leaked into the journal");
        }
    }
    assert!(!journal.contains("sk-test"));
    let entries = state.journal();
    let typless = entries.iter().find(|e| e.auth_error.as_deref().is_some_and(|m| m.contains("typ"))).unwrap();
    assert_eq!(typless.jwt.as_ref().unwrap().header, *json!({"alg": "HS256"}).as_object().unwrap());
    assert_eq!(typless.authorization.as_deref(), Some("Bearer <jwt>"));
    let ok = entries.iter().find(|e| e.code == Some(0)).unwrap();
    assert_eq!(ok.jwt.as_ref().unwrap().fingerprint, kling_mock::token_fingerprint(&good));
    assert_eq!(ok.account.as_deref(), Some("ak-test"));
    let two_spaces = entries.iter().find(|e| e.authorization.as_deref() == Some("Bearer  <jwt>"));
    assert!(two_spaces.is_some());
}

#[tokio::test]
async fn text_to_video_validation_names_the_field() {
    let (app, state) = mock(MockConfig::default());
    let token = state.token();
    let create = |body: Value| {
        let app = app.clone();
        let token = token.clone();
        async move { send(&app, post("/v1/videos/text2video", Some(&token), &body)).await }
    };
    create(json!({"prompt": "a fox", "duration": 5})).await.expect(400, 1201).mentions("duration must be a string");
    create(json!({"prompt": "a fox", "model_name": "kling-v1", "duration": "7"}))
        .await
        .expect(400, 1201)
        .mentions("duration");
    create(json!({"prompt": "a fox", "model_name": "kling-v3", "duration": "7"})).await.expect(200, 0);
    create(json!({"prompt": "a fox", "model_name": "kling-v2-1"})).await.expect(400, 1201).mentions("does not serve");
    create(json!({"prompt": "a fox", "model_name": "kling-v9"})).await.expect(404, 1203).mentions("kling-v9");
    create(json!({"prompt": "x".repeat(2501)})).await.expect(400, 1201).mentions("prompt");
    create(json!({"duration": "5"})).await.expect(400, 1200).mentions("prompt is required");
    create(json!({"prompt": "a fox", "cfg_scale": 2})).await.expect(400, 1201).mentions("cfg_scale");
    create(json!({"prompt": "a fox", "mode": "ultra"})).await.expect(400, 1201).mentions("mode");
    create(json!({"prompt": "a fox", "aspect_ratio": "4:3"})).await.expect(400, 1201).mentions("aspect_ratio");
    create(json!({"prompt": "a fox", "sound": "on"})).await.expect(400, 1201).mentions("sound");
    create(json!({"prompt": "a fox", "callback_url": "ftp://x"})).await.expect(400, 1201).mentions("callback_url");
    create(json!({"prompt": "a fox", "camera_control": {"type": "simple", "config": {"zoom": 11}}}))
        .await
        .expect(400, 1201)
        .mentions("camera_control");
    create(json!(["not", "an", "object"])).await.expect(400, 1200).mentions("JSON object");
}

#[tokio::test]
async fn image_to_video_rules() {
    let (app, state) = mock(MockConfig::default());
    let token = state.token();
    let create = |body: Value| {
        let app = app.clone();
        let token = token.clone();
        async move { send(&app, post("/v1/videos/image2video", Some(&token), &body)).await }
    };
    create(json!({"image": "https://img.example/a.png", "model_name": "kling-v2-1"})).await.expect(200, 0);
    create(json!({"image": "iVBORw0KGgoAAAANSUhEUg==", "model_name": "kling-v1-5"})).await.expect(200, 0);
    create(json!({"prompt": "no image"})).await.expect(400, 1200).mentions("image");
    create(json!({"image": "data:image/png;base64,iVBORw0KGgo="})).await.expect(400, 1201).mentions("data:");
    create(
        json!({"image": "https://x/a.png", "image_tail": "https://x/b.png", "camera_control": {"type": "down_back"}}),
    )
    .await
    .expect(400, 1201)
    .mentions("cannot be combined");
    create(json!({"image": "https://x/a.png", "static_mask": "https://x/m.png", "image_tail": "https://x/b.png"}))
        .await
        .expect(400, 1201);
    create(json!({"image": "https://x/a.png", "dynamic_masks": (0..7).map(|_| json!({"mask": "https://x/m.png", "trajectories": []})).collect::<Vec<_>>()}))
        .await
        .expect(400, 1201)
        .mentions("dynamic_masks");
}

#[tokio::test]
async fn lifecycle_query_list_and_the_expiring_cdn() {
    let (app, state) = mock(MockConfig::default());
    let token = state.token();
    let created = send(
        &app,
        post(
            "/v1/videos/text2video",
            Some(&token),
            &json!({"prompt": "a fox", "external_task_id": "order-17", "duration": "10", "model_name": "kling-v2-6"}),
        ),
    )
    .await;
    created.expect(200, 0);
    let data = created.data();
    assert_eq!(data["task_status"], "submitted");
    assert_eq!(data["task_info"]["external_task_id"], "order-17");
    assert!(data["created_at"].as_i64().unwrap() > 1_600_000_000_000, "times are in ms");
    let id = data["task_id"].as_str().unwrap().to_owned();

    let query = |id: String| {
        let app = app.clone();
        let token = token.clone();
        async move { send(&app, get(&format!("/v1/videos/text2video/{id}"), Some(&token))).await }
    };
    assert_eq!(query(id.clone()).await.data()["task_status"], "submitted");
    state.advance_clock(1.0);
    assert_eq!(query(id.clone()).await.data()["task_status"], "processing");
    state.advance_clock(1.5);
    let done = query("order-17".into()).await;
    done.expect(200, 0);
    assert_eq!(done.data()["task_status"], "succeed");
    assert_eq!(done.data()["task_id"], id.as_str());
    let video = &done.data()["task_result"]["videos"][0];
    assert_eq!(video["duration"], "10", "duration is a string");
    let url = video["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1/cdn/"), "{url}");
    let path = url.trim_start_matches("http://127.0.0.1");

    let download = send(&app, get(path, None)).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.headers[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(&download.bytes[4..8], b"ftyp");
    let cdn = state.journal().into_iter().rfind(|e| e.kind == EntryKind::Cdn).unwrap();
    assert_eq!(cdn.cdn.as_ref().unwrap().sha256.as_deref(), Some(fingerprint(&download.bytes).as_str()));
    assert_eq!(cdn.task_id.as_deref(), Some(id.as_str()));

    // Tampering with the URL is refused; after the TTL the URL is refused too, but a
    // re-query hands out a fresh one.
    send(&app, get(&path.replace("sig=", "sig=00"), None)).await.expect(403, 1103).mentions("signature");
    state.advance_clock(3601.0);
    send(&app, get(path, None)).await.expect(403, 1103).mentions("expired");
    let token = state.token();
    let again = send(&app, get(&format!("/v1/videos/text2video/{id}"), Some(&token))).await;
    let fresh = again.data()["task_result"]["videos"][0]["url"].as_str().unwrap().to_owned();
    assert_ne!(fresh, url);
    assert_eq!(send(&app, get(fresh.trim_start_matches("http://127.0.0.1"), None)).await.status, 200);

    // The same external_task_id is refused; unknown ids are 404/1203.
    send(
        &app,
        post("/v1/videos/text2video", Some(&token), &json!({"prompt": "again", "external_task_id": "order-17"})),
    )
    .await
    .expect(400, 1201)
    .mentions("already used");
    send(&app, get("/v1/videos/text2video/404040404", Some(&token))).await.expect(404, 1203);
    // A task of one resource is not found on another.
    send(&app, get(&format!("/v1/videos/image2video/{id}"), Some(&token))).await.expect(404, 1203);
}

#[tokio::test]
async fn listing_pages_newest_first_and_refuses_absurd_paging() {
    let (app, state) = mock(MockConfig::default().with_concurrency_limit(10));
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(create_t2v(&app, &state, &json!({"prompt": format!("clip {i}")})).await);
    }
    let token = state.token();
    let page = send(&app, get("/v1/videos/text2video?pageNum=1&pageSize=2", Some(&token))).await;
    page.expect(200, 0);
    let listed: Vec<&str> = page.data().as_array().unwrap().iter().map(|t| t["task_id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
    let page2 = send(&app, get("/v1/videos/text2video?pageNum=2&pageSize=2", Some(&token))).await;
    assert_eq!(page2.data().as_array().unwrap().len(), 1);
    let empty = send(&app, get("/v1/videos/image2video", Some(&token))).await;
    assert_eq!(empty.data(), &json!([]));
    for bad in [
        "pageNum=0",
        "pageNum=1001",
        "pageSize=0",
        "pageSize=501",
        "pageSize=-3",
        "pageNum=abc",
        "pageSize=1e9",
        "pageNum=18446744073709551616",
    ] {
        let field = bad.split('=').next().unwrap();
        send(&app, get(&format!("/v1/videos/text2video?{bad}"), Some(&token))).await.expect(400, 1201).mentions(field);
    }
}

#[tokio::test]
async fn credits_concurrency_and_rate_limits() {
    // kling-v1, std, 5 s costs 1 unit.
    let (app, state) = mock(MockConfig::default().with_credits(1.0));
    create_t2v(&app, &state, &t2v()).await;
    send(&app, post("/v1/videos/text2video", Some(&state.token()), &t2v()))
        .await
        .expect(429, 1102)
        .mentions("do not retry");
    assert_eq!(state.credits("ak-test"), Some(0.0));

    let (app, state) = mock(MockConfig::default().with_concurrency_limit(2));
    create_t2v(&app, &state, &t2v()).await;
    create_t2v(&app, &state, &t2v()).await;
    send(&app, post("/v1/videos/text2video", Some(&state.token()), &t2v())).await.expect(429, 1303);
    state.advance_clock(5.0);
    create_t2v(&app, &state, &t2v()).await;

    let (app, state) = mock(MockConfig::default().with_requests_per_second(2.0));
    let token = state.token();
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(send(&app, get("/v1/videos/text2video", Some(&token))).await.code());
    }
    assert_eq!(codes[..2], [0, 0]);
    assert!(codes[2..].contains(&1302), "{codes:?}");
}

#[tokio::test]
async fn a_failed_task_is_refunded_and_costs_report_the_pack() {
    let plan = kling_mock::FaultPlan::new().rule(kling_mock::FaultRule::new(
        kling_mock::Route::Create,
        kling_mock::Trigger::Always,
        kling_mock::Fault::fail("Failure to pass the risk control system"),
    ));
    let (app, state) = mock(MockConfig::default().with_faults(plan));
    let id = create_t2v(&app, &state, &json!({"prompt": "a fox", "model_name": "kling-v2-master"})).await;
    assert_eq!(state.credits("ak-test"), Some(990.0));
    state.advance_clock(3.0);
    let token = state.token();
    let task = send(&app, get(&format!("/v1/videos/text2video/{id}"), Some(&token))).await;
    assert_eq!(task.data()["task_status"], "failed");
    assert_eq!(task.data()["task_status_msg"], "Failure to pass the risk control system");
    assert!(task.data().get("task_result").is_none());
    assert_eq!(state.credits("ak-test"), Some(1000.0));

    let start = state.clock_ms() - 86_400_000;
    let end = state.clock_ms();
    let costs = send(&app, get(&format!("/account/costs?start_time={start}&end_time={end}"), Some(&token))).await;
    costs.expect(200, 0);
    let pack = &costs.data()["resource_pack_subscribe_infos"][0];
    assert_eq!(pack["remaining_quantity"], 1000.0);
    assert_eq!(pack["status"], "online");
    // One query per second; seconds instead of milliseconds; missing times.
    send(&app, get(&format!("/account/costs?start_time={start}&end_time={end}"), Some(&token))).await.expect(429, 1302);
    send(&app, get(&format!("/account/costs?start_time={}&end_time={}", start / 1000, end / 1000), Some(&token)))
        .await
        .expect(400, 1201)
        .mentions("milliseconds");
    send(&app, get("/account/costs", Some(&token))).await.expect(400, 1200).mentions("start_time");
}

#[tokio::test]
async fn every_resource_goes_through_the_same_mechanism() {
    let (app, state) = mock(MockConfig::default().with_concurrency_limit(20));
    let token = state.token();
    let t2v_id = create_t2v(&app, &state, &t2v()).await;
    state.advance_clock(3.0);
    let token2 = state.token();
    let done = send(&app, get(&format!("/v1/videos/text2video/{t2v_id}"), Some(&token2))).await;
    let video_id = done.data()["task_result"]["videos"][0]["id"].as_str().unwrap().to_owned();
    let token = if token == token2 { token } else { token2 };

    let cases = [
        ("images/generations", json!({"prompt": "a fox portrait", "n": 2, "model_name": "kling-v2"})),
        (
            "videos/multi-image2video",
            json!({"prompt": "a fox", "model_name": "kling-v1-6", "image_list": [{"image": "https://x/1.png"}, {"image": "https://x/2.png"}]}),
        ),
        ("videos/video-extend", json!({"video_id": video_id})),
        ("videos/lip-sync", json!({"input": {"video_id": video_id, "mode": "text2video", "text": "hello"}})),
        ("videos/effects", json!({"effect_scene": "hug", "input": {"image": "https://x/1.png"}})),
    ];
    let mut ids = Vec::new();
    for (path, body) in &cases {
        let a = send(&app, post(&format!("/v1/{path}"), Some(&token), body)).await;
        a.expect(200, 0);
        ids.push((path, a.data()["task_id"].as_str().unwrap().to_owned()));
    }
    send(&app, post("/v1/videos/video-extend", Some(&token), &json!({"video_id": "no-such-video"})))
        .await
        .expect(404, 1203)
        .mentions("video_id");
    send(&app, post("/v1/images/generations", Some(&token), &json!({"prompt": "x", "model_name": "kling-v2-master"})))
        .await
        .expect(400, 1201);
    state.advance_clock(3.0);
    let token = state.token();
    for (path, id) in ids {
        let a = send(&app, get(&format!("/v1/{path}/{id}"), Some(&token))).await;
        assert_eq!(a.data()["task_status"], "succeed", "{path}");
        if *path == "images/generations" {
            let images = a.data()["task_result"]["images"].as_array().unwrap();
            assert_eq!(images.len(), 2);
            let url = images[1]["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1").to_owned();
            assert!(url.contains(".png?"));
            let png = send(&app, get(&url, None)).await;
            assert_eq!(png.headers[header::CONTENT_TYPE], "image/png");
            assert_eq!(&png.bytes[1..4], b"PNG");
        } else {
            assert!(a.data()["task_result"]["videos"][0]["url"].is_string(), "{path}");
        }
    }
}

#[tokio::test]
async fn bad_input_always_gets_an_envelope() {
    let (app, state) = mock(MockConfig { max_body_bytes: 2048, ..MockConfig::default() });
    let token = state.token();
    let raw = |method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut b =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    send(&app, raw("POST", "/v1/videos/text2video", Some("application/json"), b"{\"prompt\": ".to_vec()))
        .await
        .expect(400, 1200)
        .mentions("not valid JSON");
    send(&app, raw("POST", "/v1/videos/text2video", Some("text/plain"), t2v().to_string().into_bytes()))
        .await
        .expect(400, 1200)
        .mentions("Content-Type");
    send(&app, raw("POST", "/v1/videos/text2video", None, t2v().to_string().into_bytes()))
        .await
        .expect(400, 1200)
        .mentions("missing");
    send(
        &app,
        raw("POST", "/v1/videos/text2video", Some("application/json; charset=utf-8"), t2v().to_string().into_bytes()),
    )
    .await
    .expect(200, 0);
    let huge = json!({"prompt": "a fox", "negative_prompt": "x".repeat(4000)}).to_string().into_bytes();
    send(&app, raw("POST", "/v1/videos/text2video", Some("application/json"), huge))
        .await
        .expect(400, 1200)
        .mentions("limit");
    send(&app, raw("POST", "/v1/videos/text2video", Some("application/json"), vec![0xff, 0xfe, 0x00]))
        .await
        .expect(400, 1200);
    send(&app, raw("GET", "/v1/videos/nope", None, vec![])).await.expect(404, 1203).mentions("no route");
    send(&app, raw("GET", "/", None, vec![])).await.expect(404, 1203);
    send(&app, raw("GET", "/v1/videos/text2video/a/b/c", None, vec![])).await.expect(404, 1203);
    send(&app, raw("DELETE", "/v1/videos/text2video", None, vec![])).await.expect(404, 1202).mentions("DELETE");
    send(&app, raw("PUT", "/v1/videos/text2video/123", None, vec![])).await.expect(404, 1202);
    send(&app, raw("POST", "/account/costs", None, vec![])).await.expect(404, 1202);
    send(&app, raw("GET", "/v1/videos/text2video/%FF%FE", None, vec![])).await.expect(404, 1203);
    send(&app, raw("GET", "/cdn/123/%FF.mp4", None, vec![])).await.expect(404, 1203);
    send(&app, raw("GET", "/cdn/123/abc.mp4?exp=1&sig=zz", None, vec![])).await.expect(403, 1103);
    send(&app, raw("GET", "/cdn/123/abc", None, vec![])).await.expect(404, 1203);
    // Every answer above was journaled as an API or CDN request.
    assert!(state.journal().len() >= 15);
}

#[tokio::test]
async fn the_journal_keeps_the_json_type_of_duration_and_a_body_summary() {
    let (app, state) = mock(MockConfig::default());
    let token = state.token();
    send(&app, post("/v1/videos/text2video", Some(&token), &json!({"prompt": "a fox", "duration": 5}))).await;
    send(
        &app,
        post(
            "/v1/videos/text2video",
            Some(&token),
            &json!({"prompt": "a fox in the snow at dawn", "duration": "5", "negative_prompt": "blur", "mode": "std",
                    "external_task_id": "e1", "callback_url": "http://127.0.0.1:9/cb"}),
        ),
    )
    .await;
    let j = state.journal();
    assert_eq!(j.len(), 2);
    let bad = j[0].body.as_ref().unwrap();
    assert_eq!(bad.duration, Some(json!(5)));
    assert!(!bad.negative_prompt);
    assert_eq!(j[0].code, Some(1201));
    assert_eq!(j[0].route, "create");
    assert_eq!(j[0].resource.as_deref(), Some("videos/text2video"));
    let good = j[1].body.as_ref().unwrap();
    assert_eq!(good.duration, Some(json!("5")));
    assert!(good.negative_prompt);
    assert_eq!(good.prompt_chars, Some(25));
    assert_eq!(good.external_task_id, Some(json!("e1")));
    assert_eq!(good.callback_url, Some(json!("http://127.0.0.1:9/cb")));
    assert_eq!(j[1].task_status.as_deref(), Some("submitted"));
    assert!(j[1].completed);
    assert!(j[1].t_ms >= j[0].t_ms);
    assert!(j[1].seq > j[0].seq);
    assert!(j[1].clock_s > 1_600_000_000);
    assert_eq!(j[1].conn, None, "no connection in-process");
}

#[tokio::test]
async fn token_expiry_mode_expires_tokens_seen_before_the_first_create() {
    let (app, state) = mock(MockConfig::default().with_token_expiry_after_first_create(true));
    let now = now_secs(&state);
    let first = jwt::mint("ak-test", "sk-test", now - 1);
    let id = {
        let a = send(&app, post("/v1/videos/text2video", Some(&first), &t2v())).await;
        a.expect(200, 0);
        a.data()["task_id"].as_str().unwrap().to_owned()
    };
    let poll = |token: String| {
        let app = app.clone();
        let id = id.clone();
        async move { send(&app, get(&format!("/v1/videos/text2video/{id}"), Some(&token))).await }
    };
    poll(first.clone()).await.expect(401, 1004).mentions("fresh token");
    let fresh = jwt::mint("ak-test", "sk-test", now + 1);
    poll(fresh.clone()).await.expect(200, 0);
    poll(fresh).await.expect(200, 0);
    let refused = state.journal().into_iter().find(|e| e.code == Some(1004)).unwrap();
    assert_eq!(refused.fault.unwrap().kind, "token-expiry");
}

#[tokio::test]
async fn the_admin_api_in_process() {
    let (app, state) = mock(MockConfig::default());
    send(&app, get("/__admin/health", None)).await.expect(200, 0);
    let id = create_t2v(&app, &state, &t2v()).await;
    let tasks = send(&app, get("/__admin/tasks", None)).await;
    assert_eq!(tasks.data()[0]["task_id"], id.as_str());
    assert_eq!(tasks.data()[0]["outcome"], "succeed");

    let clock = |body: &str| Request::post("/__admin/clock").body(Body::from(body.to_owned())).unwrap();
    let before = state.clock_ms();
    let moved = send(&app, clock(r#"{"advance_seconds": 60}"#)).await;
    moved.expect(200, 0);
    assert!(moved.data()["now_ms"].as_i64().unwrap() >= before + 60_000);
    send(&app, clock(r#"{"advance": 60}"#)).await.expect(400, 1200).mentions("advance_seconds");
    send(&app, clock(r#"{"advance_seconds": 1e300}"#)).await.expect(400, 1201);

    let faults = |body: &str| Request::post("/__admin/faults").body(Body::from(body.to_owned())).unwrap();
    let set = send(
        &app,
        faults(r#"{"rules": [{"route": "create", "first": 2, "fault": "error", "code": 1302, "retry_after": 3}]}"#),
    )
    .await;
    set.expect(200, 0);
    assert_eq!(set.data()["rules"][0]["rule"]["code"], 1302);
    send(&app, faults(r#"{"rules": [{"route": "create", "first": 2, "fault": "error"}]}"#))
        .await
        .expect(400, 1200)
        .mentions("code");
    send(&app, faults("not json")).await.expect(400, 1200);
    let limited = send(&app, post("/v1/videos/text2video", Some(&state.token()), &t2v())).await;
    limited.expect(429, 1302);
    assert_eq!(limited.headers[header::RETRY_AFTER], "3");
    assert_eq!(send(&app, get("/__admin/faults", None)).await.data()["rules"][0]["fired"], 1);

    let credits = Request::post("/__admin/credits").body(Body::from(r#"{"units": 0}"#)).unwrap();
    send(&app, credits).await.expect(200, 0);
    assert_eq!(state.credits("ak-test"), Some(0.0));

    let cdn_only = send(&app, get("/__admin/requests?kind=cdn", None)).await;
    assert_eq!(cdn_only.data(), &json!([]));
    let all = send(&app, get("/__admin/requests?limit=1", None)).await;
    assert_eq!(all.data().as_array().unwrap().len(), 1);
    send(&app, get("/__admin/requests?kind=nope", None)).await.expect(400, 1201);
    let openapi = send(&app, get("/__admin/openapi.json", None)).await;
    assert_eq!(openapi.json["openapi"], "3.0.3");

    send(&app, Request::post("/__admin/reset").body(Body::empty()).unwrap()).await.expect(200, 0);
    assert!(state.tasks().is_empty());
    assert!(state.journal().is_empty());
    assert_eq!(state.credits("ak-test"), Some(1000.0));
    assert!(state.faults().rules.is_empty());
    send(&app, get("/__admin/nothing", None)).await.expect(404, 1203);
    send(&app, Request::delete("/__admin/tasks").body(Body::empty()).unwrap())
        .await
        .expect(404, 1202)
        .mentions("admin");
}

#[tokio::test]
async fn an_admin_token_guards_the_admin_api() {
    let (app, _state) = mock(MockConfig { admin_token: Some("s3cret".into()), ..MockConfig::default() });
    send(&app, get("/__admin/health", None)).await.expect(403, 1103).mentions("admin_token");
    let ok =
        Request::get("/__admin/health").header(header::AUTHORIZATION, "Bearer s3cret").body(Body::empty()).unwrap();
    send(&app, ok).await.expect(200, 0);
}
