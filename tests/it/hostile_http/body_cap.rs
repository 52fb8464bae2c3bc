//! The body cap: an answer that never ends, or that announces more than the cap, stops
//! the request at once with an error naming the setting, and is not retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sagasync::b2b::B2bError;
use sagasync::http::{FetchError, HttpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{b2b, fast};
use crate::helpers::{Backend, run, run_on, sagasync, stderr};

const MIB: u64 = 1024 * 1024;

/// What a loopback server saw and did.
#[derive(Default)]
struct Tally {
    connections: AtomicU64,
    /// Body bytes written before the client went away.
    written: AtomicU64,
    /// The writer stopped (the client closed the connection).
    done: AtomicBool,
}

/// How the server answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// Status 200, chunked, JSON-looking chunks of 64 KiB forever.
    Endless,
    /// `Content-Length: 10 GiB`, a few bytes, then nothing while the connection lasts.
    Announced,
}

/// A one-purpose HTTP/1.1 server on 127.0.0.1: `http://{addr}` and what it saw.
async fn serve(answer: Answer) -> (String, Arc<Tally>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let tally = Arc::new(Tally::default());
    let seen = tally.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer_one(stream, answer, seen.clone()));
        }
    });
    (format!("http://{addr}"), tally)
}

async fn answer_one(mut stream: TcpStream, answer: Answer, tally: Arc<Tally>) {
    // The request head (these clients send no body with a GET).
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    match answer {
        Answer::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Transfer-Encoding: chunked\r\n\r\n";
            let chunk: Vec<u8> = b"[0"
                .iter()
                .chain(b",0".repeat(32 * 1024 - 1).iter())
                .copied()
                .collect();
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            while stream.write_all(&framed).await.is_ok() {
                tally
                    .written
                    .fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            tally.done.store(true, Ordering::SeqCst);
        }
        Answer::Announced => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Content-Length: 10737418240\r\n\r\n[";
            let _ = stream.write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
}

#[tokio::test]
async fn an_endless_answer_stops_at_the_cap_and_is_not_retried() {
    let (base, tally) = serve(Answer::Endless).await;
    let client = b2b(&base, 3).with_http_options(HttpOptions {
        max_response_bytes: MIB,
        ..fast()
    });

    let result = tokio::time::timeout(
        Duration::from_secs(20),
        client.categories("b2c/categories/"),
    )
    .await
    .expect("the request ends");

    let err = result.expect_err("over the cap");
    assert!(
        matches!(&err, B2bError::Fetch(FetchError::TooLarge { limit, .. }) if *limit == MIB),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(
            "the answer is larger than 1 MiB (SAGASYNC_MAX_RESPONSE_MB): stopped reading"
        ),
        "{err}"
    );
    assert_eq!(tally.connections.load(Ordering::SeqCst), 1, "not retried");
    // Reading stopped: the server's writes fail soon after, a few socket buffers past
    // the cap, not hundreds of MiB later.
    let waited = Instant::now();
    while !tally.done.load(Ordering::SeqCst) && waited.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        tally.done.load(Ordering::SeqCst),
        "the connection was closed"
    );
    let written = tally.written.load(Ordering::SeqCst);
    assert!(written < 32 * MIB, "{written} bytes sent before the stop");
}

#[tokio::test]
async fn an_answer_announced_over_the_cap_is_refused_before_reading() {
    let (base, tally) = serve(Answer::Announced).await;
    // The default cap (64 MiB), and a timeout the refusal must not wait for.
    let client = crate::helpers::b2b_client(&base, 3, 10_000).with_http_options(fast());
    let started = Instant::now();

    let err = client
        .categories("b2c/categories/")
        .await
        .expect_err("over the cap");

    assert!(
        matches!(&err, B2bError::Fetch(FetchError::TooLarge { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("larger than 64 MiB"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once, not after the timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(tally.connections.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn the_cap_is_read_from_sagasync_max_response_mb() {
    run_on(Backend::Sqlite, |db| async move {
        let (base, _tally) = serve(Answer::Endless).await;

        let out = tokio::task::spawn_blocking(move || {
            run(sagasync(&db)
                .env("CEREMA_API_URL", &base)
                .env("CEREMA_API_TOKEN", "t")
                .env("CEREMA_API_MAX_RETRIES", "2")
                .env("SAGASYNC_MAX_RESPONSE_MB", "2")
                .args(["cerema", "sync", "users"]))
        })
        .await
        .expect("the binary ran");

        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("larger than 2 MiB (SAGASYNC_MAX_RESPONSE_MB)"),
            "{}",
            stderr(&out)
        );
    })
    .await;
}
