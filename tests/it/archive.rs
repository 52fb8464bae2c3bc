//! The raw archive: pages written to a directory, and to a real S3-compatible server
//! (s3s-fs, served in-process on 127.0.0.1) through object_store.

use chrono::{TimeZone, Utc};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStore, ObjectStoreExt};
use sagasync::archive::{Archive, ArchiveError, ArchiveTarget, S3Settings, page_file_name};
use sagasync::secret::Secret;

pub(crate) const ACCESS_KEY: &str = "AKIATESTARCHIVE0001";
pub(crate) const SECRET_KEY: &str = "archive-test-secret-key-do-not-show";
const BUCKET: &str = "data-lake-brut";

fn page(n: u32) -> Vec<u8> {
    format!("{{\"resultats\":[{{\"id\":\"{n}\",\"intitule\":\"Développeur {n}\"}}]}}\n")
        .into_bytes()
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 7, 9, 5, 2)
        .single()
        .expect("a valid date")
}

/// An S3-compatible server on 127.0.0.1, storing under a temporary directory; stopped
/// when dropped.
pub(crate) struct S3Server {
    endpoint: String,
    pub(crate) root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Real S3 answers `NoSuchBucket` to a PUT into a missing bucket; s3s-fs would create
/// the directory, so this check runs first. It also keeps s3s's default: signed
/// requests only.
struct BucketsMustExist(std::path::PathBuf);

#[async_trait::async_trait]
impl s3s::access::S3Access for BucketsMustExist {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3s::s3_error!(AccessDenied, "Signature is required"));
        }
        match cx.s3_path().get_bucket_name() {
            Some(bucket) if !self.0.join(bucket).is_dir() => Err(s3s::s3_error!(NoSuchBucket)),
            _ => Ok(()),
        }
    }
}

impl S3Server {
    pub(crate) async fn start() -> S3Server {
        let root = tempfile::tempdir().expect("a temporary directory");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("an s3s-fs root");
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        builder.set_access(BucketsMustExist(root.path().to_owned()));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("a bound address");
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = ConnBuilder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        S3Server {
            endpoint: format!("http://{addr}"),
            root,
            task,
        }
    }

