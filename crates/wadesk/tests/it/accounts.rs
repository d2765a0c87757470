//! Accounts and sessions: login, cookies, CSRF, throttling, disabling, token revocation.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use wadesk::{
    clock::{Clock, SystemClock},
    store::{Role, Store},
};

use crate::{db::backend_tests, helpers::TestApp};

pub async fn add_user(app: &TestApp, name: &str, password: &str, role: Role) {
    let store = Store::connect(&app.db.url, &Default::default())
        .await
        .unwrap();
    wadesk::auth::create_user(&store, name, password, role, SystemClock.now())
        .await
        .unwrap();
}

/// Logs in; returns the session cookie (`wadesk_session=…`) and the full Set-Cookie header.
pub async fn login(
    app: &TestApp,
    name: &str,
    password: &str,
) -> (StatusCode, Option<String>, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let set = r
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, set, r.json().await.unwrap_or(Value::Null))
}

fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// A same-origin browser request with the session cookie.
fn browser(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
) -> reqwest::RequestBuilder {
    app.http
        .request(method, app.url(path))
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, format!("http://{}", app.addr))
}

backend_tests! {
    async fn a_session_cookie_signs_in_and_logout_ends_it(db: Db) {
        let app = TestApp::spawn_on(db).await;
        add_user(&app, "ana", "correct horse battery", Role::Agent).await;
        let (s, set, body) = login(&app, "ana", "correct horse battery").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["username"], "ana");
        assert_eq!(body["user"]["role"], "agent");
        let set = set.unwrap();
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(flag), "{set}");
        }
        assert!(!set.contains("Secure"), "plain http here: {set}");
        let cookie = cookie_of(&set);
        let me = browser(&app, reqwest::Method::GET, "/api/v1/auth/me", &cookie).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        let conversations = browser(&app, reqwest::Method::GET, "/api/v1/conversations", &cookie).send().await.unwrap();
        assert_eq!(conversations.status(), StatusCode::OK, "the API takes a session as well as a token");
        // A message sent by an agent carries the agent's name.
        app.customer_says("hi").await;
        let sent: Value = browser(&app, reqwest::Method::POST, "/api/v1/messages", &cookie)
            .json(&json!({"to": format!("+{}", crate::helpers::CUSTOMER), "type": "text", "text": {"body": "hello"}}))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(sent["author"], "user:ana");

        let out = browser(&app, reqwest::Method::POST, "/api/v1/auth/logout", &cookie).send().await.unwrap();
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        let cleared = out.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let me = browser(&app, reqwest::Method::GET, "/api/v1/auth/me", &cookie).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "the session is gone server-side");
    }

    async fn wrong_passwords_and_unknown_users_get_the_same_answer(db: Db) {
        let app = TestApp::spawn_on(db).await;
        add_user(&app, "ana", "correct horse battery", Role::Agent).await;
        let (s1, set1, b1) = login(&app, "ana", "wrong password").await;
        let (s2, _, b2) = login(&app, "nobody", "wrong password").await;
        assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
        assert_eq!(b1, b2, "no hint which usernames exist");
        assert!(set1.is_none());
    }

    async fn cross_site_posts_with_a_session_are_refused(db: Db) {
        let app = TestApp::spawn_on(db).await;
        add_user(&app, "ana", "correct horse battery", Role::Admin).await;
        let (_, set, _) = login(&app, "ana", "correct horse battery").await;
        let cookie = cookie_of(&set.unwrap());
        app.customer_says("hi").await;
        let body = json!({"to": format!("+{}", crate::helpers::CUSTOMER), "type": "text", "text": {"body": "x"}});
        let evil = app.http.post(app.url("/api/v1/messages")).header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "https://evil.example").json(&body).send().await.unwrap();
        assert_eq!(evil.status(), StatusCode::FORBIDDEN);
        let form = app.http.post(app.url("/api/v1/outbox/resume")).header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "cross-site").send().await.unwrap();
        assert_eq!(form.status(), StatusCode::FORBIDDEN, "a cross-site form post");
        let bare = app.http.post(app.url("/api/v1/outbox/resume")).header(header::COOKIE, &cookie).send().await.unwrap();
        assert_eq!(bare.status(), StatusCode::FORBIDDEN, "no origin at all");
        let ours = browser(&app, reqwest::Method::POST, "/api/v1/outbox/resume", &cookie).send().await.unwrap();
        assert_eq!(ours.status(), StatusCode::OK);
        let fetch = app.http.post(app.url("/api/v1/outbox/resume")).header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "same-origin").send().await.unwrap();
        assert_eq!(fetch.status(), StatusCode::OK);
        let reads = app.http.get(app.url("/api/v1/conversations")).header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "https://evil.example").send().await.unwrap();
        assert_eq!(reads.status(), StatusCode::OK, "reads are not state changes");
        let login_csrf = app.http.post(app.url("/api/v1/auth/login")).header(header::ORIGIN, "https://evil.example")
            .json(&json!({"username": "ana", "password": "correct horse battery"})).send().await.unwrap();
        assert_eq!(login_csrf.status(), StatusCode::FORBIDDEN);
        let (_, after, _) = login(&app, "ana", "correct horse battery").await;
        assert!(after.is_some(), "API clients without Origin still log in");
        let _ = app.sim.sends();
    }

    async fn repeated_failed_logins_are_slowed_down(db: Db) {
        let app = TestApp::spawn_on(db).await;
        add_user(&app, "ana", "correct horse battery", Role::Agent).await;
        for _ in 0..5 {
            assert_eq!(login(&app, "ana", "guess").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login(&app, "ana", "guess").await.0, StatusCode::UNAUTHORIZED, "the sixth is still checked");
        let r = app.http.post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "ana", "password": "correct horse battery"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        assert!(r.headers().get(header::RETRY_AFTER).is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_attempts");
        add_user(&app, "bo", "another good password", Role::Agent).await;
        assert_eq!(login(&app, "bo", "another good password").await.0, StatusCode::OK, "other accounts are not locked");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(login(&app, "ana", "correct horse battery").await.0, StatusCode::OK, "after the wait");
    }

    async fn admins_manage_accounts_and_disabling_ends_sessions(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, v) = app.post_as("/api/v1/users", &json!({"username": "bo", "password": "short"}), &app.admin, None).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("weak_password")));
        let (s, v) = app.post_as("/api/v1/users", &json!({"username": "bo", "password": "long enough pw"}), &app.admin, None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["user"]["id"].as_i64().unwrap();
        let (s, _) = app.post_as("/api/v1/users", &json!({"username": "bo", "password": "long enough pw"}), &app.admin, None).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app.post("/api/v1/users", &json!({"username": "eve", "password": "long enough pw"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "agents cannot add users");
        let (_, set, _) = login(&app, "bo", "long enough pw").await;
        let cookie = cookie_of(&set.unwrap());
        let r = app.http.patch(app.url(&format!("/api/v1/users/{id}"))).bearer_auth(&app.admin)
            .json(&json!({"disabled": true})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let me = browser(&app, reqwest::Method::GET, "/api/v1/auth/me", &cookie).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "disabling ends the session");
        assert_eq!(login(&app, "bo", "long enough pw").await.0, StatusCode::UNAUTHORIZED);
        let r = app.http.patch(app.url(&format!("/api/v1/users/{id}"))).bearer_auth(&app.admin)
            .json(&json!({"disabled": false, "password": "a new password"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(login(&app, "bo", "a new password").await.0, StatusCode::OK);
        let (_, list) = app.get_as("/api/v1/users", &app.admin).await;
        assert_eq!(list["users"][0]["username"], "bo");
        assert!(list["users"][0].get("password_hash").is_none());
    }

    async fn a_revoked_token_stops_working_at_once(db: Db) {
        let app = TestApp::spawn_on(db).await;
        let (s, v) = app.post_as("/api/v1/tokens", &json!({"name": "zapier", "role": "agent"}), &app.admin, None).await;
        assert_eq!(s, StatusCode::CREATED);
        let token = v["token"].as_str().unwrap().to_owned();
        assert_eq!(app.get_as("/api/v1/conversations", &token).await.0, StatusCode::OK);
        let (_, list) = app.get_as("/api/v1/tokens", &app.admin).await;
        let id = list["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "zapier").unwrap()["id"].as_i64().unwrap();
        assert!(list.to_string().find(&token).is_none(), "the secret is never listed");
        let r = app.http.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let (s, e) = app.get_as("/api/v1/conversations", &token).await;
        assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
        let r = app.http.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "already revoked");
    }
}

backend_tests! {
    async fn an_expired_session_is_refused(db: Db) {
        let app = TestApp::spawn_on(db).await;
        add_user(&app, "ana", "correct horse battery", Role::Agent).await;
        let store = Store::connect(&app.db.url, &Default::default()).await.unwrap();
        let (user, _) = store.user_for_login("ana").await.unwrap().unwrap();
        let now = SystemClock.now();
        let hash = wadesk::auth::token_hash("old-session");
        store.create_session(&hash, user.id, now.plus_millis(-10_000), now.plus_millis(-1)).await.unwrap();
        let me = browser(&app, reqwest::Method::GET, "/api/v1/auth/me", "wadesk_session=old-session").send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
}
