//! The profile store: accounts and their skills, experiences and education, with the
//! rule of each field (checked here, so the CLI and the API refuse the same values
//! with the same words).

use chrono::{NaiveDate, Utc};
use entity::prelude::*;
use entity::{account, account_token, profile_education, profile_experience, profile_skill};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Select, Set,
};
use serde::{Deserialize, Serialize};

/// Longest email (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Longest name, skill label, title, employer, degree or school.
pub const MAX_TEXT: usize = 200;
/// Most skills, experiences or education entries an account holds (each).
pub const MAX_ITEMS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A value breaks its rule; the message names the field and the rule.
    #[error("{0}")]
    Invalid(String),
    #[error("an account with the email {0} already exists")]
    EmailTaken(String),
    #[error("no account {0}: `sagasync profiles list` shows them")]
    NoAccount(String),
    #[error("no {0} {1} in this profile")]
    NoItem(&'static str, i32),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn invalid(msg: impl Into<String>) -> ProfileError {
    ProfileError::Invalid(msg.into())
}

/// The email as given (trimmed) and its key, lower-cased: one `@`, a local part, a
/// domain with a dot, no spaces, at most 254 characters.
pub fn email(s: &str) -> Result<(String, String), ProfileError> {
    let s = s.trim();
    let ok = s.len() <= MAX_EMAIL
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if !ok {
        return Err(invalid(format!(
            "`email` must be an email address (name@example.org, at most {MAX_EMAIL} characters), not {s:?}"
        )));
    }
    Ok((s.to_owned(), s.to_lowercase()))
}

/// A required text field: trimmed, 1 to [`MAX_TEXT`] characters, no control characters.
pub fn required(field: &str, s: &str) -> Result<String, ProfileError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(invalid(format!(
            "`{field}` is required (1 to {MAX_TEXT} characters)"
        )));
    }
    optional(field, Some(s)).map(|v| v.unwrap_or_default())
}

/// An optional text field: blank is none; else as [`required`].
pub fn optional(field: &str, s: Option<&str>) -> Result<Option<String>, ProfileError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`{field}` must be at most {MAX_TEXT} characters, without control characters"
        )));
    }
    Ok(Some(s.to_owned()))
}

/// A phone number: digits, spaces and `+ - . ( )`, 6 to 20 digits; blank is none.
pub fn phone(s: Option<&str>) -> Result<Option<String>, ProfileError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
        || !(6..=20).contains(&digits)
        || s.len() > 32
    {
        return Err(invalid(format!(
            "`phone` must be a phone number (6 to 20 digits, with spaces or + - . ( ) if you like), not {s:?}"
        )));
    }
    Ok(Some(s.to_owned()))
}

/// A ROME code (a letter and 4 digits), upper-cased; blank is none.
pub fn rome(s: Option<&str>) -> Result<Option<String>, ProfileError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    crate::skills::rome_code(s).map(Some).ok_or_else(|| {
        invalid(format!(
            "`rome_code` must be a ROME code (a letter and 4 digits, e.g. G1602), not {s:?}"
        ))
    })
}

/// A date `YYYY-MM-DD`; blank is none.
pub fn date(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, ProfileError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
        .map(Some)
        .ok_or_else(|| invalid(format!("`{field}` must be a date YYYY-MM-DD, not {s:?}")))
}

fn dates_in_order(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), ProfileError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(invalid(format!(
            "`end_date` ({e}) is before `start_date` ({s})"
        ))),
        _ => Ok(()),
    }
}

/// An account's own fields, as given (register, `profiles add`, `PUT /api/me`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A skill as given.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SkillInput {
    /// Ignored (an export's ids).
    #[serde(default, skip_serializing)]
    pub id: Option<i64>,
    pub label: String,
}

/// A work experience as given; dates as text so a bad one is named.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperienceInput {
    #[serde(default)]
    pub id: Option<i64>,
    pub title: String,
    #[serde(default)]
    pub employer: Option<String>,
    #[serde(default)]
    pub rome_code: Option<String>,
    pub start_date: String,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// An education entry as given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EducationInput {
    #[serde(default)]
    pub id: Option<i64>,
    pub degree: String,
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// An account as shown (`profiles list`, `GET /api/me`): never its password hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountView {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub disabled: bool,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl From<account::Model> for AccountView {
    fn from(a: account::Model) -> Self {
        AccountView {
            id: a.id,
            email: a.email,
            name: a.name,
            phone: a.phone,
            disabled: a.disabled,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An account with everything its profile holds: `profiles show`, `profiles export`.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    #[serde(flatten)]
    pub account: AccountView,
    pub skills: Vec<profile_skill::Model>,
    pub experiences: Vec<profile_experience::Model>,
    pub education: Vec<profile_education::Model>,
}

/// A profile as `profiles import` reads it: an export (ids and instants ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileImport {
    #[serde(default)]
    pub id: Option<i64>,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub skills: Vec<SkillInput>,
    #[serde(default)]
    pub experiences: Vec<ExperienceInput>,
    #[serde(default)]
    pub education: Vec<EducationInput>,
}