    /// The server's URL (`AWS_ENDPOINT_URL`).
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// s3s-fs keeps a bucket as a directory under its root.
    pub(crate) fn create_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).expect("a bucket directory");
    }

    pub(crate) fn settings(&self, access_key: &str, secret_key: &str) -> S3Settings {
        S3Settings {
            access_key_id: Some(Secret::new(access_key)),
            secret_access_key: Some(Secret::new(secret_key)),
            endpoint: Some(self.endpoint.clone()),
            ..S3Settings::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_written_to_a_directory_read_back_byte_for_byte() {
    // Arrange
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("raw").join("france_travail");
    let target = ArchiveTarget::parse(dir.to_str().expect("a UTF-8 path")).expect("a target");
    let archive = Archive::open(target, &S3Settings::default()).expect("the directory is created");
    let names = [1, 2].map(|p| page_file_name("développeur web", at(), p));

    // Act
    let mut written = Vec::new();
    for (n, name) in (1..).zip(&names) {
        written.push(
            archive
                .put(name, page(n))
                .await
                .expect("the page is written"),
        );
    }

    // Assert
    assert_eq!(archive.describe(), format!("directory {}", dir.display()));
    assert_eq!(
        names[0],
        "france_travail_developpeur_web_20250307_090502_p1.json"
    );
    assert_eq!(
        names[1],
        "france_travail_developpeur_web_20250307_090502_p2.json"
    );
    for (n, name) in (1..).zip(&names) {
        let path = dir.join(name);
        assert_eq!(written[n as usize - 1], path.display().to_string());
        assert_eq!(std::fs::read(&path).expect("the page is there"), page(n));
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    assert_eq!(files, names, "no temporary file is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_under_a_regular_file_is_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("a regular file");
    let dir = file.join("raw");

    let e = Archive::open(ArchiveTarget::Dir(dir.clone()), &S3Settings::default())
        .expect_err("a directory cannot live under a file");

    assert!(matches!(e, ArchiveError::CreateDir { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(msg.starts_with("cannot create archive directory"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_cannot_be_written_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("raw");
    let archive = Archive::open(ArchiveTarget::Dir(dir.clone()), &S3Settings::default())
        .expect("the directory is created");
    std::fs::remove_dir(&dir).expect("the directory goes away");
    std::fs::write(&dir, b"x").expect("a regular file in its place");
    let name = page_file_name("python", at(), 1);

    let e = archive
        .put(&name, page(1))
        .await
        .expect_err("nowhere to write");

    let msg = e.to_string();
    assert!(msg.starts_with("cannot write"), "{msg}");
    assert!(
        msg.contains(&dir.join(&name).display().to_string()),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_put_to_s3_land_under_the_prefix_byte_for_byte() {
    // Arrange
    let server = S3Server::start().await;
    server.create_bucket(BUCKET);
    let target =
        ArchiveTarget::parse(&format!("s3://{BUCKET}/raw/france_travail/")).expect("a target");
    let archive =
        Archive::open(target, &server.settings(ACCESS_KEY, SECRET_KEY)).expect("an S3 archive");
    let names = [1, 2].map(|p| page_file_name("data engineer", at(), p));

    // Act
    let mut written = Vec::new();
    for (n, name) in (1..).zip(&names) {
        written.push(
            archive
                .put(name, page(n))
                .await
                .expect("the page is stored"),
        );
    }

    // Assert
    assert_eq!(
        archive.describe(),
        format!("s3://{BUCKET}/raw/france_travail")
    );
    assert_eq!(
        written,
        [
            format!(
                "s3://{BUCKET}/raw/france_travail/france_travail_data_engineer_20250307_090502_p1.json"
            ),
            format!(
                "s3://{BUCKET}/raw/france_travail/france_travail_data_engineer_20250307_090502_p2.json"
            ),
        ]
    );
    let reader = AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .build()
        .expect("a reading client");
    let prefix = object_store::path::Path::from("raw/france_travail");
    let mut keys: Vec<String> = reader
        .list_with_delimiter(Some(&prefix))
        .await
        .expect("a listing")
        .objects
        .into_iter()
        .map(|o| o.location.to_string())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        names
            .iter()
            .map(|n| format!("raw/france_travail/{n}"))
            .collect::<Vec<_>>()
    );
    for (n, name) in (1..).zip(&names) {
        let key = object_store::path::Path::from(format!("raw/france_travail/{name}"));
        let body = reader
            .get(&key)
            .await
            .expect("the object")
            .bytes()
            .await
            .expect("its bytes");
        assert_eq!(body.as_ref(), page(n).as_slice());
        let on_disk = server
            .root
            .path()
            .join(BUCKET)
            .join("raw/france_travail")
            .join(name);
        assert_eq!(std::fs::read(on_disk).expect("the server's file"), page(n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_prefix_puts_pages_at_the_bucket_root() {
    let server = S3Server::start().await;
    server.create_bucket(BUCKET);
    let archive = Archive::open(
        ArchiveTarget::parse(&format!("s3://{BUCKET}")).expect("a target"),
        &server.settings(ACCESS_KEY, SECRET_KEY),
    )
    .expect("an S3 archive");
    let name = page_file_name("", at(), 1);

    let url = archive
        .put(&name, page(1))
        .await
        .expect("the page is stored");

    assert_eq!(
        url,
        format!("s3://{BUCKET}/france_travail_all_20250307_090502_p1.json")
    );
    assert_eq!(archive.describe(), format!("s3://{BUCKET}"));
    let on_disk = server.root.path().join(BUCKET).join(&name);
    assert_eq!(std::fs::read(on_disk).expect("the server's file"), page(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_readable_error_without_the_secret() {
    let server = S3Server::start().await;
    server.create_bucket(BUCKET);
    let wrong_secret = "wrong-secret-that-must-not-show";
    let archive = Archive::open(
        ArchiveTarget::parse(&format!("s3://{BUCKET}/raw")).expect("a target"),
        &server.settings(ACCESS_KEY, wrong_secret),
    )
    .expect("an S3 archive");

    let e = archive
        .put(&page_file_name("python", at(), 1), page(1))
        .await
        .expect_err("the server refuses the signature");

    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot write s3://{BUCKET}/raw/france_travail_python_"
        )),
        "{msg}"
    );
    assert!(msg.contains("AWS_SECRET_ACCESS_KEY"), "{msg}");
    for secret in [wrong_secret, SECRET_KEY, ACCESS_KEY] {
        assert!(!msg.contains(secret), "{msg}");
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_access_key_is_a_readable_error_without_the_key() {
    let server = S3Server::start().await;
    server.create_bucket(BUCKET);
    let archive = Archive::open(
        ArchiveTarget::parse(&format!("s3://{BUCKET}")).expect("a target"),
        &server.settings("AKIAUNKNOWNKEY000000", SECRET_KEY),
    )
    .expect("an S3 archive");

    let e = archive
        .put(&page_file_name("python", at(), 1), page(1))
        .await
        .expect_err("the server does not know the key");

    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("cannot write s3://{BUCKET}/")),
        "{msg}"
    );
    assert!(!msg.contains("AKIAUNKNOWNKEY000000"), "{msg}");
    assert!(!msg.contains(SECRET_KEY), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_a_readable_error() {
    let server = S3Server::start().await;
    let archive = Archive::open(
        ArchiveTarget::parse("s3://no-such-bucket/raw").expect("a target"),
        &server.settings(ACCESS_KEY, SECRET_KEY),
    )
    .expect("an S3 archive");

    let e = archive
        .put(&page_file_name("python", at(), 1), page(1))
        .await
        .expect_err("there is no bucket");

    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot write s3://no-such-bucket/raw/"),
        "{msg}"
    );
    assert!(msg.contains("NoSuchBucket"), "{msg}");
    assert!(!msg.contains(SECRET_KEY), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_is_not_one_plain_file_name_is_refused() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let archive = Archive::open(
        ArchiveTarget::Dir(tmp.path().join("raw")),
        &S3Settings::default(),
    )
    .expect("the directory is created");

    for name in [
        "",
        ".",
        "..",
        "../escape.json",
        "a/b.json",
        "a\\b.json",
        "a\nb.json",
    ] {
        let e = archive.put(name, page(1)).await.expect_err("a bad name");
        assert!(
            matches!(e, ArchiveError::InvalidName { .. }),
            "{name:?}: {e:?}"
        );
    }
    assert!(!tmp.path().join("escape.json").exists());
}

#[test]
fn settings_read_the_aws_names_first_then_the_collectors_names() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let expose = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned());

    let old = S3Settings::from_lookup(vars(&[
        ("KEY_ACCESS", "old-id"),
        ("KEY_SECRET", "old-secret"),
        ("AWS_DEFAULT_REGION", "eu-west-3"),
        ("data_lake_bucket", "data-lake-brut"),
    ]));
    let new = S3Settings::from_lookup(vars(&[
        ("AWS_ACCESS_KEY_ID", "new-id"),
        ("KEY_ACCESS", "old-id"),
        ("AWS_SECRET_ACCESS_KEY", "new-secret"),
        ("KEY_SECRET", "old-secret"),
        ("AWS_SESSION_TOKEN", " "),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-3"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
    ]));

    assert_eq!(expose(&old.access_key_id).as_deref(), Some("old-id"));
    assert_eq!(
        expose(&old.secret_access_key).as_deref(),
        Some("old-secret")
    );
    assert_eq!(old.region.as_deref(), Some("eu-west-3"));
    assert_eq!(old.default_bucket.as_deref(), Some("data-lake-brut"));
    assert!(old.endpoint.is_none() && old.session_token.is_none());
    assert_eq!(expose(&new.access_key_id).as_deref(), Some("new-id"));
    assert_eq!(
        expose(&new.secret_access_key).as_deref(),
        Some("new-secret")
    );
    assert_eq!(new.region.as_deref(), Some("eu-west-1"));
    assert_eq!(new.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert!(new.session_token.is_none(), "a blank value counts as unset");
    let debug = format!("{new:?}");
    assert!(
        !debug.contains("new-secret") && !debug.contains("new-id"),
        "{debug}"
    );
}

#[test]
fn half_a_key_pair_is_refused_without_showing_it() {
    let settings = S3Settings {
        access_key_id: Some(Secret::new("AKIAHALFAPAIR0000000")),
        ..S3Settings::default()
    };
    let target = ArchiveTarget::parse("s3://lake/raw").expect("a target");

    let e = Archive::open(target, &settings).expect_err("no secret key");

    let msg = e.to_string();
    assert!(msg.starts_with("cannot configure s3://lake"), "{msg}");
    assert!(msg.contains("AWS_SECRET_ACCESS_KEY"), "{msg}");
    assert!(!msg.contains("AKIAHALFAPAIR0000000"), "{msg}");
}
