//! The accounts API of `serve --accounts`, over HTTP: each security rule has a test
//! here that fails without it.

use std::time::Duration;

use entity::account_token;
use entity::prelude::*;
use reqwest::StatusCode;
use sagasync::profiles::throttle::ThrottleRules;
use sagasync::serve::ServeOptions;
use sagasync::serve::accounts::AccountsOptions;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::console::Console;
use crate::helpers::{TestDb, assert_ok, run_with_stdin, sagasync};
use crate::on_every_backend;
use crate::profiles::PASSWORD;

/// The accounts API with `rules`.
async fn start(db: &TestDb, throttle: ThrottleRules) -> Console {
    let accounts = AccountsOptions {
        throttle,
        ..AccountsOptions::default()
    };
    Console::start_with(
        db,
        ServeOptions {
            accounts: Some(accounts),
        },
    )
    .await
}

/// Rules that lock fast and unlock after a second, without delays.
fn quick_rules() -> ThrottleRules {
    ThrottleRules {
        free_failures: 2,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(100),
        account_lock_after: 4,
        address_lock_after: 6,
        lock_for: Duration::from_secs(1),
        ..ThrottleRules::default()
    }
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

async fn call(
    c: &Console,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut r = c.http.request(method, format!("{}{path}", c.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("the server answers");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

async fn register(c: &Console, email: &str) -> Reply {
    call(
        c,
        "POST",
        "/api/register",
        None,
        Some(json!({"email": email, "name": "Ana Lima", "password": PASSWORD})),
    )
    .await
}

async fn login(c: &Console, email: &str, password: &str) -> Reply {
    call(
        c,
        "POST",
        "/api/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn token_of(c: &Console, email: &str) -> String {
    let r = login(c, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["token"].as_str().expect("a token").to_owned()
}

async fn accounts_api_registers_logs_in_and_keeps_each_profile_to_its_owner(db: TestDb) {
    let c = start(&db, ThrottleRules::default()).await;
    // Registration: every input checked, password rules said, the password never answered.
    let r = call(
        &c,
        "POST",
        "/api/register",
        None,
        Some(json!({"email": "a@b.fr", "name": "A", "password": "short"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]
            .as_str()
            .expect("an error")
            .contains("12 to 128 characters"),
        "{}",
        r.text
    );
    let r = call(
        &c,
        "POST",
        "/api/register",
        None,
        Some(json!({"email": "nope", "name": "A", "password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("`email` must be"), "{}", r.text);
    let r = call(
        &c,
        "POST",
        "/api/register",
        None,
        Some(json!({"email": "a@b.fr", "name": "A", "password": PASSWORD, "admin": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("unknown field `admin`"), "{}", r.text);
    let r = register(&c, "Ana@Example.org").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        !r.text.contains(PASSWORD) && !r.text.contains("argon2"),
        "{}",
        r.text
    );
    assert_eq!(
        register(&c, "ana@example.ORG").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        register(&c, "bob@example.org").await.status,
        StatusCode::CREATED
    );

    // Login: a random token, stored only as its SHA-256.
    let ana = token_of(&c, "ANA@example.org").await;
    let bob = token_of(&c, "bob@example.org").await;
    assert_eq!(ana.len(), 64);
    assert_ne!(ana, token_of(&c, "ana@example.org").await);
    let conn = db.open().await;
    let stored: Vec<String> = AccountToken::find()
        .all(&conn)
        .await
        .expect("read")
        .into_iter()
        .map(|t| t.token_hash)
        .collect();
    assert!(!stored.contains(&ana), "a plaintext token is stored");
    assert!(stored.contains(&sagasync::profiles::auth::token_hash(&ana)));
    assert_eq!(
        login(&c, "ana@example.org", "a wrong passphrase!")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // /api/me needs a valid bearer token.
    let r = call(&c, "GET", "/api/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&"0".repeat(64)), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let me = call(&c, "GET", "/api/me", Some(&ana), None).await;
    assert_eq!(me.body["email"], "Ana@Example.org", "{}", me.text);
    assert!(
        !me.text.contains("password") && !me.text.contains("argon2"),
        "{}",
        me.text
    );
    let r = call(
        &c,
        "PUT",
        "/api/me",
        Some(&ana),
        Some(json!({"email": "ana@example.org", "name": "Ana L.", "phone": "06 12 34 56 78"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Ana L.");
    let r = call(
        &c,
        "PUT",
        "/api/me",
        Some(&ana),
        Some(json!({"email": "bob@example.org", "name": "Ana"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = call(
        &c,
        "PUT",
        "/api/me",
        Some(&ana),
        Some(json!({"email": "ana@example.org", "name": "Ana", "phone": "call me"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("`phone` must be"), "{}", r.text);

    // The sub-resources: create, list, replace, delete; bad input is a 400 naming it.
    let s = call(
        &c,
        "POST",
        "/api/me/skills",
        Some(&ana),
        Some(json!({"label": "Service en salle"})),
    )
    .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let skill_id = s.body["id"].as_i64().expect("an id");
    let e = call(&c, "POST", "/api/me/experiences", Some(&ana), Some(json!({"title": "Serveuse", "employer": "Café", "rome_code": "g1803", "start_date": "2021-03-01"}))).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    assert_eq!(e.body["rome_code"], "G1803");
    let exp_id = e.body["id"].as_i64().expect("an id");
    let r = call(
        &c,
        "POST",
        "/api/me/experiences",
        Some(&ana),
        Some(json!({"title": "Cook", "start_date": "2021-02-30"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("`start_date` must be a date"), "{}", r.text);
    let ed = call(
        &c,
        "POST",
        "/api/me/education",
        Some(&ana),
        Some(
            json!({"degree": "CAP Cuisine", "school": "Lycée Hôtelier", "end_date": "2019-06-30"}),
        ),
    )
    .await;
    assert_eq!(ed.status, StatusCode::CREATED, "{}", ed.text);
    let edu_id = ed.body["id"].as_i64().expect("an id");
    let r = call(
        &c,
        "PUT",
        &format!("/api/me/skills/{skill_id}"),
        Some(&ana),
        Some(json!({"label": "Accueil"})),
    )
    .await;
    assert_eq!(r.body["label"], "Accueil", "{}", r.text);
    assert_eq!(
        call(
            &c,
            "PUT",
            "/api/me/skills/x",
            Some(&ana),
            Some(json!({"label": "A"}))
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    // Bob can neither read nor change nor delete any of Ana's rows.
    assert_eq!(
        call(&c, "GET", "/api/me/skills", Some(&bob), None)
            .await
            .body,
        json!([])
    );
    for (path, body) in [
        (
            format!("/api/me/skills/{skill_id}"),
            json!({"label": "Pirate"}),
        ),
        (
            format!("/api/me/experiences/{exp_id}"),
            json!({"title": "Pirate", "start_date": "2020-01-01"}),
        ),
        (
            format!("/api/me/education/{edu_id}"),
            json!({"degree": "Pirate"}),
        ),
    ] {
        assert_eq!(
            call(&c, "PUT", &path, Some(&bob), Some(body)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            call(&c, "DELETE", &path, Some(&bob), None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let skills = call(&c, "GET", "/api/me/skills", Some(&ana), None).await;
    assert_eq!(skills.body[0]["label"], "Accueil", "{}", skills.text);
    assert_eq!(
        call(&c, "GET", "/api/me/experiences", Some(&ana), None)
            .await
            .body[0]["title"],
        "Serveuse"
    );
    assert_eq!(
        call(&c, "GET", "/api/me/education", Some(&ana), None)
            .await
            .body[0]["degree"],
        "CAP Cuisine"
    );
    assert_eq!(
        call(
            &c,
            "DELETE",
            &format!("/api/me/education/{edu_id}"),
            Some(&ana),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );

    // Bodies are capped.
    let big = json!({"label": "x".repeat(20 * 1024)});
    assert_eq!(
        call(&c, "POST", "/api/me/skills", Some(&ana), Some(big))
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Logout revokes the token, and only it.
    assert_eq!(
        call(&c, "POST", "/api/logout", Some(&ana), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&ana), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&bob), None).await.status,
        StatusCode::OK
    );
    c.shutdown().await;
}

async fn tokens_expire_and_die_with_a_new_password_or_a_disabled_account(db: TestDb) {
    let c = start(&db, ThrottleRules::default()).await;
    assert_eq!(
        register(&c, "ana@example.org").await.status,
        StatusCode::CREATED
    );
    let conn = db.open().await;

    // Expired: the row's expiry in the past.
    let t = token_of(&c, "ana@example.org").await;
    AccountToken::update_many()
        .col_expr(
            account_token::Column::ExpiresAt,
            Instant(chrono::Utc::now() - chrono::Duration::seconds(1)).into(),
        )
        .filter(account_token::Column::TokenHash.eq(sagasync::profiles::auth::token_hash(&t)))
        .exec(&conn)
        .await
        .expect("expired");
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&t), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A new password through the API revokes every token, the caller's included.
    let t1 = token_of(&c, "ana@example.org").await;
    let t2 = token_of(&c, "ana@example.org").await;
    let new = "another long passphrase";
    let r = call(
        &c,
        "PUT",
        "/api/me/password",
        Some(&t1),
        Some(json!({"current_password": "wrong wrong wrong", "new_password": new})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = call(
        &c,
        "PUT",
        "/api/me/password",
        Some(&t1),
        Some(json!({"current_password": PASSWORD, "new_password": new})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for t in [&t1, &t2] {
        assert_eq!(
            call(&c, "GET", "/api/me", Some(t), None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&c, "ana@example.org", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // ...and so does one set from the command line.
    let t3 = login(&c, "ana@example.org", new).await.body["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_ok(&run_with_stdin(
        sagasync(&db).args(["profiles", "set-password", "ana@example.org"]),
        &format!("{PASSWORD}\n"),
    ));
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&t3), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A disabled account loses its tokens and cannot log in.
    let t4 = token_of(&c, "ana@example.org").await;
    assert_ok(&run_with_stdin(
        sagasync(&db).args(["profiles", "disable", "ana@example.org"]),
        "",
    ));
    assert_eq!(
        call(&c, "GET", "/api/me", Some(&t4), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&c, "ana@example.org", PASSWORD).await.status,
        StatusCode::FORBIDDEN
    );
    c.shutdown().await;
}

async fn failed_logins_are_slowed_then_locked_per_account_and_per_address(db: TestDb) {
    let c = start(&db, quick_rules()).await;
    assert_eq!(
        register(&c, "ana@example.org").await.status,
        StatusCode::CREATED
    );
    let wrong = "not the passphrase!";
    // Failures 3 and 4 are answered late; the 4th locks the account.
    let mut took = Vec::new();
    for _ in 0..4 {
        let start = std::time::Instant::now();
        assert_eq!(
            login(&c, "ana@example.org", wrong).await.status,
            StatusCode::UNAUTHORIZED
        );
        took.push(start.elapsed());
    }
    assert!(
        took[3] >= Duration::from_millis(100),
        "no growing delay: {took:?}"
    );
    // Locked: even the right password is refused, with Retry-After.
    let r = login(&c, "ANA@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    // Unlocked after lock_for.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        login(&c, "ana@example.org", PASSWORD).await.status,
        StatusCode::OK
    );

    // One address trying many accounts is locked too (6 failures here).
    for i in 0..2 {
        assert_eq!(
            login(&c, &format!("nobody{i}@example.org"), wrong)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login(&c, "someone@example.org", wrong).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address's failures add up: {}",
        r.text
    );
    assert!(r.headers.get("retry-after").is_some());
    c.shutdown().await;
}

on_every_backend!(
    accounts_api_registers_logs_in_and_keeps_each_profile_to_its_owner,
    tokens_expire_and_die_with_a_new_password_or_a_disabled_account,
    failed_logins_are_slowed_then_locked_per_account_and_per_address,
    recommendations_are_the_callers_and_rank_as_the_command,
);

#[tokio::test]
async fn without_accounts_the_server_has_no_account_route() {
    let Some(db) = TestDb::create(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let c = Console::start(&db).await;
    for path in ["/api/register", "/api/login"] {
        let r = call(
            &c,
            "POST",
            path,
            None,
            Some(json!({"email": "a@b.fr", "password": PASSWORD, "name": "A"})),
        )
        .await;
        assert!(
            matches!(r.status.as_u16(), 404 | 405),
            "{path}: {}",
            r.status
        );
    }
    assert_eq!(
        call(&c, "GET", "/api/me", None, None).await.status,
        StatusCode::NOT_FOUND
    );
    let conn = db.open().await;
    assert!(Account::find().all(&conn).await.expect("read").is_empty());
    c.shutdown().await;
}

/// `GET /api/me/recommendations` ranks as `sagasync recommend --profile` does, for the
/// caller's own profile only, and names a bad parameter.
async fn recommendations_are_the_callers_and_rank_as_the_command(db: TestDb) {
    crate::inspect::fill(&db);
    let c = start(&db, ThrottleRules::default()).await;
    // The busiest job's two most asked skills.
    let jobs = c.json("/api/rome?limit=1").await;
    let rome = jobs["items"][0]["rome_code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let profile = c.json(&format!("/api/job_details/{rome}")).await;
    let asked: Vec<String> = (0..2)
        .filter_map(|i| profile["skills"][i]["libelle"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(asked.len(), 2, "{profile}");

    assert_eq!(
        register(&c, "ana@example.org").await.status,
        StatusCode::CREATED
    );
    let ana = token_of(&c, "ana@example.org").await;
    let empty = call(&c, "GET", "/api/me/recommendations", Some(&ana), None).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text);
    assert!(empty.text.contains("no skill"), "{}", empty.text);
    for skill in &asked {
        let r = call(
            &c,
            "POST",
            "/api/me/skills",
            Some(&ana),
            Some(json!({ "label": skill })),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    let got = call(
        &c,
        "GET",
        "/api/me/recommendations?limit=5",
        Some(&ana),
        None,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.body[0]["rome_code"], rome.as_str(), "{}", got.text);
    let out = crate::helpers::run(sagasync(&db).args([
        "recommend",
        "--profile",
        "ana@example.org",
        "--limit",
        "5",
        "--format",
        "json",
    ]));
    assert_ok(&out);
    let cli: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(got.body, cli, "the API ranks as the command");

    // Another account's recommendations are its own (none: an empty profile).
    assert_eq!(
        register(&c, "bob@example.org").await.status,
        StatusCode::CREATED
    );
    let bob = token_of(&c, "bob@example.org").await;
    let r = call(&c, "GET", "/api/me/recommendations", Some(&bob), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = call(&c, "GET", "/api/me/recommendations", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for (query, says) in [
        ("?distance=10", "`distance` needs a `commune`"),
        ("?commune=75056&distance=far", "`distance`"),
        ("?limit=0", "`limit`"),
        ("?colour=red", "unknown parameter `colour`"),
        (
            "?commune=00000",
            "no stored offer with a position is in commune 00000",
        ),
    ] {
        let r = call(
            &c,
            "GET",
            &format!("/api/me/recommendations{query}"),
            Some(&ana),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
        assert!(r.text.contains(says), "{query}: {}", r.text);
    }
    c.shutdown().await;
}