fn now() -> Instant {
    Instant(Utc::now())
}

/// Checked account fields: (email, email key, name, phone).
fn checked(input: &AccountInput) -> Result<(String, String, String, Option<String>), ProfileError> {
    let (email, key) = email(&input.email)?;
    let name = required("name", &input.name)?;
    let phone = phone(input.phone.as_deref())?;
    Ok((email, key, name, phone))
}

/// A duplicate key on insert or update, said as the email it is.
fn taken(e: DbErr, email: &str) -> ProfileError {
    let text = e.to_string().to_lowercase();
    if text.contains("unique") || text.contains("duplicate") {
        ProfileError::EmailTaken(email.to_owned())
    } else {
        ProfileError::Db(e)
    }
}

/// Creates an account; `password_hash` is an Argon2id PHC string (`auth::hash_password`)
/// or `None` (no login until `set_password`).
pub async fn add_account(
    db: &impl ConnectionTrait,
    input: &AccountInput,
    password_hash: Option<String>,
) -> Result<account::Model, ProfileError> {
    let (email, key, name, phone) = checked(input)?;
    if Account::find()
        .filter(account::Column::EmailKey.eq(&key))
        .one(db)
        .await?
        .is_some()
    {
        return Err(ProfileError::EmailTaken(email));
    }
    let t = now();
    account::ActiveModel {
        email: Set(email.clone()),
        email_key: Set(key),
        name: Set(name),
        phone: Set(phone),
        password_hash: Set(password_hash),
        disabled: Set(false),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| taken(e, &email))
}

/// Replaces an account's email, name and phone.
pub async fn update_account(
    db: &impl ConnectionTrait,
    id: i32,
    input: &AccountInput,
) -> Result<account::Model, ProfileError> {
    let (email, key, name, phone) = checked(input)?;
    let current = get_account(db, id).await?;
    if key != current.email_key
        && Account::find()
            .filter(account::Column::EmailKey.eq(&key))
            .one(db)
            .await?
            .is_some()
    {
        return Err(ProfileError::EmailTaken(email));
    }
    let mut row = current.into_active_model();
    row.email = Set(email.clone());
    row.email_key = Set(key);
    row.name = Set(name);
    row.phone = Set(phone);
    row.updated_at = Set(now());
    row.update(db).await.map_err(|e| taken(e, &email))
}

pub async fn get_account(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<account::Model, ProfileError> {
    Account::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ProfileError::NoAccount(id.to_string()))
}

