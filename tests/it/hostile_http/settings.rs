//! Settings that cannot work are refused by the parser: exit 2, saying what is allowed.

use crate::helpers::{Backend, TestDb, run, sagasync, stderr};

const NOWHERE: &str = "http://127.0.0.1:9";

/// Arguments, environment, and what the refusal must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn bad_timeouts_retries_and_caps_exit_2_saying_what_is_allowed() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else {
        return;
    };
    let timeout = "must be a number of seconds greater than 0";
    let cases: &[Case] = &[
        (&["sync-products", "--api-timeout", "0"], &[], timeout),
        (&["sync-products", "--api-timeout=-1"], &[], timeout),
        (&["sync-products", "--api-timeout", "NaN"], &[], timeout),
        (&["sync-products", "--api-timeout", "inf"], &[], timeout),
        (
            &["sync-categories"],
            &[("INVENTORY_API_TIMEOUT", "0")],
            timeout,
        ),
        (&["cerema", "sync", "--cerema-timeout", "0"], &[], timeout),
        (
            &["cerema", "sync"],
            &[("CEREMA_API_TIMEOUT", "-5")],
            timeout,
        ),
        (
            &["france-travail", "collect", "--ft-timeout", "0"],
            &[],
            timeout,
        ),
        (
            &["france-travail", "collect"],
            &[("FRANCE_TRAVAIL_API_TIMEOUT", "inf")],
            timeout,
        ),
        (
            &["sync-products", "--api-max-retries", "1000000"],
            &[],
            "must be a whole number of retries from 0 to 20",
        ),
        (
            &["cerema", "sync", "--cerema-max-retries", "99"],
            &[],
            "from 0 to 20",
        ),
        (
            &["sync-products", "--max-response-mb", "0"],
            &[],
            "must be a whole number of MiB from 1 to 4096",
        ),
        (
            &["sync-products"],
            &[("SAGASYNC_MAX_RESPONSE_MB", "0.5")],
            "from 1 to 4096",
        ),
    ];

    for (args, env, allowed) in cases {
        let mut cmd = sagasync(&db);
        // Should parsing ever let a bad value through, nothing leaves loopback (port 9:
        // nothing listens there).
        cmd.env("B2B_API_KEY", "b2c_1_never_used")
            .env("B2B_API_URL", NOWHERE)
            .env("CEREMA_API_URL", NOWHERE)
            .env("CEREMA_API_TOKEN", "never-used")
            .env("FRANCE_TRAVAIL_AUTH_URL", NOWHERE)
            .env("FRANCE_TRAVAIL_API_URL", NOWHERE)
            .env("FRANCE_TRAVAIL_CLIENT_ID", "never-used")
            .env("FRANCE_TRAVAIL_CLIENT_SECRET", "never-used")
            .args(*args);
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);

        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} {env:?}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(allowed),
            "{args:?} {env:?}: {}",
            stderr(&out)
        );
    }
}
