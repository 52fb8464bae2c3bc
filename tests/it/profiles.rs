//! Job-seeker profiles: the store's rules on every backend, and `sagasync profiles`.

use entity::prelude::*;
use entity::{account, account_token};
use sagasync::profiles::ProfileError;
use sagasync::profiles::store::{self, AccountInput, EducationInput, ExperienceInput, SkillInput};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;

use crate::helpers::{TestDb, assert_ok, run, run_with_stdin, sagasync, stderr, stdout};
use crate::on_every_backend;

pub const PASSWORD: &str = "a long enough passphrase";

pub fn person(email: &str) -> AccountInput {
    AccountInput {
        email: email.to_owned(),
        name: "Ana Lima".to_owned(),
        phone: Some("+33 6 12 34 56 78".to_owned()),
    }
}

fn experience(title: &str, rome: Option<&str>) -> ExperienceInput {
    ExperienceInput {
        id: None,
        title: title.to_owned(),
        employer: Some("Café des Arts".to_owned()),
        rome_code: rome.map(str::to_owned),
        start_date: "2021-03-01".to_owned(),
        end_date: Some("2023-06-30".to_owned()),
    }
}

fn skill(label: &str) -> SkillInput {
    SkillInput {
        id: None,
        label: label.to_owned(),
    }
}

async fn profiles_keep_one_account_per_email_and_each_row_to_its_owner(db: TestDb) {
    let conn = db.open().await;
    let ana = store::add_account(&conn, &person("Ana@Example.org"), None)
        .await
        .expect("created");
    assert_eq!(ana.email, "Ana@Example.org");
    // The store refuses the same email in another case...
    let again = store::add_account(&conn, &person("ana@EXAMPLE.org"), None).await;
    assert!(
        matches!(again, Err(ProfileError::EmailTaken(_))),
        "{again:?}"
    );
    // ...and so does the database, whatever the code does.
    let now = Instant(chrono::Utc::now());
    let raw = account::ActiveModel {
        email: Set("ANA@example.org".into()),
        email_key: Set("ana@example.org".into()),
        name: Set("Twin".into()),
        phone: Set(None),
        password_hash: Set(None),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&conn)
    .await;
    assert!(raw.is_err(), "the unique index refuses a second email_key");

    let bob = store::add_account(&conn, &person("bob@example.org"), None)
        .await
        .expect("created");
    let s = store::add_item::<ProfileSkill>(&conn, ana.id, &skill("Service en salle"))
        .await
        .expect("a skill");
    let e =
        store::add_item::<ProfileExperience>(&conn, ana.id, &experience("Serveuse", Some("g1803")))
            .await
            .expect("an experience");
    assert_eq!(e.rome_code.as_deref(), Some("G1803"));
    assert_eq!(e.start_date.to_string(), "2021-03-01");
    store::add_item::<ProfileEducation>(
        &conn,
        ana.id,
        &EducationInput {
            id: None,
            degree: "CAP Cuisine".into(),
            school: None,
            start_date: None,
            end_date: Some("2019-06-30".into()),
        },
    )
    .await
    .expect("an education entry");

    // Bob reaches none of Ana's rows by their ids.
    assert!(matches!(
        store::update_item::<ProfileSkill>(&conn, bob.id, s.id, &skill("Pirate")).await,
        Err(ProfileError::NoItem("skill", _))
    ));
    assert!(
        store::remove_item::<ProfileExperience>(&conn, bob.id, e.id)
            .await
            .is_err()
    );
    assert!(store::skills(&conn, bob.id).await.expect("read").is_empty());
    let p = store::profile(&conn, ana.id).await.expect("a profile");
    assert_eq!(p.skills[0].label, "Service en salle");
    assert_eq!((p.experiences.len(), p.education.len()), (1, 1));

    // A bad value is refused with its field named.
    let bad =
        store::add_item::<ProfileExperience>(&conn, ana.id, &experience("Cook", Some("chef")))
            .await;
    assert!(
        bad.expect_err("bad rome")
            .to_string()
            .starts_with("`rome_code` must be")
    );

    // Removing an account takes its rows and tokens with it.
    sagasync::profiles::auth::issue_token(&conn, ana.id, std::time::Duration::from_secs(60))
        .await
        .expect("a token");
    store::remove_account(&conn, ana.id).await.expect("removed");
    assert_eq!(ProfileSkill::find().count(&conn).await.expect("count"), 0);
    assert_eq!(
        ProfileExperience::find().count(&conn).await.expect("count"),
        0
    );
    assert_eq!(
        AccountToken::find()
            .filter(account_token::Column::AccountId.eq(ana.id))
            .count(&conn)
            .await
            .expect("count"),
        0
    );
}