/// The account of `email`, whatever its case.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<account::Model>, DbErr> {
    Account::find()
        .filter(account::Column::EmailKey.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

/// An account by id (digits) or email.
pub async fn resolve(
    db: &impl ConnectionTrait,
    which: &str,
) -> Result<account::Model, ProfileError> {
    if let Ok(id) = which.trim().parse::<i32>() {
        return get_account(db, id).await;
    }
    find_by_email(db, which)
        .await?
        .ok_or_else(|| ProfileError::NoAccount(which.trim().to_owned()))
}

pub async fn list_accounts(db: &impl ConnectionTrait) -> Result<Vec<account::Model>, DbErr> {
    Account::find()
        .order_by_asc(account::Column::Id)
        .all(db)
        .await
}

/// Deletes an account and everything it holds (the foreign keys cascade; the rows are
/// deleted here as well, so a backend without enforced keys keeps no orphans).
pub async fn remove_account(
    db: &DatabaseConnection,
    id: i32,
) -> Result<account::Model, ProfileError> {
    let txn = crate::db::begin_write(db).await?;
    let account = get_account(&txn, id).await?;
    ProfileSkill::delete_many()
        .filter(profile_skill::Column::AccountId.eq(id))
        .exec(&txn)
        .await?;
    ProfileExperience::delete_many()
        .filter(profile_experience::Column::AccountId.eq(id))
        .exec(&txn)
        .await?;
    ProfileEducation::delete_many()
        .filter(profile_education::Column::AccountId.eq(id))
        .exec(&txn)
        .await?;
    AccountToken::delete_many()
        .filter(account_token::Column::AccountId.eq(id))
        .exec(&txn)
        .await?;
    Account::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(account)
}

/// Sets the password hash and revokes every token of the account, in one transaction.
pub async fn set_password_hash(
    db: &DatabaseConnection,
    id: i32,
    hash: String,
) -> Result<account::Model, ProfileError> {
    let txn = crate::db::begin_write(db).await?;
    let mut row = get_account(&txn, id).await?.into_active_model();
    row.password_hash = Set(Some(hash));
    row.updated_at = Set(now());
    let account = row.update(&txn).await?;
    revoke_tokens(&txn, id).await?;
    txn.commit().await?;
    Ok(account)
}

/// Disables (or enables) an account; disabling revokes its tokens.
pub async fn set_disabled(
    db: &DatabaseConnection,
    id: i32,
    disabled: bool,
) -> Result<account::Model, ProfileError> {
    let txn = crate::db::begin_write(db).await?;
    let mut row = get_account(&txn, id).await?.into_active_model();
    row.disabled = Set(disabled);
    row.updated_at = Set(now());
    let account = row.update(&txn).await?;
    if disabled {
        revoke_tokens(&txn, id).await?;
    }
    txn.commit().await?;
    Ok(account)
}

/// Deletes every login token of the account.
pub async fn revoke_tokens(db: &impl ConnectionTrait, account_id: i32) -> Result<u64, DbErr> {
    Ok(AccountToken::delete_many()
        .filter(account_token::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Everything the account holds.
pub async fn profile(db: &impl ConnectionTrait, id: i32) -> Result<Profile, ProfileError> {
    let account = get_account(db, id).await?;
    Ok(Profile {
        skills: skills(db, id).await?,
        experiences: experiences(db, id).await?,
        education: education(db, id).await?,
        account: account.into(),
    })
}

/// One kind of item a profile holds (a skill, a work experience, an education entry):
/// its rules, its order and how a checked input becomes a row. Ownership, the cap and
/// the 404 are written once, in `items`, `add_item`, `update_item` and `remove_item`,
/// which the CLI, the import and the API share.
pub trait Item:
    EntityTrait<Model: IntoActiveModel<Self::ActiveModel> + Serialize + Send, ActiveModel: Send>
    + Send
    + Sync
    + 'static
{
    /// The item as a client gives it.
    type Input: serde::de::DeserializeOwned + Send + Sync;
    /// The input once checked.
    type Fields: Send;
    /// `skill`: what a missing one is called.
    const WHAT: &'static str;
    /// `skills`: what the cap counts.
    const PLURAL: &'static str;
    fn id() -> Self::Column;
    fn account_id() -> Self::Column;
    /// The order a profile lists them in (by id unless said otherwise).
    fn ordered(q: Select<Self>) -> Select<Self> {
        q.order_by_asc(Self::id())
    }
    fn check(input: &Self::Input) -> Result<Self::Fields, ProfileError>;
    fn create(account_id: i32, fields: Self::Fields) -> Self::ActiveModel;
    fn replace(row: &mut Self::ActiveModel, fields: Self::Fields);
}

impl Item for ProfileSkill {
    type Input = SkillInput;
    type Fields = String;
    const WHAT: &'static str = "skill";
    const PLURAL: &'static str = "skills";
    fn id() -> Self::Column {
        profile_skill::Column::Id
    }
    fn account_id() -> Self::Column {
        profile_skill::Column::AccountId
    }
    fn check(input: &SkillInput) -> Result<String, ProfileError> {
        required("label", &input.label)
    }
    fn create(account_id: i32, label: String) -> Self::ActiveModel {
        profile_skill::ActiveModel {
            account_id: Set(account_id),
            label: Set(label),
            created_at: Set(now()),
            ..Default::default()
        }
    }
    fn replace(row: &mut Self::ActiveModel, label: String) {
        row.label = Set(label);
    }
}

/// A checked work experience: title, employer, ROME code, start, end.
type ExperienceFields = (
    String,
    Option<String>,
    Option<String>,
    NaiveDate,
    Option<NaiveDate>,
);

impl Item for ProfileExperience {
    type Input = ExperienceInput;
    type Fields = ExperienceFields;
    const WHAT: &'static str = "experience";
    const PLURAL: &'static str = "experiences";
    fn id() -> Self::Column {
        profile_experience::Column::Id
    }
    fn account_id() -> Self::Column {
        profile_experience::Column::AccountId
    }
    /// The latest first.
    fn ordered(q: Select<Self>) -> Select<Self> {
        q.order_by_desc(profile_experience::Column::StartDate)
            .order_by_asc(profile_experience::Column::Id)
    }
    fn check(input: &ExperienceInput) -> Result<ExperienceFields, ProfileError> {
        let title = required("title", &input.title)?;
        let employer = optional("employer", input.employer.as_deref())?;
        let rome = rome(input.rome_code.as_deref())?;
        let start = date("start_date", Some(&input.start_date))?
            .ok_or_else(|| invalid("`start_date` is required (a date YYYY-MM-DD)"))?;
        let end = date("end_date", input.end_date.as_deref())?;
        dates_in_order(Some(start), end)?;
        Ok((title, employer, rome, start, end))
    }
    fn create(account_id: i32, fields: ExperienceFields) -> Self::ActiveModel {
        let mut row = profile_experience::ActiveModel {
            account_id: Set(account_id),
            ..Default::default()
        };
        Self::replace(&mut row, fields);
        row
    }
    fn replace(row: &mut Self::ActiveModel, (title, employer, rome, start, end): ExperienceFields) {
        row.title = Set(title);
        row.employer = Set(employer);
        row.rome_code = Set(rome);
        row.start_date = Set(start);
        row.end_date = Set(end);
    }
}

/// A checked education entry: degree, school, start, end.
type EducationFields = (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>);

impl Item for ProfileEducation {
    type Input = EducationInput;
    type Fields = EducationFields;
    const WHAT: &'static str = "education entry";
    const PLURAL: &'static str = "education entries";
    fn id() -> Self::Column {
        profile_education::Column::Id
    }
    fn account_id() -> Self::Column {
        profile_education::Column::AccountId
    }
    fn check(input: &EducationInput) -> Result<EducationFields, ProfileError> {
        let degree = required("degree", &input.degree)?;
        let school = optional("school", input.school.as_deref())?;
        let start = date("start_date", input.start_date.as_deref())?;
        let end = date("end_date", input.end_date.as_deref())?;
        dates_in_order(start, end)?;
        Ok((degree, school, start, end))
    }
    fn create(account_id: i32, fields: EducationFields) -> Self::ActiveModel {
        let mut row = profile_education::ActiveModel {
            account_id: Set(account_id),
            ..Default::default()
        };
        Self::replace(&mut row, fields);
        row
    }
    fn replace(row: &mut Self::ActiveModel, (degree, school, start, end): EducationFields) {
        row.degree = Set(degree);
        row.school = Set(school);
        row.start_date = Set(start);
        row.end_date = Set(end);
    }
}

/// The items of `account_id`, in their order.
pub async fn items<I: Item>(
    db: &impl ConnectionTrait,
    account_id: i32,
) -> Result<Vec<I::Model>, DbErr> {
    I::ordered(I::find().filter(I::account_id().eq(account_id)))
        .all(db)
        .await
}

pub async fn skills(
    db: &impl ConnectionTrait,
    account_id: i32,
) -> Result<Vec<profile_skill::Model>, DbErr> {
    items::<ProfileSkill>(db, account_id).await
}

pub async fn experiences(
    db: &impl ConnectionTrait,
    account_id: i32,
) -> Result<Vec<profile_experience::Model>, DbErr> {
    items::<ProfileExperience>(db, account_id).await
}

pub async fn education(
    db: &impl ConnectionTrait,
    account_id: i32,
) -> Result<Vec<profile_education::Model>, DbErr> {
    items::<ProfileEducation>(db, account_id).await
}

/// Adds an item to `account_id`'s profile, within the cap.
pub async fn add_item<I: Item>(
    db: &impl ConnectionTrait,
    account_id: i32,
    input: &I::Input,
) -> Result<I::Model, ProfileError> {
    let fields = I::check(input)?;
    let held = items::<I>(db, account_id).await?.len();
    if held >= MAX_ITEMS {
        return Err(invalid(format!(
            "a profile holds at most {MAX_ITEMS} {}: remove some first",
            I::PLURAL
        )));
    }
    Ok(I::create(account_id, fields).insert(db).await?)
}

/// Replaces the item `id` of `account_id` (another account's is not found).
pub async fn update_item<I: Item>(
    db: &impl ConnectionTrait,
    account_id: i32,
    id: i32,
    input: &I::Input,
) -> Result<I::Model, ProfileError> {
    let fields = I::check(input)?;
    let mut row = I::find()
        .filter(I::id().eq(id))
        .filter(I::account_id().eq(account_id))
        .one(db)
        .await?
        .ok_or(ProfileError::NoItem(I::WHAT, id))?
        .into_active_model();
    I::replace(&mut row, fields);
    Ok(row.update(db).await?)
}

/// Removes the item `id` of `account_id` (another account's is not found).
pub async fn remove_item<I: Item>(
    db: &impl ConnectionTrait,
    account_id: i32,
    id: i32,
) -> Result<(), ProfileError> {
    let gone = I::delete_many()
        .filter(I::id().eq(id))
        .filter(I::account_id().eq(account_id))
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(ProfileError::NoItem(I::WHAT, id));
    }
    Ok(())
}

/// Creates an account from an export, all or nothing; it has no password (the export
/// holds none): set one with `profiles set-password`.
pub async fn import(db: &DatabaseConnection, doc: &ProfileImport) -> Result<Profile, ProfileError> {
    for (what, n) in [
        ("skills", doc.skills.len()),
        ("experiences", doc.experiences.len()),
        ("education entries", doc.education.len()),
    ] {
        if n > MAX_ITEMS {
            return Err(invalid(format!(
                "a profile holds at most {MAX_ITEMS} {what}, this one {n}"
            )));
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let input = AccountInput {
        email: doc.email.clone(),
        name: doc.name.clone(),
        phone: doc.phone.clone(),
    };
    let account = add_account(&txn, &input, None).await?;
    for (i, s) in doc.skills.iter().enumerate() {
        add_item::<ProfileSkill>(&txn, account.id, s)
            .await
            .map_err(|err| in_item("skills", i, err))?;
    }
    for (i, e) in doc.experiences.iter().enumerate() {
        add_item::<ProfileExperience>(&txn, account.id, e)
            .await
            .map_err(|err| in_item("experiences", i, err))?;
    }
    for (i, e) in doc.education.iter().enumerate() {
        add_item::<ProfileEducation>(&txn, account.id, e)
            .await
            .map_err(|err| in_item("education", i, err))?;
    }
    if doc.disabled {
        let mut row = account.clone().into_active_model();
        row.disabled = Set(true);
        row.update(&txn).await?;
    }
    let p = profile(&txn, account.id).await?;
    txn.commit().await?;
    Ok(p)
}

/// An item's error in an import, saying which item.
fn in_item(list: &str, i: usize, e: ProfileError) -> ProfileError {
    match e {
        ProfileError::Invalid(m) => invalid(format!("{list}[{i}]: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_keyed_in_lower_case() {
        let ok = |s: &str, key: &str| assert_eq!(email(s).expect(s).1, key, "{s}");
        ok("Ana@Example.ORG", "ana@example.org");
        ok("  a.b+c@x.fr ", "a.b+c@x.fr");
        for bad in [
            "", "ana", "ana@", "@x.fr", "ana@x", "a b@x.fr", "a@b@x.fr", "a@.fr", "a@x.",
        ] {
            let e = email(bad).expect_err(bad).to_string();
            assert!(e.starts_with("`email` must be"), "{bad}: {e}");
        }
    }

    #[test]
    fn fields_say_their_rule() {
        assert!(required("name", " ").is_err());
        assert!(required("name", &"x".repeat(201)).is_err());
        assert_eq!(
            phone(Some(" +33 6 12 34 56 78")).expect("ok").as_deref(),
            Some("+33 6 12 34 56 78")
        );
        assert!(phone(Some("call me")).is_err());
        assert_eq!(rome(Some("g1602")).expect("ok").as_deref(), Some("G1602"));
        assert!(rome(Some("G16")).is_err());
        assert!(date("start_date", Some("2024-02-30")).is_err());
        assert!(date("start_date", Some("01/02/2024")).is_err());
        let e = ProfileExperience::check(&ExperienceInput {
            id: None,
            title: "Cook".into(),
            employer: None,
            rome_code: None,
            start_date: "2024-05-01".into(),
            end_date: Some("2023-01-01".into()),
        })
        .expect_err("end before start");
        assert!(e.to_string().contains("before `start_date`"), "{e}");
    }
}
