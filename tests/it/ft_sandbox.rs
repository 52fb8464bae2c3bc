//! The sandbox's France Travail part against UPSTREAM.md §3: the token exchange, the
//! search's statuses, `range` rules and filters, the split a full crawl needs, the rate
//! limit, determinism, the detail route, mutations and faults.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use sagasync::sandbox::france_travail::{DEFAULT_OFFERS, FranceTravailConfig};
use sagasync::sandbox::ft_data::{DEPARTEMENTS, fold};
use sagasync::sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::Value;

fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("a date")
}

fn config(seed: u64, offers: usize, rate_limit: u32) -> SandboxConfig {
    SandboxConfig {
        seed,
        categories: 5,
        products: 10,
        france_travail: FranceTravailConfig {
            offers,
            rate_limit,
            anchor: Some(anchor()),
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

/// What a call gave back.
struct Answer {
    status: u16,
    range: Option<String>,
    retry_after: Option<String>,
    text: String,
}

impl Answer {
    async fn of(r: reqwest::Response) -> Answer {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (range, retry_after) = (header("content-range"), header("retry-after"));
        let status = r.status().as_u16();
        let text = r.text().await.expect("a body");
        Answer {
            status,
            range,
            retry_after,
            text,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn total(&self) -> usize {
        let range = self.range.as_deref().expect("a Content-Range");
        let (_, total) = range.split_once('/').expect("offres p-d/total");
        total.parse().expect("a total")
    }

    fn results(&self) -> Vec<Value> {
        self.json()["resultats"]
            .as_array()
            .cloned()
            .expect("resultats")
    }
}

/// A sandbox with a client and a token.
struct Ft {
    sb: Sandbox,
    http: reqwest::Client,
    token: String,
}

impl Ft {
    async fn start(config: SandboxConfig) -> Ft {
        let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("the sandbox starts");
        let http = http();
        let mut ft = Ft {
            sb,
            http,
            token: String::new(),
        };
        let answer = ft.token_with(&ft.credentials()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        ft.token = answer.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned();
        ft
    }

    fn credentials(&self) -> String {
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=api_offresdemploiv2%20o2dsoffre",
            self.sb.ft_client_id(),
            self.sb.ft_client_secret()
        )
    }

    async fn token_with(&self, form: &str) -> Answer {
        let r = self
            .http
            .post(self.sb.ft_auth_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("an answer");
        Answer::of(r).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.http.get(format!("{}{path}", self.sb.ft_api_url()));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Answer::of(req.send().await.expect("an answer")).await
    }

    async fn search(&self, query: &str) -> Answer {
        self.get(&format!("/offres/search?{query}"), Some(&self.token))
            .await
    }

    /// Every offer of a query that fits the cap, page by page.
    async fn all(&self, query: &str) -> Vec<Value> {
        let mut offers = Vec::new();
        let mut first = 0;
        loop {
            let page = self
                .search(&format!("{query}&range={first}-{}", first + 149))
                .await;
            match page.status {
                204 => break,
                200 | 206 => {}
                s => panic!("{query}: {s} {}", page.text),
            }
            offers.extend(page.results());
            first += 150;
            if first >= page.total() {
                break;
            }
            assert!(first <= 3000, "{query} needs splitting");
        }
        offers
    }

    async fn ids(&self, query: &str) -> Vec<String> {
        let ids: Vec<String> = self.all(query).await.iter().map(id).collect();
        let oracle = self.sb.ft_offer_ids(query).await.expect("a valid query");
        assert_eq!(ids, oracle, "{query}: the API and the sandbox's data agree");
        ids
    }
}

fn id(offer: &Value) -> String {
    offer["id"].as_str().expect("an id").to_owned()
}

fn commune(offer: &Value) -> &str {
    offer["lieuTravail"]["commune"].as_str().unwrap_or_default()
}

fn api_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_exchange_follows_oauth2_client_credentials() {
    let ft = Ft::start(config(1, 200, 0)).await;
    assert!(
        ft.sb
            .ft_auth_url()
            .ends_with("/connexion/oauth2/access_token?realm=/partenaire")
    );
    assert!(ft.sb.ft_api_url().ends_with("/partenaire/offresdemploi/v2"));

    let good = ft.token_with(&ft.credentials()).await.json();
    assert_eq!(good["token_type"], "Bearer");
    assert_eq!(good["expires_in"], 1499);
    assert_eq!(good["scope"], "api_offresdemploiv2 o2dsoffre");
    assert_ne!(
        good["access_token"].as_str(),
        Some(ft.token.as_str()),
        "a new token each time"
    );

    let bad = format!(
        "grant_type=client_credentials&client_id={}&client_secret=wrong",
        ft.sb.ft_client_id()
    );
    let refused = ft.token_with(&bad).await;
    assert_eq!(
        (refused.status, &refused.json()["error"]),
        (401, &"invalid_client".into())
    );
    let missing = ft.token_with("client_id=a&client_secret=b").await;
    assert_eq!(
        (missing.status, &missing.json()["error"]),
        (400, &"invalid_request".into())
    );
    let other = ft
        .token_with(&ft.credentials().replace("client_credentials", "password"))
        .await;
    assert_eq!(
        (other.status, &other.json()["error"]),
        (400, &"unsupported_grant_type".into())
    );

    assert_eq!(ft.search("").await.status, 206);
    let none = ft.get("/offres/search", None).await;
    assert_eq!(none.status, 401);
    assert!(none.json()["message"].is_string());
    assert_eq!(ft.get("/offres/search", Some("forged")).await.status, 401);

    ft.sb.ft_expire_tokens();
    let expired = ft.search("").await;
    assert_eq!(expired.status, 401, "an expired token is refused");
    assert!(
        expired.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("expiré"))
    );
    let fresh = ft.token_with(&ft.credentials()).await.json();
    let token = fresh["access_token"].as_str().expect("a token");
    assert_eq!(ft.get("/offres/search", Some(token)).await.status, 206);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_206_200_or_204_with_a_content_range() {
    let ft = Ft::start(config(2, 1_000, 0)).await;
    let first = ft.search("").await;
    assert_eq!(first.status, 206);
    assert_eq!(first.range.as_deref(), Some("offres 0-149/1000"));
    assert_eq!(first.results().len(), 150);
    assert!(
        first.json()["filtresPossibles"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );

    let tail = ft.search("range=900-1049").await;
    assert_eq!(
        (tail.status, tail.range.as_deref()),
        (206, Some("offres 900-999/1000"))
    );
    assert_eq!(tail.results().len(), 100);

    let small = ft.search("departement=2A").await;
    let n = small.total();
    assert!((1..150).contains(&n), "{n}");
    assert_eq!(small.status, 200, "the whole result in one window");
    assert_eq!(small.range, Some(format!("offres 0-{}/{n}", n - 1)));
    assert_eq!(small.results().len(), n);
    assert_eq!(ft.search("departement=2A&range=1-149").await.status, 206);

    for query in ["motsCles=zzzqqq", "range=1000-1010", "departement=01"] {
        let nothing = ft.search(query).await;
        assert_eq!(
            (nothing.status, nothing.text.as_str()),
            (204, ""),
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400s_that_say_which_rule() {
    let ft = Ft::start(config(3, 300, 0)).await;
    let min = "minCreationDate=2026-11-01T00:00:00Z";
    let max = "maxCreationDate=2026-11-20T00:00:00Z";
    for (query, says) in [
        ("range=0-150", "inférieur ou égal à 150"),
        (
            "range=3001-3010",
            "début doit être inférieure ou égale à 3000",
        ),
        (
            "range=3000-3150",
            "fin doit être inférieure ou égale à 3149",
        ),
        ("range=20-10", "position de fin"),
        ("range=abc", "p-d"),
        (min, "ensemble"),
        (max, "ensemble"),
        ("publieeDepuis=5", "publieeDepuis"),
        (
            "minCreationDate=2026-11-01&maxCreationDate=2026-11-20T00:00:00Z",
            "yyyy-MM-ddTHH:mm:ssZ",
        ),
        ("commune=75111&distance=far", "distance"),
        ("natureContrat=Z9", "nature de contrat"),
        ("tempsPlein=oui", "tempsPlein"),
        ("entrepriseAdaptee=1", "entrepriseAdaptee"),
        ("salaireMin=1800", "ensemble"),
        ("periodeSalaire=M", "ensemble"),
        ("salaireMin=1800&periodeSalaire=W", "période de salaire"),
        ("salaireMin=beaucoup&periodeSalaire=M", "nombre entier"),
    ] {
        let answer = ft.search(query).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text);
        let body = answer.json();
        assert_eq!(body["codeHttp"], 400);
        assert!(body["codeErreur"].is_string());
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
    for fine in [
        "publieeDepuis=31",
        "sort=1",
        &format!("{min}&{max}"),
        "natureContrat=E1&tempsPlein=true&entrepriseAdaptee=false",
        "salaireMin=12&periodeSalaire=H",
    ] {
        assert_ne!(ft.search(fine).await.status, 400, "{fine}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_return_only_the_offers_that_match() {
    let ft = Ft::start(config(4, 2_000, 0)).await;
    let marseille = ft.all("departement=13").await;
    assert!(!marseille.is_empty());
    assert!(marseille.iter().all(|o| {
        commune(o).starts_with("13")
            && o["lieuTravail"]["libelle"]
                .as_str()
                .is_some_and(|l| l.starts_with("13 - "))
    }));
    let lyon = ft.ids("departement=69").await;
    assert_eq!(
        ft.ids("departement=13,69").await.len(),
        marseille.len() + lyon.len()
    );

    let eleventh = ft.all("commune=75111").await;
    assert!(!eleventh.is_empty() && eleventh.iter().all(|o| commune(o) == "75111"));
    let paris = ft.ids("departement=75").await;
    let by_commune = ft.all("commune=75056").await;
    assert_eq!(
        by_commune.len(),
        paris.len(),
        "75056 stands for every arrondissement"
    );
    let around = ft.all("commune=75111&distance=3").await;
    assert!(around.len() > eleventh.len() && around.len() < paris.len());
    assert!(around.iter().all(|o| commune(o).starts_with("75")));
    assert_eq!(ft.ids("region=11").await, paris);

    let cooks = ft.all("codeROME=G1602").await;
    assert!(!cooks.is_empty() && cooks.iter().all(|o| o["romeCode"] == "G1602"));
    let temp = ft.all("typeContrat=CDD,MIS").await;
    assert!(!temp.is_empty());
    assert!(
        temp.iter()
            .all(|o| o["typeContrat"] == "CDD" || o["typeContrat"] == "MIS")
    );

    let developers = ft.ids("motsCles=developpeur").await;
    assert!(!developers.is_empty());
    assert_eq!(
        ft.ids("motsCles=D%C3%89VELOPPEUR").await,
        developers,
        "accent- and case-insensitive"
    );
    for (query, words) in [
        ("motsCles=developpeur", vec!["developpeur"]),
        ("motsCles=cuisine,hygiene", vec!["cuisine", "hygiene"]),
    ] {
        let offers = ft.all(query).await;
        assert!(!offers.is_empty(), "{query}");
        for o in offers {
            let texts: Vec<String> = ["intitule", "description", "romeLibelle"]
                .iter()
                .filter_map(|k| o[k].as_str().map(fold))
                .collect();
            assert!(
                words.iter().all(|w| texts.iter().any(|t| t.contains(w))),
                "{query}: {texts:?}"
            );
        }
    }

    let pick = &ft.all("departement=33").await[3];
    let created = pick["dateCreation"].as_str().expect("a date")[..19].to_owned() + "Z";
    let window = format!("minCreationDate={created}&maxCreationDate={created}");
    let same_second = ft.ids(&window).await;
    assert!(same_second.contains(&id(pick)), "bounds are inclusive");
    let week = format!(
        "minCreationDate={}&maxCreationDate={}",
        api_date(anchor() - Span::days(7)),
        api_date(anchor())
    );
    for o in ft.all(&week).await {
        let d = o["dateCreation"].as_str().expect("a date");
        assert!(
            ("2026-11-15T10:00:00.000Z"..="2026-11-22T10:00:00.000Z").contains(&d),
            "{d}"
        );
    }
}

/// The ids of `query` split by creation-date halves until each part fits the cap.
async fn collect_split(ft: &Ft, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut windows = vec![(anchor() - Span::days(100), anchor())];
    while let Some((min, max)) = windows.pop() {
        let q = format!(
            "{query}&minCreationDate={}&maxCreationDate={}",
            api_date(min),
            api_date(max)
        );
        let probe = ft.search(&format!("{q}&range=0-0")).await;
        if probe.status == 204 {
            continue;
        }
        if probe.total() > 3_150 {
            let mid = min + Span::seconds((max - min).num_seconds() / 2);
            windows.push((min, mid));
            windows.push((mid + Span::seconds(1), max));
            continue;
        }
        ids.extend(ft.all(&q).await.iter().map(id));
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_offers_need_splitting_and_the_parts_add_up() {
    let ft = Ft::start(config(42, DEFAULT_OFFERS, 0)).await;
    let all = ft.search("range=0-0").await;
    assert_eq!((all.status, all.total()), (206, 20_000));
    let paris = ft.search("departement=75&range=0-0").await.total();
    assert!(paris > 3_150, "Paris alone needs a split by date: {paris}");
    let past = ft.search("departement=75&range=3000-3149").await;
    assert_eq!(past.range, Some(format!("offres 3000-3149/{paris}")));

    let mut ids = Vec::new();
    for d in DEPARTEMENTS {
        ids.extend(collect_split(&ft, &format!("departement={}", d.code)).await);
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no offer in two parts");
    let every: HashSet<String> = ft
        .sb
        .ft_offer_ids("")
        .await
        .expect("ids")
        .into_iter()
        .collect();
    assert_eq!(every.len(), 20_000);
    assert_eq!(unique, every.iter().collect(), "the parts hold every offer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_than_the_rate_in_one_second_gets_429_with_retry_after() {
    let ft = Ft::start(config(5, 100, 10)).await;
    let burst = (0..15).map(|_| ft.search("range=0-0"));
    let answers = futures::future::join_all(burst).await;
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    let served = answers.iter().filter(|a| a.status == 206).count();
    assert_eq!(served + limited.len(), 15);
    assert!(served <= 10 && !limited.is_empty(), "{served} served");
    for a in limited {
        assert_eq!(a.retry_after.as_deref(), Some("1"));
        assert!(a.json()["message"].is_string());
    }
    assert_eq!(ft.sb.ft_search_times().len(), 15);

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for _ in 0..12 {
        let a = ft.search("range=0-0").await;
        assert_eq!(a.status, 206, "a client keeping to the rate is served");
        tokio::time::sleep(Duration::from_millis(110)).await;
    }
    let times = ft.sb.ft_search_times();
    assert_eq!(times.len(), 27);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_serves_the_same_offers() {
    let (a, b, c) = (
        Ft::start(config(6, 500, 0)).await,
        Ft::start(config(6, 500, 0)).await,
        Ft::start(config(7, 500, 0)).await,
    );
    assert_eq!(a.search("").await.json(), b.search("").await.json());
    let ids = a.sb.ft_offer_ids("").await.expect("ids");
    assert_eq!(ids, b.sb.ft_offer_ids("").await.expect("ids"));
    assert_ne!(ids, c.sb.ft_offer_ids("").await.expect("ids"));
    assert_eq!(a.sb.ft_anchor().await, anchor());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_detail_route_gives_the_offer_or_204() {
    let ft = Ft::start(config(8, 300, 0)).await;
    let offer = ft.search("range=42-42").await.results()[0].clone();
    let id = id(&offer);
    assert!(
        id.len() == 7
            && id
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    let detail = ft.get(&format!("/offres/{id}"), Some(&ft.token)).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json(), offer);
    let gone = ft.get("/offres/0000000", Some(&ft.token)).await;
    assert_eq!((gone.status, gone.text.as_str()), (204, ""));
    assert_eq!(ft.get(&format!("/offres/{id}"), None).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutate_changes_about_the_share_asked() {
    let ft = Ft::start(config(9, 1_000, 0)).await;
    let before: HashMap<String, Value> =
        ft.all("").await.into_iter().map(|o| (id(&o), o)).collect();
    let r = ft
        .http
        .post(format!("http://{}/sandbox/mutate?share=0.2", ft.sb.addr))
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status(), 200);
    let after = ft.all("").await;
    assert_eq!(after.len(), 1_000);
    let changed: Vec<&Value> = after.iter().filter(|o| before[&id(o)] != **o).collect();
    assert!(
        (140..=260).contains(&changed.len()),
        "{} changed",
        changed.len()
    );
    let newer = changed
        .iter()
        .filter(|o| o["dateActualisation"].as_str() > before[&id(o)]["dateActualisation"].as_str())
        .count();
    assert!(
        newer + 5 >= changed.len(),
        "{newer} of {} updated",
        changed.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_reach_the_france_travail_routes() {
    let config = SandboxConfig {
        faults: Faults {
            server_error: 1.0,
            ..Faults::default()
        },
        ..config(10, 50, 0)
    };
    let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts");
    let r = http()
        .post(sb.ft_auth_url())
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("an answer");
    assert!(matches!(r.status().as_u16(), 502 | 503), "{}", r.status());
}