fn json_of(db: &TestDb, args: &[&str]) -> Value {
    let out = run(sagasync(db).args(args));
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

async fn profiles_cli_manages_accounts_and_moves_profiles_as_json(db: TestDb) {
    // A password that breaks the rules is refused with the rules said.
    let out = run_with_stdin(
        sagasync(&db).args([
            "profiles",
            "add",
            "--email",
            "ana@example.org",
            "--name",
            "Ana",
        ]),
        "short\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("12 to 128 characters"),
        "{}",
        stderr(&out)
    );
    let out = run(sagasync(&db).args([
        "profiles",
        "add",
        "--email",
        "not-an-email",
        "--name",
        "Ana",
    ]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`email` must be an email address"),
        "{}",
        stderr(&out)
    );

    let out = run_with_stdin(
        sagasync(&db).args([
            "profiles",
            "add",
            "--email",
            "Ana@Example.org",
            "--name",
            "Ana Lima",
            "--phone",
            "0612345678",
        ]),
        &format!("{PASSWORD}\n"),
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains("created account 1 <Ana@Example.org>"),
        "{}",
        stdout(&out)
    );
    // The password is stored as an Argon2id hash only.
    let conn = db.open().await;
    let stored = Account::find()
        .one(&conn)
        .await
        .expect("read")
        .expect("the account");
    let hash = stored.password_hash.clone().expect("a hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));

    let list = json_of(&db, &["profiles", "list", "--format", "json"]);
    assert_eq!(list[0]["email"], "Ana@Example.org");
    assert!(!list.to_string().contains("argon2"), "{list}");

    // A profile exported, removed, and imported again holds the same things.
    {
        store::add_item::<ProfileSkill>(&conn, stored.id, &skill("Service en salle"))
            .await
            .expect("a skill");
        store::add_item::<ProfileExperience>(
            &conn,
            stored.id,
            &experience("Serveuse", Some("G1803")),
        )
        .await
        .expect("an experience");
    }
    let exported = json_of(&db, &["profiles", "export", "ana@example.org"]);
    assert_eq!(exported["skills"][0]["label"], "Service en salle");
    assert!(!exported.to_string().contains("argon2"), "{exported}");
    let file = db.dir().join("ana.json");
    std::fs::write(&file, exported.to_string()).expect("written");
    assert_ok(&run(
        sagasync(&db).args(["profiles", "remove", "1", "--yes"])
    ));
    let out = run(sagasync(&db).args(["profiles", "import", file.to_str().expect("a path")]));
    assert_ok(&out);
    let shown = json_of(
        &db,
        &["profiles", "show", "ana@example.org", "--format", "json"],
    );
    assert_eq!(shown["experiences"][0]["rome_code"], "G1803");
    assert_eq!(shown["skills"][0]["label"], "Service en salle");
    let again = run(sagasync(&db).args(["profiles", "import", file.to_str().expect("a path")]));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let out = run_with_stdin(
        sagasync(&db).args(["profiles", "import", "-"]),
        "{\"email\": 3}",
    );
    assert!(
        stderr(&out).contains("not a profile export"),
        "{}",
        stderr(&out)
    );

    // The imported account has no password until one is set.
    let id = shown["id"].to_string();
    // Even with every SQL statement logged (-vv), the password never shows.
    let out = run_with_stdin(
        sagasync(&db).args(["profiles", "set-password", &id, "-vv"]),
        &format!("{PASSWORD}\n"),
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("UPDATE"),
        "statements are logged at -vv"
    );
    assert!(!stderr(&out).contains(PASSWORD), "the password was logged");
    let out = run(sagasync(&db).args(["profiles", "disable", &id]));
    assert_ok(&out);
    let shown = json_of(&db, &["profiles", "show", &id, "--format", "json"]);
    assert_eq!(shown["disabled"], true);
    let out = run(sagasync(&db).args(["profiles", "show", "nobody@example.org"]));
    assert!(
        stderr(&out).contains("no account nobody@example.org"),
        "{}",
        stderr(&out)
    );
    let out = run(sagasync(&db).args(["profiles", "remove", &id]));
    assert!(stderr(&out).contains("add --yes"), "{}", stderr(&out));
}

on_every_backend!(
    profiles_keep_one_account_per_email_and_each_row_to_its_owner,
    profiles_cli_manages_accounts_and_moves_profiles_as_json,
);
